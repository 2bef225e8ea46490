"""The Azure Linux target platform data."""

from __future__ import annotations

import pytest

from funcpub.errors import ConfigError
from funcpub.targets import target_platform


def test_python_311_targets_debian_12_x86_64() -> None:
    target = target_platform("3.11")
    assert (target.glibc, target.arch, target.abi) == ("2.36", "x86_64", "cp311")
    assert target.glibc_version == (2, 36)
    assert target.uv_platform == "x86_64-manylinux_2_36"
    assert target.describe() == "Linux x86_64, Debian 12 (bookworm), glibc 2.36, cp311"


def test_manylinux_tags_cover_every_glibc_up_to_the_target() -> None:
    tags = target_platform("3.12").manylinux_tags
    assert tags[0] == "manylinux_2_36_x86_64"
    # numpy >= 2.3 ships only manylinux_2_28 wheels: the tag must be listed explicitly.
    assert "manylinux_2_28_x86_64" in tags
    assert {"manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_37_x86_64" not in tags
    assert len(tags) == len(set(tags)) == (36 - 5 + 1) + 3


def test_unknown_python_version_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"Python 3\.99") as info:
        target_platform("3.99")
    assert info.value.hint is not None
    assert info.value.hint.startswith("use one of: 3.7, 3.8, 3.9, 3.10, 3.11")
