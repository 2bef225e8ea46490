"""The docker build's install: pip inside a linux/amd64 container of the build image.

The requirements and the local files they reference go in as a tar stream; the installed
`.python_packages` comes back out the same way into the staging folder, owned by this user.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from funcpub.build.base import BuildReporter
from funcpub.build.tools import STEP_TIMEOUT, failure_message
from funcpub.container.engine import connect
from funcpub.container.images import ensure_image
from funcpub.container.inputs import container_inputs
from funcpub.container.lifecycle import BuildContainer, build_container
from funcpub.container.spec import APP, OUTPUT, PLATFORM, PYTHON, image_spec, install_argv
from funcpub.errors import BuildError, ContainerError
from funcpub.strategies.base import PYTHON_PACKAGES, BuildRequest

PIP_ENVIRONMENT: Final = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_WARN_SCRIPT_LOCATION": "1",
    "PYTHONUNBUFFERED": "1",
}
INSTALL_HINT: Final = (
    "check requirements.txt, the index settings and the image's build tools (a missing "
    "system library: use --dockerfile with a BASE_IMAGE that has it); -v shows the full output"
)


def install_in_container(
    request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
) -> str:
    """Install the requirements into `<staging>/.python_packages`; return the image used."""
    assert request.requirements is not None
    version = request.target.python_version
    spec = image_spec(version, request.docker)
    inputs = container_inputs(root, request.requirements, os.environ)
    for secret in inputs.secrets:
        reporter.secret(secret)
    with connect() as client:
        image = ensure_image(client, spec, reporter)
        reporter.step(f"installing dependencies in a {PLATFORM} container of {image}")
        with build_container(
            client,
            image,
            network=request.docker.network,
            reporter=reporter,
            secrets=inputs.secrets,
        ) as container:
            _check_python(container, image, version)
            container.put(inputs.files, inputs.texts)
            result = container.run(
                install_argv(inputs.requirements),
                workdir=f"/{APP}",
                environment={**inputs.environment, **PIP_ENVIRONMENT},
                timeout=STEP_TIMEOUT,
            )
            if not result.ok:
                what = "installing the requirements in the build container failed"
                raise BuildError(failure_message(what, result), hint=INSTALL_HINT)
            container.get(f"{OUTPUT}/{PYTHON_PACKAGES}", staging)
    return image


def _check_python(container: BuildContainer, image: str, version: str) -> None:
    """ContainerError unless the image's `python3` is the app's Python version."""
    probe = (PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    result = container.run(probe, workdir="/", timeout=60, quiet=True)
    found = result.tail[-1] if result.ok and result.tail else None
    if found == version:
        return
    has = f"Python {found}" if found else f"no working {PYTHON} ({result.tail_text(5)})"
    msg = f"the image {image} has {has}; the app needs Python {version}"
    raise ContainerError(msg, hint="use an image (or BASE_IMAGE) of the app's Python version")
