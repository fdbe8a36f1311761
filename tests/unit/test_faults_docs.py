"""docs/faults.md's table and the faults scenario's cases agree, row for row.

The scenario (molecule/faults/vars/cases.yml) checks the real report against each case's `match`;
here each line the docs show must match it too, so that the docs show what operators get.
"""

import re
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((PROJECT / "molecule" / "faults" / "vars" / "cases.yml").read_text())["faults_cases"]
MARKS = {"critical": "❌", "failed": "❌", "warning": "⚠️"}
# The parts of a baseline record, in the order the report's summary lists them.
PARTS = ["Application", "Redis", "Database", "Public URL", "Application port"]
COLUMNS = ["#", "Case", "How the test makes it", "Where", "What the operator sees", "Marked", "Exit"]


def table_rows() -> list[dict]:
    """The rows of the fault matrix table in docs/faults.md, by column name."""
    lines = (PROJECT / "docs" / "faults.md").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| # | Case |"))
    assert [cell.strip() for cell in lines[header].strip("|").split("|")] == COLUMNS
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(COLUMNS, (cell.strip() for cell in line.strip().strip("|").split(" | ")), strict=True)))
    return rows


ROWS = table_rows()


def marked(status: dict) -> str:
    return ", ".join(f"{part} {MARKS[status[part]]}" for part in PARTS if part in status) or "none"


def test_the_table_lists_every_case_in_order():
    assert [row["Case"] for row in ROWS] == [case["case"] for case in CASES]
    assert [row["#"] for row in ROWS] == [str(n) for n in range(1, len(CASES) + 1)]


@pytest.mark.parametrize(("row", "case"), list(zip(ROWS, CASES, strict=False)), ids=[c["case"] for c in CASES])
def test_each_row_says_what_the_scenario_checks(row, case):
    shown = row["What the operator sees"]
    assert shown.startswith("`") and shown.endswith("`")
    assert re.search(case["match"], shown.strip("`"), re.MULTILINE), (case["match"], shown)
    assert row["Where"] == case["where"]
    assert row["Marked"] == marked(case["status"])
    assert row["Exit"] == str(case["rc"])
    assert row["How the test makes it"]


def test_cases_name_only_known_parts_and_statuses():
    for case in CASES:
        assert set(case["status"]) <= set(PARTS) and set(case["status"].values()) <= set(MARKS), case["case"]
        assert case["rc"] in (0, 2), case["case"]
