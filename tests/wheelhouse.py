"""An offline wheelhouse for build tests: wheels and sdists written here, served by --find-links.

Nothing comes from an index. Wheels are zip files with METADATA, WHEEL and RECORD. Source
distributions carry their own tiny PEP 517 backend (`backend-path = ["."]`, no build
requirements), so pip and uv build them with build isolation and no network: the pure one
builds a `py3-none-any` wheel, the native one a wheel tagged for this interpreter and machine,
as setuptools does for a C extension. The real `azure-functions` is repacked from this
environment, one manylinux wheel holds a real extension module compiled with `cc`, and another a
real library that needs a newer glibc than the Python 3.8 target has.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

FIXED_DATE = (2020, 2, 2, 0, 0, 0)
CPYTHON = f"cp{sys.version_info.major}{sys.version_info.minor}"
EXTENSION_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))

PURE_BACKEND = """
import os, zipfile

NAME, VERSION, TAG = "{name}", "{version}", "py3-none-any"


def _tag():
    return TAG


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = f"{{NAME}}-{{VERSION}}.dist-info"
    tag = _tag()
    filename = f"{{NAME}}-{{VERSION}}-{{tag}}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as wheel:
        for folder, _dirs, names in os.walk(NAME):
            for name in names:
                path = os.path.join(folder, name)
                wheel.write(path, path.replace(os.sep, "/"))
        metadata = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"
        wheel.writestr(f"{{dist}}/METADATA", metadata)
        purelib = "true" if tag.endswith("-none-any") else "false"
        text = f"Wheel-Version: 1.0\\nRoot-Is-Purelib: {{purelib}}\\nTag: {{tag}}\\n"
        wheel.writestr(f"{{dist}}/WHEEL", text)
        wheel.writestr(f"{{dist}}/RECORD", "")
    return filename
"""

NATIVE_TAG = """

def _tag():
    import sys, sysconfig
    python = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-{python}-{platform}"
"""

# A real C extension built by the sdist's own backend (`cc`, this interpreter's headers): what a
# docker build compiles inside the container, and a local build refuses.
COMPILE_EXTENSION = """

_pure_build_wheel = build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import subprocess, sysconfig
    library = os.path.join(NAME, "_" + NAME + sysconfig.get_config_var("EXT_SUFFIX"))
    include = "-I" + sysconfig.get_paths()["include"]
    compiler = os.environ.get("CC", "cc")
    command = [compiler, "-shared", "-fPIC", "-O1", include, "ext.c", "-o", library]
    subprocess.run(command, check=True)
    return _pure_build_wheel(wheel_directory, config_settings, metadata_directory)
"""

EXTENSION_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *greeting(PyObject *self, PyObject *args) {
    return PyUnicode_FromString("compiled C says hello");
}

static PyMethodDef methods[] = {{"greeting", greeting, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastgreet", NULL, -1, methods};
PyMODINIT_FUNC PyInit__fastgreet(void) { return PyModule_Create(&module); }
"""

# A library that calls pthread_create: linked with glibc 2.34 or later, it needs GLIBC_2.34 (where
# libpthread moved into libc), newer than the glibc 2.31 of the Python 3.8 target.
NEW_GLIBC_SOURCE = r"""
#include <pthread.h>

static void *run(void *argument) { return argument; }
int start(pthread_t *thread) { return pthread_create(thread, 0, run, 0); }
"""
NEW_GLIBC_LIBRARY = "libthreads.so"
NEW_GLIBC_NEEDS = "GLIBC_2.34"


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(
    directory: Path,
    name: str,
    version: str,
    tag: str,
    files: Mapping[str, bytes | str],
    *,
    requires: Sequence[str] = (),
    requires_python: str | None = None,
) -> Path:
    """A wheel with `files`, METADATA (Requires-Dist, Requires-Python), WHEEL and RECORD."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python is not None:
        metadata += f"Requires-Python: {requires_python}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    purelib = "true" if tag.endswith("-none-any") else "false"
    wheel = (
        f"Wheel-Version: 1.0\nGenerator: funcpub-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    )
    entries = {
        path: content.encode() if isinstance(content, str) else content
        for path, content in {
            **files,
            f"{dist}/METADATA": metadata,
            f"{dist}/WHEEL": wheel,
        }.items()
    }
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in entries.items())
    entries[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    path = directory / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(zipfile.ZipInfo(entry, FIXED_DATE), data)
    return path


def write_sdist(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    native: bool = False,
    compiled: bool = False,
) -> Path:
    """A source distribution with an in-tree backend; `native` builds a platform wheel.

    `compiled` also compiles `ext.c` into `<name>/_<name><EXT_SUFFIX>` with `cc`.
    """
    backend = PURE_BACKEND.format(name=name, version=version) + (NATIVE_TAG if native else "")
    backend += COMPILE_EXTENSION if compiled else ""
    pyproject = textwrap.dedent(f"""\
        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["."]

        [project]
        name = "{name}"
        version = "{version}"
        """)
    members = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": pyproject,
        "backend.py": backend,
        **files,
    }
    path = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{member}")
            info.size, info.mtime, info.mode = len(data), 1580601600, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def write_extension_sdist(directory: Path, name: str, version: str) -> Path:
    """An sdist of package `name` whose `greeting()` comes from a C extension it compiles."""
    files = {
        "ext.c": EXTENSION_SOURCE.replace("_fastgreet", f"_{name}"),
        f"{name}/__init__.py": f"from {name}._{name} import greeting\n",
    }
    return write_sdist(directory, name, version, files, native=True, compiled=True)


def repack_installed(directory: Path, name: str) -> Path:
    """A wheel of a distribution installed here: its RECORD's files, tags from its WHEEL file."""
    distribution = importlib.metadata.distribution(name)
    wheel_file = distribution.read_text("WHEEL") or ""
    tags = [
        line.split(":", 1)[1].strip() for line in wheel_file.splitlines() if line.startswith("Tag:")
    ]
    files: dict[str, bytes] = {}
    for file in distribution.files or ():
        path = str(file)
        if path.startswith("..") or "__pycache__" in path or ".dist-info/" in path:
            continue
        files[path] = Path(str(distribution.locate_file(file))).read_bytes()
    requires = distribution.requires or ()
    version = distribution.version
    tag = tags[0] if tags else "py3-none-any"
    return write_wheel(directory, name, version, tag, files, requires=requires)


def compile_extension(work: Path) -> Path:
    """`_fastgreet` compiled for this interpreter with cc (fails the test run without cc in CI)."""
    include = sysconfig.get_paths()["include"]
    return compile_library(work, EXTENSION_SOURCE, f"_fastgreet{EXTENSION_SUFFIX}", f"-I{include}")


def compile_library(work: Path, source: str, name: str, *options: str) -> Path:
    """`source` compiled with cc into the shared library `work/name`."""
    compiler = shutil.which("cc")
    if compiler is None:
        if os.environ.get("CI"):
            pytest.fail("cc is needed to compile the test extension module")
        pytest.skip("cc is not installed")
    source_file = work / f"{name}.c"
    source_file.write_text(source, encoding="utf-8")
    output = work / name
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", *options, str(source_file), "-o", str(output)],
        check=True,
    )
    return output


def build_wheelhouse(directory: Path) -> Path:
    """Every distribution the build tests install, in one --find-links folder."""
    directory.mkdir(parents=True, exist_ok=True)
    work = directory.parent / "extension"
    work.mkdir(exist_ok=True)
    alpha = 'from beta import VALUE\n\nMESSAGE = "alpha and " + VALUE\n'
    write_wheel(
        directory,
        "alpha",
        "1.0",
        "py3-none-any",
        {"alpha/__init__.py": alpha},
        requires=["beta>=1", 'winonly; sys_platform == "win32"', 'newer; python_version >= "3.12"'],
    )
    write_wheel(directory, "beta", "1.0", "py3-none-any", {"beta/__init__.py": 'VALUE = "beta"\n'})
    write_wheel(directory, "winonly", "1.0", "py3-none-any", {"winonly/__init__.py": ""})
    write_wheel(directory, "newer", "1.0", "py3-none-any", {"newer/__init__.py": ""})
    write_wheel(
        directory, "maconly", "1.0", "cp311-cp311-macosx_11_0_arm64", {"maconly/__init__.py": ""}
    )
    write_sdist(directory, "puresd", "1.0", {"puresd/__init__.py": 'WORD = "pure sdist"\n'})
    write_sdist(directory, "nativesd", "1.0", {"nativesd/__init__.py": ""}, native=True)
    write_extension_sdist(directory, "cgreet", "1.0")
    extension = compile_extension(work).read_bytes()
    write_wheel(
        directory,
        "fastgreet",
        "1.0",
        f"{CPYTHON}-{CPYTHON}-manylinux_2_28_x86_64",
        {
            "fastgreet/__init__.py": "from fastgreet._fastgreet import greeting\n",
            f"fastgreet/_fastgreet{EXTENSION_SUFFIX}": extension,
        },
    )
    write_wheel(
        directory,
        "wrongabi",
        "1.0",
        f"{CPYTHON}-{CPYTHON}-manylinux_2_17_x86_64",
        {"wrongabi/__init__.py": "", "wrongabi/_speed.cpython-39-x86_64-linux-gnu.so": extension},
    )
    newglibc = compile_library(work, NEW_GLIBC_SOURCE, NEW_GLIBC_LIBRARY).read_bytes()
    write_wheel(
        directory,
        "newglibc",
        "1.0",
        "py3-none-manylinux_2_17_x86_64",
        {"newglibc/__init__.py": "", f"newglibc/{NEW_GLIBC_LIBRARY}": newglibc},
    )
    for name in ("azure-functions", "werkzeug", "markupsafe"):
        repack_installed(directory, name)
    return directory
