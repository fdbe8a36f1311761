"""baseline_history: baselines kept on the host, written atomically, pruned by count and age."""

import datetime
import os
import stat

import baseline_history
import pytest
import yaml
from ansible.module_utils.baseline_history import HistoryError, read_history, to_prune, write_baseline
from module_runner import run_module
from trend import FilterModule

NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.UTC)
baseline_head = FilterModule().filters()["dbl_baseline_head"]
baseline_history_filter = FilterModule().filters()["dbl_parse_baselines"]


def names(*stamps):
    return [f"{stamp}.yml" for stamp in stamps]


def test_prune_keeps_the_newest_by_count():
    held = names("20261129T060000Z", "20261130T060000Z", "20261201T060000Z", "20261202T060000Z")
    assert to_prune(held, keep=2, max_age_days=400, now=NOW) == held[:2]


def test_prune_drops_what_is_older_than_the_age_but_never_the_newest():
    held = names("20250101T060000Z", "20261201T060000Z")
    assert to_prune(held, keep=100, max_age_days=30, now=NOW) == held[:1]
    only_old = names("20250101T060000Z")
    assert to_prune(only_old, keep=100, max_age_days=30, now=NOW) == []


def test_write_then_read_oldest_first_with_retention(tmp_path):
    folder = tmp_path / "deploy-baseline" / "tsh_erp"
    for day in range(1, 5):
        done = write_baseline(str(folder), f"202612{day:02d}T060000Z.yml", f"day: {day}\n", keep=3,
                              max_age_days=400, now=NOW, check=False)
        assert done["changed"]
    assert done["pruned"] == ["20261201T060000Z.yml"] and done["count"] == 3
    read = read_history(str(folder), 2)
    assert read["count"] == 3
    assert [b["name"] for b in read["baselines"]] == ["20261203T060000Z.yml", "20261204T060000Z.yml"]
    assert read["baselines"][-1]["text"] == "day: 4\n"
    assert [b["name"] for b in read_history(str(folder), -1)["baselines"]] == sorted(os.listdir(folder))
    assert read_history(str(folder), 0)["baselines"] == []
    # Readable by every user, the folder too; no temporary file left behind.
    assert stat.S_IMODE((folder / "20261204T060000Z.yml").stat().st_mode) == 0o644
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert not [name for name in os.listdir(folder) if name.startswith(".")]


def test_an_existing_baseline_of_the_same_time_is_kept(tmp_path):
    write_baseline(str(tmp_path), "20261202T060000Z.yml", "first\n", 10, 400, NOW, check=False)
    done = write_baseline(str(tmp_path), "20261202T060000Z.yml", "second\n", 10, 400, NOW, check=False)
    assert not done["changed"] and (tmp_path / "20261202T060000Z.yml").read_text() == "first\n"


def test_check_mode_writes_and_removes_nothing(tmp_path):
    folder = tmp_path / "h"
    done = write_baseline(str(folder), "20261202T060000Z.yml", "x\n", 1, 400, NOW, check=True)
    assert done["changed"] and not folder.exists()
    folder.mkdir()
    (folder / "20261201T060000Z.yml").write_text("old\n")
    done = write_baseline(str(folder), "20261202T060000Z.yml", "x\n", 1, 400, NOW, check=True)
    assert done["pruned"] == ["20261201T060000Z.yml"]
    assert os.listdir(folder) == ["20261201T060000Z.yml"]


def test_a_missing_folder_holds_no_baseline_and_other_files_are_not_baselines(tmp_path):
    assert read_history(str(tmp_path / "none"), 10) == {"folder": str(tmp_path / "none"), "count": 0, "baselines": []}
    (tmp_path / "latest.yml").write_text("x")
    (tmp_path / ".20261202T060000Z.yml.abc").write_text("partial")
    assert read_history(str(tmp_path), -1)["count"] == 0


def test_faults_are_named(tmp_path):
    with pytest.raises(HistoryError, match=r"^unable to write the baseline 'latest.yml': its name must be a UTC time"):
        write_baseline(str(tmp_path), "latest.yml", "x", 10, 400, NOW, check=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HistoryError, match=r"^unable to read the baselines in .*/file/sub: Not a directory"):
        write_baseline(str(blocker / "sub"), "20261202T060000Z.yml", "x", 10, 400, NOW, check=False)
    with pytest.raises(HistoryError, match=r"^unable to read the baselines in .*/file: Not a directory"):
        read_history(str(blocker), 1)


def test_module_writes_reads_and_fails_with_a_message(tmp_path):
    folder = str(tmp_path / "tsh_erp")
    status, result = run_module(baseline_history.main, {
        "path": folder, "read": 5, "keep": 2,
        "write": {"name": "20261202T060000Z.yml", "content": "summary: {}\n"}})
    assert status == "exit" and result["changed"] and result["count"] == 1
    assert result["written"] == f"{folder}/20261202T060000Z.yml" and result["pruned"] == []
    assert result["baselines"] == [{"name": "20261202T060000Z.yml", "text": "summary: {}\n"}]
    status, result = run_module(baseline_history.main, {"path": folder, "keep": 0})
    assert status == "fail" and result["msg"] == "argument 'keep' must be at least 1 (the newest baseline stays): 0"


def test_the_head_kept_on_the_host_is_what_the_history_filter_reads_and_holds_no_facts():
    record = {"host": "demo", "environment": "demo", "service": "tsh_erp", "color": "green",
              "measured_at": "2026-12-02T06:00:00Z", "summary": {"error_count": 1},
              "verdict": {"status": "ok", "text": "Good"}, "facts": {"journal": {"groups": ["secret line"]}}}
    text = yaml.safe_dump(baseline_head(record), sort_keys=False)
    assert "secret line" not in text and "facts" not in text
    [read] = baseline_history_filter([text])
    assert read["measured_at"] == "2026-12-02T06:00:00Z" and read["summary"]["error_count"] == 1
    assert read["verdict"] == "ok"
    assert (read["reasons"], read["journal"]) == (None, {"bound": None})  # a record older than them


def test_the_head_keeps_the_verdicts_reasons_and_how_the_journal_was_read():
    record = {"host": "demo", "measured_at": "2026-12-02T06:00:00Z", "summary": {"error_count": 812},
              "verdict": {"status": "critical", "text": "Critical", "reasons": ["Redis: refused"]},
              "journal": {"exact": False, "bound": "612,000 lines were read in the 30 s limit"}}
    [read] = baseline_history_filter([yaml.safe_dump(baseline_head(record), sort_keys=False)])
    assert (read["verdict"], read["reasons"]) == ("critical", ["Redis: refused"])
    assert read["journal"] == {"bound": record["journal"]["bound"]}
