"""docs/faults.md's tables and the scenarios' cases agree, row for row.

The fault matrix is the faults scenario's (molecule/faults/vars/cases.yml), the datastores' table
the facts_datastores scenario's (molecule/facts_datastores/vars/faults.yml). Each scenario checks
the real report (or the module's error, shown after its part's mark) against each case's `match`;
here each line the docs show must match it too, so that the docs show what operators get, and the
report's template must render it from a record holding that fault.
"""

import re
from pathlib import Path

import pytest
import yaml
from test_datastores import ds_context, host_record, readings, settings
from test_report import baseline_record, context, render, results

PROJECT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((PROJECT / "molecule" / "faults" / "vars" / "cases.yml").read_text())["faults_cases"]
MARKS = {"critical": "❌", "failed": "❌", "warning": "⚠️"}
# The parts of a baseline record, in the order the report's summary lists them.
PARTS = ["Application", "Redis", "Database", "Public URL", "Application port"]
COLUMNS = ["#", "Case", "How the test makes it", "Where", "What the operator sees", "Marked", "Exit"]


DATASTORE_CASES = yaml.safe_load((PROJECT / "molecule" / "facts_datastores" / "vars" / "faults.yml").read_text())[
    "datastore_faults"]
DATASTORE_COLUMNS = ["Case", "How the test makes it", "Part", "`error_kind`", "What the operator sees"]


def table_rows(columns: list[str]) -> list[dict]:
    """The rows of the table of docs/faults.md whose header names these columns, by column name."""
    lines = (PROJECT / "docs" / "faults.md").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line == "| " + " | ".join(columns) + " |")
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(columns, (cell.strip() for cell in line.strip().strip("|").split(" | ")), strict=True)))
    return rows


ROWS = table_rows(COLUMNS)
DATASTORE_ROWS = table_rows(DATASTORE_COLUMNS)


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


def test_the_datastores_table_lists_every_case_in_order():
    assert [row["Case"] for row in DATASTORE_ROWS] == [case["case"] for case in DATASTORE_CASES]


@pytest.mark.parametrize(("row", "case"), list(zip(DATASTORE_ROWS, DATASTORE_CASES, strict=False)),
                         ids=[c["case"] for c in DATASTORE_CASES])
def test_each_datastore_row_says_what_the_scenario_checks(row, case):
    shown = row["What the operator sees"]
    assert shown.startswith("`") and shown.endswith("`")
    assert re.fullmatch(case["match"], shown.strip("`")), (case["match"], shown)
    assert row["Part"] == case["part"]
    assert row["`error_kind`"] == (f"`{case['kind']}`" if case["kind"] else "-")
    assert row["How the test makes it"]
    # The scenario makes it with the module's options, or (the datastore host) with an inventory host.
    assert ("options" in case) == (case["part"] != "Datastore host")


@pytest.mark.parametrize("case", DATASTORE_CASES, ids=[c["case"] for c in DATASTORE_CASES])
def test_the_report_renders_each_datastore_line(case):
    """The line the docs show, rendered by the report's template from a record that holds the fault."""
    shown = next(row for row in DATASTORE_ROWS if row["Case"] == case["case"])["What the operator sees"].strip("`")
    facts = {"reachable": False, "error_kind": case["kind"], "error": shown.partition("❌ ")[2]}
    if case["part"] == "Redis":
        record = baseline_record(results(redis={"changed": False, "redis": facts}), context())
    elif case["part"] == "Database":
        record = baseline_record(results(postgres={"changed": False, "postgres": facts}), context())
    else:
        link = re.fullmatch(r".*\[(\S+)\]\(\.\./\S+/(\w+)\.md\): ❌ .* unreachable: (.*)", shown)
        host, stamp, reason = link.groups()
        unreachable = host_record({"unreachable": True, "msg": reason},
                                  ds_context(host=host, serves={"Redis": ["demo"]}, stamp=stamp))
        record = baseline_record(results(), context(datastores=readings(
            {"Redis": settings(unreachable, app="demo", inventory_host=host)["Redis"]}, stamp)))
        assert record["problems"]["datastores"] == shown.partition("❌ ")[2]
    assert shown in render("report.md.j2", record).splitlines()
