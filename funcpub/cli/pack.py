"""`funcpub pack`: build the dependencies and write a reproducible zip, without deploying."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from funcpub.cli.building import (
    BuildChoices,
    CacheTtl,
    NoCache,
    Refresh,
    Smoke,
    Verbose,
    WritePythonPackages,
    built_package,
    cache_policy,
    check_build_choices,
    write_package,
)
from funcpub.cli.common import (
    AppDir,
    Installer,
    JsonFlag,
    PythonVersion,
    make_console,
    prepare,
    require_valid,
)
from funcpub.cli.container import BaseImage, Dockerfile, Image, Network, Pull, docker_values
from funcpub.cli.render import render_artifact
from funcpub.console import Console
from funcpub.errors import ConfigError
from funcpub.ignore import FileSelection

Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Zip to write [default: ./<app folder name>.zip]."),
]
Build = Annotated[
    str | None,
    typer.Option("--build", "-b", help="How dependencies get in: local, docker or none."),
]
ListIncluded = Annotated[
    bool, typer.Option("--list-included", help="List the files that would ship, then stop.")
]
ListIgnored = Annotated[
    bool, typer.Option("--list-ignored", help="List the files left out, then stop.")
]


def _list(console: Console, paths: list[str], *, json_output: bool) -> None:
    if json_output:
        console.json(paths)
        return
    for path in paths:
        console.line(path)


def _without_output(selection: FileSelection, output: Path) -> FileSelection:
    """Leave a previous package out of the next one when it is written inside the app."""
    kept = tuple(item for item in selection.included if item.source != output)
    return FileSelection(root=selection.root, included=kept, ignored=selection.ignored)


def pack(
    ctx: typer.Context,
    app_dir: AppDir = Path(),
    build: Build = None,
    output: Output = None,
    list_included: ListIncluded = False,
    list_ignored: ListIgnored = False,
    json_output: JsonFlag = False,
    python_version: PythonVersion = None,
    installer: Installer = None,
    smoke: Smoke = None,
    write_python_packages: WritePythonPackages = False,
    verbose: Verbose = False,
    no_cache: NoCache = False,
    refresh: Refresh = False,
    cache_ttl: CacheTtl = "24h",
    dockerfile: Dockerfile = None,
    image: Image = None,
    base_image: BaseImage = None,
    pull: Pull = False,
    network: Network = None,
) -> None:
    """Write the deployment zip: exactly the files that ship, byte-for-byte reproducible."""
    console = make_console(ctx, json_mode=json_output)
    if list_included and list_ignored:
        msg = "--list-included and --list-ignored cannot be combined"
        raise ConfigError(msg, hint="run pack once with each")
    cli = {
        "build": build,
        "python-version": python_version,
        "installer": installer,
        **docker_values(
            dockerfile=dockerfile, image=image, base_image=base_image, pull=pull, network=network
        ),
    }
    loaded = prepare("pack", app_dir, cli, console)
    choices = BuildChoices(
        smoke=smoke,
        write_python_packages=write_python_packages,
        verbose=verbose,
        cache=cache_policy(no_cache=no_cache, refresh=refresh, cache_ttl=cache_ttl),
    )
    check_build_choices(choices, loaded.options.build)
    destination = (output or Path(f"{loaded.project.root.name}.zip")).resolve()
    selection = _without_output(loaded.selection, destination)
    if list_included or list_ignored:
        paths = (
            [f.relpath for f in selection.included] if list_included else list(selection.ignored)
        )
        _list(console, paths, json_output=json_output)
        return
    require_valid(loaded.report.findings, console, undone="nothing was packed")
    for finding in loaded.report.warnings:
        console.warn(f"{finding.code} {finding.message}")
    with built_package(loaded.project, loaded.options, selection, console, choices) as staged:
        console.step(f"writing {destination} ({len(staged.files)} files)")
        artifact = write_package(staged, destination, console)
    console.set_outputs({"package-sha256": artifact.sha256})
    if json_output:
        console.json(asdict(artifact) | {"path": str(artifact.path)})
    else:
        console.result(render_artifact(artifact))
