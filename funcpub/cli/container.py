"""The docker build's options, shared by `pack` and `publish`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Dockerfile = Annotated[
    Path | None,
    typer.Option(
        "--dockerfile",
        help="Docker builds: build the image from this Dockerfile [default: funcpub's own].",
    ),
]
Image = Annotated[
    str | None,
    typer.Option("--image", help="Docker builds: install in this prebuilt image (no build)."),
]
BaseImage = Annotated[
    str | None,
    typer.Option(
        "--base-image",
        help="Docker builds: the Dockerfile's BASE_IMAGE [default: Azure's Python build image].",
    ),
]
Pull = Annotated[
    bool,
    typer.Option(
        "--pull",
        help="Docker builds: pull the base image (or --image), rebuild it and the dependencies.",
    ),
]
Network = Annotated[
    str | None,
    typer.Option("--network", help="Docker builds: the container's network; none builds offline."),
]


def docker_values(
    *,
    dockerfile: Path | None,
    image: str | None,
    base_image: str | None,
    pull: bool,
    network: str | None,
) -> dict[str, str | None]:
    """The docker options as configuration keys (None: not given here)."""
    return {
        "dockerfile": None if dockerfile is None else str(dockerfile),
        "image": image,
        "base-image": base_image,
        "pull": "true" if pull else None,
        "docker-network": network,
    }
