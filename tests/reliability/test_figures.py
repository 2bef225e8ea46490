"""docs/reliability.md quotes the figures the tables hold, and every reference still exists."""

from __future__ import annotations

from tests.reliability.fault_matrix import FAULTS
from tests.reliability.figures import fault_table, render
from tests.reliability.helpers import DOCS, ROOT


def test_the_docs_state_the_figures() -> None:
    page = (DOCS / "reliability.md").read_text(encoding="utf-8")
    assert render() in page, "run `python -m tests.reliability.figures` and update the page"
    assert fault_table() in page


def test_faults_covered_elsewhere_name_existing_tests() -> None:
    for case in FAULTS:
        if case.covered_by is None:
            continue
        path, name = case.covered_by.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8"), case.covered_by
        assert not case.rules, "a fault run elsewhere is not injected here too"


def test_fault_ids_are_unique_app_names() -> None:
    ids = [case.id for case in FAULTS]
    assert len(ids) == len(set(ids))
    assert all(len(i) <= 60 and i.replace("-", "").isalnum() and i.islower() for i in ids)
