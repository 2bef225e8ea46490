"""Azurite, the official Azure Storage emulator, as the storage account of emulated apps.

`scripts/azurite-setup` installs the npm package `azurite` into the CI cache and `scripts/test`
exports its `azurite-blob` launcher as AZURITE_BLOB_LAUNCHER. One Azurite per test session serves
HTTPS with a certificate from a CA shared with every `storage_emulator`, so the emulated
sites (and funcpub, through REQUESTS_CA_BUNDLE) trust real `https://` SAS URLs, and it runs
with `--oauth basic`, accepting the Entra tokens the emulator issues for
https://storage.azure.com. Without Azurite the tests are skipped, except under CI=true, where
they fail: CI must run them.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from funcpub.emulator import Emulator
from funcpub.emulator.tls import ensure_tls, tls_files

LAUNCHER_ENV: Final = "AZURITE_BLOB_LAUNCHER"
ACCOUNT: Final = "devstoreaccount1"
# Azurite's published development key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
ACCOUNT_KEY: Final = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT: Final = 60.0
_LISTENING = re.compile(r"listens on https://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True, kw_only=True)
class Azurite:
    """A running Azurite blob service."""

    blob_endpoint: str  # https://127.0.0.1:<port>/devstoreaccount1

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def identity_settings(self) -> dict[str, str]:
        """Identity-based AzureWebJobsStorage (no key anywhere)."""
        return {
            "AzureWebJobsStorage__accountName": ACCOUNT,
            "AzureWebJobsStorage__blobServiceUri": self.blob_endpoint,
            "AzureWebJobsStorage__credential": "managedidentity",
        }


def find_launcher() -> str | None:
    """The `azurite-blob` launcher: AZURITE_BLOB_LAUNCHER, the CI cache, or the PATH."""
    if configured := os.environ.get(LAUNCHER_ENV):
        return configured if Path(configured).is_file() else None
    cache = Path(os.environ.get("FUNCPUB_CI_CACHE", Path.home() / ".cache" / "funcpub-ci"))
    cached = cache / "azurite" / "node_modules" / ".bin" / "azurite-blob"
    return str(cached) if cached.is_file() else shutil.which("azurite-blob")


def _missing() -> None:
    reason = "Azurite is not installed: run scripts/azurite-setup (npm package azurite)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; CI must run the storage tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA and server certificate for Azurite and every storage emulator."""
    directory = tmp_path_factory.mktemp("tls")
    ensure_tls(directory)
    return directory


def _wait_for_port(process: subprocess.Popen[str]) -> int:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            break
        if not line:
            break
        seen.append(line)
        if match := _LISTENING.search(line):
            return int(match.group(1))
    process.kill()
    pytest.fail("Azurite did not start:\n" + "".join(seen[-20:]))


@pytest.fixture(scope="session")
def azurite(shared_tls: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A session-wide Azurite blob service over HTTPS, with OAuth."""
    launcher = find_launcher()
    if launcher is None:
        _missing()
        raise AssertionError  # pragma: no cover - skip/fail raise
    files = tls_files(shared_tls)
    argv = [
        *(launcher, "--blobHost", "127.0.0.1", "--blobPort", "0"),
        *("--cert", str(files.server_cert), "--key", str(files.server_key)),
        *("--oauth", "basic", "--skipApiVersionCheck", "--loose", "--disableTelemetry"),
        *("--inMemoryPersistence", "--extentMemoryLimit", "256"),
    ]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path_factory.mktemp("azurite"),
    )
    try:
        port = _wait_for_port(process)
        yield Azurite(blob_endpoint=f"https://127.0.0.1:{port}/{ACCOUNT}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def storage_emulator(tmp_path: Path, shared_tls: Path) -> Iterator[Emulator]:
    """An emulator whose CA also signed Azurite's certificate."""
    data_dir = tmp_path / "emulator"
    shutil.copytree(shared_tls, data_dir / "tls")
    with Emulator(data_dir) as running:
        yield running
