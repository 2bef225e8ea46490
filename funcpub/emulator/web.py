"""The emulator's HTTP plumbing: TLS servers in daemon threads, responses, fault middleware."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from funcpub.emulator.faults import FaultRule, Faults, Role

LOG: Final = logging.getLogger("funcpub.emulator")
HOST: Final = "127.0.0.1"
BACKLOG: Final = 128
POLL_INTERVAL: Final = 0.1  # seconds a stop() may wait for the serving loop to notice

Handler = Callable[[Request], Response]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON body, the way ARM and Kudu send it."""
    return Response(
        json.dumps(data),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json; charset=utf-8",
    )


def text_response(text: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        text, status=status, headers=dict(headers or {}), content_type="text/plain; charset=utf-8"
    )


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> Response:
    """No body at all (e.g. the App Service front end's 401)."""
    response = Response(b"", status=status, headers=dict(headers or {}))
    response.headers.pop("Content-Type", None)
    return response


def request_ids() -> dict[str, str]:
    """Correlation headers every Azure front end adds."""
    request_id = str(uuid.uuid4())
    return {"x-ms-request-id": request_id, "x-ms-correlation-request-id": request_id}


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class _QuietHandler(WSGIRequestHandler):
    """Request logs go to the `funcpub.emulator` logger; library code never prints."""

    def log(self, type: str, message: str, *args: Any) -> None:
        LOG.debug("%s %s", type, message % args if args else message)


class _Server(ThreadedWSGIServer):
    def log(self, type: str, message: str, *args: Any) -> None:
        LOG.debug("%s %s", type, message % args if args else message)


def _listen(port: int) -> socket.socket:
    """A listening socket on `port`, or on a free port when it is taken (or 0)."""
    for candidate in dict.fromkeys((port, 0)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, candidate))
        except OSError:
            sock.close()
            continue
        sock.listen(BACKLOG)
        return sock
    msg = f"cannot listen on {HOST}:{port} nor on a free port"
    raise OSError(msg)


class ServerThread:
    """One werkzeug TLS server on 127.0.0.1, bound at once, served from a daemon thread
    once `start()` is called."""

    def __init__(self, app: WsgiApp, *, port: int, ssl_context: Any, name: str) -> None:
        listener = _listen(port)
        try:
            self._server = _Server(
                HOST,
                listener.getsockname()[1],
                app,
                handler=_QuietHandler,
                ssl_context=ssl_context,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # the server works on its own duplicate of the descriptor
        self.port: int = self._server.server_address[1]
        self.name = name
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"emulator-{name}",
            daemon=True,
        )

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    @property
    def host(self) -> str:
        """The `host:port` clients use (ARM reports it as a host name)."""
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def stop_all(servers: Iterable[ServerThread]) -> None:
    """Stop servers in parallel (each waits up to a poll interval)."""
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wsgi(
    handler: Handler,
    *,
    faults: Faults,
    role: Callable[[Request], Role | None],
    site: str | None = None,
) -> WsgiApp:
    """A WSGI app around `handler` that applies fault rules and turns crashes into 500s."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = _respond(request, handler, faults, role(request), site)
        finally:
            request.close()  # uploaded multipart files are spooled to temporary files
        if response is None:
            return []
        return response(environ, start_response)

    return application


def _respond(
    request: Request, handler: Handler, faults: Faults, role: Role | None, site: str | None
) -> Response | None:
    rule = None if role is None else faults.take(role, request.method, request.path, site)
    if rule is not None:
        faulted = _apply(rule, request)
        if faulted is not None or rule.drop:
            return faulted
    try:
        return handler(request)
    except Exception:
        LOG.exception("unhandled error for %s %s", request.method, request.path)
        return text_response("An unexpected error occurred in the funcpub emulator.", 500)


def _apply(rule: FaultRule, request: Request) -> Response | None:
    """Sleep, then drop the connection (None), answer the rule's response, or pass (None)."""
    if rule.delay > 0:
        time.sleep(rule.delay)
    if rule.drop:
        _drop(request)
        return None
    if rule.status is None:
        return None
    response = Response(rule.body, status=rule.status, headers=dict(rule.headers))
    if "Content-Type" not in rule.headers and rule.body:
        response.content_type = "text/plain; charset=utf-8"
    return response


def _drop(request: Request) -> None:
    """Close the client's connection without a response."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
