"""Time funcpub's local build and pack against plain pip/uv + `zip -r -6`, side by side.

    .venv/bin/python benchmarks/build_and_pack.py [--json] [--keep DIR]

Builds a reference app (azure-functions, requests, numpy, pandas, azure-storage-blob, pydantic)
for Azure's Linux x86_64 / Python 3.11 and prints wall time and peak RSS for:

- funcpub cold build + pack, with uv (the default) and with `--installer pip`;
- funcpub warm rebuild after editing one source file (dependency cache hit), the median of
  `WARM_RUNS` runs; again with the smoke import (funcpub's default; the peers have nothing like
  it) when this Python is the target's 3.11;
- plain `pip install --target … --platform …` then `zip -r -6`, and the same with uv;
- pack alone: funcpub's writer against `zip -r -6` on the same tree, and on a large app of
  `LARGE_APP_FILES` small files and a `LARGE_APP_SPARSE` sparse file (for peak RSS whatever the
  app's size).

"Cold" means empty caches everywhere (funcpub's, pip's, uv's): every run downloads from the
index, so the network is part of the numbers. Peak RSS is the largest single process of each
run's process tree (from wait4), so an installer's own memory counts too. funcpub runs with
Python's bytecode cache on, as an installed package has it (PYTHONDONTWRITEBYTECODE is dropped:
the cold run compiles funcpub, later runs load the bytecode). Each run starts once what the
runs before it wrote is on disk (`os.sync`). Needs network access to PyPI and `zip` on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REQUIREMENTS = ["azure-functions", "requests", "numpy", "pandas", "azure-storage-blob", "pydantic"]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello"
PYTHON_VERSION = "3.11"
WARM_RUNS = 9
LARGE_APP_FILES = 100_000
LARGE_APP_SPARSE = 3 << 30
PIP_PLATFORMS = ["manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"]
PACK_ONLY = """
import sys
from pathlib import Path
from funcpub.ignore import select_files
from funcpub.package import write_zip
files = select_files(Path(sys.argv[1]), ship_python_packages=True, funcignore=()).included
write_zip(files, Path(sys.argv[2]))
"""


@dataclass(frozen=True)
class Run:
    """One measured command."""

    name: str
    seconds: float
    peak_rss_mb: float
    ok: bool


def measure(name: str, argv: list[str], *, cwd: Path, env: dict[str, str]) -> Run:
    """Run `argv`, returning its wall time and the peak RSS of its process tree.

    What earlier runs wrote is flushed to disk first, so no run pays for another's writeback
    (a warm rebuild right after a cold build shares the disk with its 200 MB of dirty pages:
    0.42 s against 0.36 s; a developer edits a file well after Linux flushed them, 30 s).
    """
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        print(f"{name} failed:\n{errors[-2000:]}", file=sys.stderr)
    return Run(name, seconds, usage.ru_maxrss / 1024, process.returncode == 0)


def fresh_env(work: Path, label: str) -> dict[str, str]:
    """This environment with empty funcpub, pip and uv caches of its own."""
    caches = work / "caches" / label
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {
        "XDG_CACHE_HOME": str(caches / "xdg"),
        "UV_CACHE_DIR": str(caches / "uv"),
        "PIP_CACHE_DIR": str(caches / "pip"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return env


def make_app(work: Path, name: str) -> Path:
    """A copy of the example app with the reference requirements."""
    app = work / name
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (app / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n", encoding="utf-8")
    return app


def funcpub_pack(app: Path, output: Path, *extra: str, smoke: bool = False) -> list[str]:
    """`funcpub pack --build local` of `app`, by default without the smoke import: the peers
    have none, and this machine may lack Python 3.11 to run it."""
    return [
        *(sys.executable, "-m", "funcpub", "pack", str(app), "--build", "local"),
        *("--smoke" if smoke else "--no-smoke", "--python-version", PYTHON_VERSION),
        *("-o", str(output), *extra),
    ]


def plain(work: Path, installer: str) -> Run:
    """Install into a copy of the app with pip or uv, then `zip -r -6` it."""
    app = make_app(work, f"plain-{installer}")
    site = app / ".python_packages" / "lib" / "site-packages"
    if installer == "pip":
        platforms = " ".join(f"--platform {tag}" for tag in PIP_PLATFORMS)
        install = (
            f"{sys.executable} -m pip install -q --target {site} {platforms} --only-binary=:all: "
            f"--python-version {PYTHON_VERSION} --implementation cp -r requirements.txt"
        )
    else:
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
        install = (
            f"{uv} pip install -q --target {site} --python-platform x86_64-manylinux_2_36 "
            f"--python-version {PYTHON_VERSION} --python {sys.executable} --only-binary :all: "
            "-r requirements.txt"
        )
    script = f"{install} && zip -r -6 -q ../plain-{installer}.zip ."
    return measure(
        f"{installer} install + zip -r -6", ["bash", "-c", script], cwd=app,
        env=fresh_env(work, f"plain-{installer}"),
    )  # fmt: skip


def warm_rebuild(app: Path, argv: list[str], *, label: str, cwd: Path, env: dict[str, str]) -> Run:
    """The median of `WARM_RUNS` packs, each after editing one source file of the app."""
    greeting = app / "shared" / "greeting.py"
    runs = []
    for number in range(WARM_RUNS):
        greeting.write_text(greeting.read_text(encoding="utf-8") + f"\n# edit {number}\n")
        runs.append(measure(label, argv, cwd=cwd, env=env))
    ordered = sorted(runs, key=lambda run: run.seconds)
    median = ordered[WARM_RUNS // 2]
    name = (
        f"{label} (one file edited; median of {WARM_RUNS}, "
        f"{ordered[0].seconds:.2f}-{ordered[-1].seconds:.2f} s)"
    )
    return Run(name, median.seconds, median.peak_rss_mb, all(run.ok for run in runs))


def benchmark(work: Path) -> list[Run]:
    """Every measurement, in order."""
    runs: list[Run] = []
    for installer in ("uv", "pip"):
        app = make_app(work, f"funcpub-{installer}")
        env = fresh_env(work, f"funcpub-{installer}")
        output = work / f"funcpub-{installer}.zip"
        argv = funcpub_pack(app, output, "--installer", installer)
        runs.append(measure(f"funcpub cold build+pack ({installer})", argv, cwd=work, env=env))
        if installer == "uv":
            label = "funcpub warm rebuild"
            runs.append(warm_rebuild(app, argv, label=label, cwd=work, env=env))
            if platform.python_version().startswith(f"{PYTHON_VERSION}."):  # it can smoke-import
                smoke = funcpub_pack(app, output, "--installer", installer, smoke=True)
                label = "funcpub warm rebuild with the smoke import"
                runs.append(warm_rebuild(app, smoke, label=label, cwd=work, env=env))
    runs.append(plain(work, "pip"))
    runs.append(plain(work, "uv"))
    tree = work / "plain-uv"  # no bytecode: both writers pack the same files
    env = fresh_env(work, "pack-only")
    runs += pack_only(tree, work, "", env)
    runs += pack_only(large_app(work), work, ", large app", env)
    return runs


def pack_only(tree: Path, work: Path, label: str, env: dict[str, str]) -> list[Run]:
    """funcpub's writer, then `zip -r -6`, on `tree`."""
    name = tree.name
    writer = [sys.executable, "-c", PACK_ONLY, str(tree), str(work / f"{name}-funcpub.zip")]
    zip_r = ["zip", "-r", "-6", "-q", str(work / f"{name}-zip.zip"), "."]
    return [
        measure(f"pack only{label}: funcpub writer", writer, cwd=work, env=env),
        measure(f"pack only{label}: zip -r -6", zip_r, cwd=tree, env=env),
    ]


def large_app(work: Path) -> Path:
    """The example app with `LARGE_APP_FILES` small files in 200 folders, and a sparse file
    of `LARGE_APP_SPARSE` bytes, read once here: the first read of a sparse file has the
    kernel fill the page cache with zeros (5 s for 3 GiB), which would count against
    whichever writer ran first."""
    app = make_app(work, "large-app")
    per_folder = LARGE_APP_FILES // 200
    for folder in range(200):
        data = app / "data" / f"d{folder:03}"
        data.mkdir(parents=True)
        for number in range(per_folder):
            line = f"{folder} {number}\n"
            (data / f"f{number:03}.txt").write_text(line * 20, encoding="utf-8")
    with (app / "data" / "sparse.bin").open("wb") as sparse:
        sparse.truncate(LARGE_APP_SPARSE)
    with (app / "data" / "sparse.bin").open("rb") as sparse:
        while sparse.read(8 << 20):
            pass
    return app


def machine() -> str:
    """CPU, cores, memory, OS and Python of this machine."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = len(os.sched_getaffinity(0))
    return (
        f"{model}, {cores} cores, {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def report(runs: list[Run]) -> str:
    """A Markdown table, with the ratios the targets are about."""
    lines = ["| run | wall time | peak RSS |", "| --- | ---: | ---: |"]
    lines += [
        f"| {run.name}{'' if run.ok else ' (FAILED)'} | {run.seconds:.2f} s "
        f"| {run.peak_rss_mb:.0f} MB |"
        for run in runs
    ]
    seconds = {run.name: run.seconds for run in runs}
    pip_zip = seconds["pip install + zip -r -6"]
    ratios = [
        ("funcpub cold (uv) / pip + zip", seconds["funcpub cold build+pack (uv)"] / pip_zip),
        ("funcpub cold (pip) / pip + zip", seconds["funcpub cold build+pack (pip)"] / pip_zip),
        (
            "funcpub pack / zip -r -6",
            seconds["pack only: funcpub writer"] / seconds["pack only: zip -r -6"],
        ),
        (
            "funcpub pack / zip -r -6, large app",
            seconds["pack only, large app: funcpub writer"]
            / seconds["pack only, large app: zip -r -6"],
        ),
    ]
    lines += ["", "| ratio | value |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.2f} x |" for name, value in ratios]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if shutil.which("zip") is None:
        print("zip is not on PATH (apt-get install zip)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="funcpub-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        runs = benchmark(work)
    if args.json:
        print(json.dumps({"machine": machine(), "runs": [asdict(run) for run in runs]}, indent=2))
    else:
        print(f"{machine()}\n\n{report(runs)}")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
