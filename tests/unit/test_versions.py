"""The Functions runtime <-> Python support matrix (resources/versions.toml)."""

from __future__ import annotations

import datetime
from typing import get_args

import pytest

from funcpub import versions
from funcpub.resources import read_toml


def test_runtimes_are_listed_oldest_first() -> None:
    assert versions.functions_versions() == ("2", "3", "4")


def test_historical_rows_come_from_the_seed_guide() -> None:
    assert versions.python_versions("2") == ("3.6", "3.7")
    assert versions.python_versions("3")[:3] == ("3.6", "3.7", "3.8")
    assert all(versions.support_status("3", py) == "eol" for py in versions.python_versions("3"))


def test_runtime_4_covers_3_9_to_3_14_sorted_numerically() -> None:
    rows = versions.python_versions("4")
    assert {"3.9", "3.10", "3.11", "3.12", "3.13", "3.14"} <= set(rows)
    assert rows.index("3.9") < rows.index("3.10") < rows.index("3.14")


@pytest.mark.parametrize(
    ("python", "status"),
    [("3.9", "eol"), ("3.10", "eol"), ("3.11", "supported"), ("3.13", "supported")],
)
def test_statuses_as_of_late_2026(python: str, status: str) -> None:
    assert versions.support_status("4", python) == status


@pytest.mark.parametrize(
    ("functions", "python"), [("~4", "3.12"), ("4.x", "3.12.3"), ("4", " 3.12 "), ("4.0", "3.12")]
)
def test_versions_are_normalized(functions: str, python: str) -> None:
    assert versions.support_status(functions, python) == "supported"


@pytest.mark.parametrize(
    ("functions", "python"),
    [("5", "3.12"), ("4", "3.5"), ("4", "2.7"), ("four", "3.12"), ("4", "x")],
)
def test_unknown_combinations_are_none(functions: str, python: str) -> None:
    assert versions.support_status(functions, python) is None


def test_unknown_runtime_has_no_python_versions() -> None:
    assert versions.python_versions("5") == ()
    assert versions.runtime_status("5") is None
    assert versions.runtime_status("~3") == "eol"


def test_eol_rows_carry_the_date_support_ended() -> None:
    support = versions.support("4", "3.10")
    assert support is not None
    assert support.end == datetime.date(2026, 10, 31)


def test_every_row_of_the_data_file_is_well_formed() -> None:
    data = read_toml("versions.toml")["functions"]
    statuses = set(get_args(versions.SupportStatus))
    for runtime, table in data.items():
        assert table["status"] in statuses, runtime
        for python, row in table["python"].items():
            assert versions.normalize_python_version(python) == python
            assert row["status"] in statuses, (runtime, python)
            if row["status"] == "eol":
                assert isinstance(row.get("end"), datetime.date), (runtime, python)
