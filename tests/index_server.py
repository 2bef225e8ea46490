"""A private package index on 127.0.0.1: the wheelhouse as a PEP 503 simple index behind Basic
auth, so that a build or a lock only succeeds when the index credentials reached the installer.
"""

from __future__ import annotations

import base64
import hashlib
import html
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename


def _project(filename: str) -> str:
    if filename.endswith(".whl"):
        return canonicalize_name(parse_wheel_filename(filename)[0])
    return canonicalize_name(parse_sdist_filename(filename)[0])


class _Index(BaseHTTPRequestHandler):
    server: _IndexServer

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        if self.headers.get("Authorization") != self.server.authorization:
            self.send_response(HTTPStatus.UNAUTHORIZED)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            body = b""
        elif (found := self._body()) is None:
            self.send_response(HTTPStatus.NOT_FOUND)
            body = b""
        else:
            self.send_response(HTTPStatus.OK)
            content_type, body = found
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def _body(self) -> tuple[str, bytes] | None:
        """The simple index's pages (every project, one project's files) and the files."""
        parts = [part for part in self.path.split("?", 1)[0].split("/") if part]
        files = self.server.files
        if parts == ["simple"]:
            names = sorted({_project(name) for name in files})
            return "text/html", _page(f'<a href="{n}/">{n}</a>' for n in names)
        if len(parts) == 2 and parts[0] == "simple":
            project = canonicalize_name(parts[1])
            links = [
                f'<a href="../../files/{name}#sha256={digest}">{html.escape(name)}</a>'
                for name, (digest, _path) in files.items()
                if _project(name) == project
            ]
            return ("text/html", _page(links)) if links else None
        if len(parts) == 2 and parts[0] == "files" and parts[1] in files:
            return "application/octet-stream", files[parts[1]][1].read_bytes()
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read this process's stderr."""


def _page(links: Iterable[str]) -> bytes:
    return ("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n").encode()


class _IndexServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path, user: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _Index)
        self.files = {
            path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path)
            for path in sorted(folder.iterdir())
            if path.name.endswith((".whl", ".tar.gz"))
        }
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = f"Basic {token}"


@contextmanager
def private_index(folder: Path, user: str, password: str) -> Iterator[str]:
    """Serve `folder`'s distributions; yields the index URL with the credentials in it."""
    server = _IndexServer(folder, user, password)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{user}:{password}@127.0.0.1:{server.server_port}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
