"""Seed files: apps declared in TOML, created when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from funcpub.emulator import Emulator
from funcpub.emulator.seed import apply_seed, read_seed
from funcpub.errors import ConfigError

pytestmark = pytest.mark.emulator

SEED = """
[[app]]
name = "seeded"
plan = "P1v3"
python = "3.12"
slots = ["staging"]
settings = { FEATURE = "on" }

[[app]]
name = "plain"
"""


def test_seed_creates_missing_apps_once(tmp_path: Path, emulator: Emulator) -> None:
    seed = tmp_path / "apps.toml"
    seed.write_text(SEED, encoding="utf-8")
    apps = read_seed(seed)
    created = apply_seed(emulator, apps)
    assert [(s.name, s.slot) for s in created] == [
        ("seeded", None),
        ("seeded", "staging"),
        ("plain", None),
    ]
    site = emulator.site("seeded")
    assert (site.plan, site.python) == ("P1v3", "3.12")
    assert site.app_settings["FEATURE"] == "on"
    assert emulator.site("plain").plan == "EP1"
    assert apply_seed(emulator, apps) == ()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[app]]\nplan = 'EP1'\n", "needs a name"),
        ("[[app]]\nname = 'x'\nplna = 'EP1'\n", "unknown keys: plna"),
        ("[[app]]\nname = 'x'\nplan = 'Z9'\n", "unknown plan 'Z9'"),
        ("[[app]]\nname = 'x'\nsettings = { A = 1 }\n", "settings must be a table of strings"),
        ("app = 3\n", "must be an array of tables"),
        ("[[app]\n", "cannot read the seed file"),
    ],
    ids=["no-name", "unknown-key", "bad-plan", "bad-settings", "not-array", "bad-toml"],
)
def test_bad_seed_files(tmp_path: Path, text: str, words: str) -> None:
    seed = tmp_path / "apps.toml"
    seed.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        read_seed(seed)
