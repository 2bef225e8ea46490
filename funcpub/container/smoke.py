"""The smoke import inside a container of the build image, when this machine cannot run it.

The emulator's Functions host starts its worker as `<python> -I -S -B worker_main.py <wwwroot>
<worker_dir>`. Here `<python>` is a small script that runs `funcpub.container.worker_proxy`: it
copies those paths into a container of the image (at the same absolute paths), runs `python3`
there with `exec`, and relays stdin, stdout and stderr, so the real worker indexes the app with
the image's interpreter. The container has no network and is removed afterwards. The image is
made as the build makes it when it is missing: a cache hit of the dependencies needs no image,
which may have been removed since.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from funcpub.build.base import BuildReporter
from funcpub.container.engine import connect
from funcpub.container.images import ensure_image
from funcpub.container.lifecycle import build_container
from funcpub.container.spec import ImageSpec


@contextmanager
def container_python(
    spec: ImageSpec, scratch: Path, reporter: BuildReporter, *, why: str
) -> Iterator[str]:
    """An executable that stands for `python3` in a container of the build image (POSIX hosts).

    `why` the host's own interpreter cannot run the smoke import, for the run's output. The
    build renewed the image already when `--pull` asked, so here a present image is kept.
    """
    reporter.step(f"smoke import: {why}; using a container of {spec.tag}")
    with connect() as client:
        image = ensure_image(client, dataclasses.replace(spec, pull=False), reporter)
        with build_container(client, image, network="none", reporter=reporter) as container:
            yield _proxy(container.id, scratch)


def _proxy(container: str, scratch: Path) -> str:
    """A script that runs `python3` in `container` with its arguments."""
    scratch.mkdir(parents=True, exist_ok=True)
    proxy = scratch / "container-python"
    command = (sys.executable, "-m", "funcpub.container.worker_proxy", container)
    proxy.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n', encoding="utf-8")
    proxy.chmod(0o755)
    return str(proxy)
