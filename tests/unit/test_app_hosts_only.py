"""The playbooks that act on app hosts leave the datastore hosts out (playbooks/tasks/app_hosts_only.yml).

Each runs for real on an inventory of an app host and the datastore host it names, whose SSH port
is closed: a task that touched it would report it unreachable. The trend is the app host's; the
cache is warmed on the app host only; blue/green, through scripts/post-deploy, measures the
datastore host only in its baseline (as a datastore host) and sums up the app host alone.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
import yaml
from conftest import FIXTURES, PROJECT, ansible_playbook

APP, DATASTORE = "app-1", "db-1"


@pytest.fixture
def closed_port():
    """A loopback port bound but not listening, so that a connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def inventory(tmp_path, port, app_connection):
    """An app host (on its own connection vars) naming the datastore host, which is at a closed port."""
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"baseline_report_dir": str(tmp_path / "reports")},
        "children": {
            "erp": {"vars": {"baseline_redis_inventory_host": DATASTORE, "baseline_db_inventory_host": DATASTORE},
                    "hosts": {APP: app_connection}},
            "datastore": {"hosts": {DATASTORE: {"ansible_host": "127.0.0.1", "ansible_port": port,
                                                "ansible_user": "root"}}}}}}))
    return str(path)


def recap(output, host):
    """The PLAY RECAP's counts of a host, or None when no task ran for it."""
    found = re.search(rf"^{re.escape(host)}\s+: (.*)$", output, re.MULTILINE)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", found.group(1))} if found else None


def left_out(output, host):
    """No task touched the host: none ran on it but, delegated to the controller, the one that finds
    the datastore hosts (run once, on the play's first host); none failed or found it unreachable."""
    counts = recap(output, host) or {"failed": 0, "unreachable": 0}
    return f"[{host}]" not in output and counts["failed"] == counts["unreachable"] == 0


def test_trend_is_the_app_hosts_only_whatever_the_limit(tmp_path, closed_port):
    reports = tmp_path / "reports"
    (reports / APP).mkdir(parents=True)
    for baseline in sorted((FIXTURES / "history").glob("*Z.yml")):
        shutil.copy(baseline, reports / APP)
    # What baseline.yml leaves of a datastore host: reports, no baseline (YAML) to trend.
    (reports / DATASTORE).mkdir()
    (reports / DATASTORE / "latest.md").write_text("# Datastore Host - db-1\n")
    hosts = inventory(tmp_path, closed_port, {"ansible_connection": "local"})

    status, output = ansible_playbook(tmp_path, "-i", hosts, str(PROJECT / "playbooks" / "trend.yml"))
    assert status == 0, output
    assert f"{APP}: 8 baselines, 0 regression(s); trend {reports / APP / 'trend.md'}" in output
    assert (reports / APP / "trend.md").read_text().startswith("# ")
    assert not (reports / DATASTORE / "trend.md").exists()
    assert left_out(output, DATASTORE), output

    # Limited to it, it is still a datastore host: the app hosts of the inventory name it.
    status, output = ansible_playbook(tmp_path, "-i", hosts, "--limit", DATASTORE,
                                      str(PROJECT / "playbooks" / "trend.yml"))
    assert status == 0, output
    assert not (reports / DATASTORE / "trend.md").exists()
    assert left_out(output, DATASTORE), output


def test_the_cache_is_warmed_on_the_app_hosts_only(tmp_path, closed_port):
    # The app host's Redis is at the closed port too: it fails, saying so; the datastore host is never touched.
    hosts = inventory(tmp_path, closed_port, {"ansible_connection": "local", "warm_cache_redis_port": closed_port})
    status, output = ansible_playbook(tmp_path, "-i", hosts, str(PROJECT / "playbooks" / "warm_cache.yml"))
    assert status == 2, output
    assert f"unable to warm the cache of {APP}: " in output
    assert recap(output, APP)["failed"] == 1
    assert left_out(output, DATASTORE), output


def test_bluegreen_sums_up_the_app_hosts_and_measures_the_datastore_host_in_its_baseline(tmp_path, closed_port):
    # Both hosts unreachable: only the datastore host's baseline may touch it, and ignores that.
    hosts = inventory(tmp_path, closed_port, {"ansible_host": "127.0.0.1", "ansible_port": closed_port,
                                              "ansible_user": "root"})
    summary_file = tmp_path / "summary.json"
    done = subprocess.run([sys.executable, str(PROJECT / "scripts" / "post-deploy"), "--environment", "test",
                           "--inventory", hosts, "--summary", str(summary_file)],
                          capture_output=True, text=True, cwd=tmp_path, check=False,
                          env={**os.environ, "ANSIBLE_SHOW_CUSTOM_STATS": "true",
                               "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_STDOUT_CALLBACK": "default",
                               "ANSIBLE_FORCE_COLOR": "false"})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output  # the app host could not be checked

    summary = json.loads(summary_file.read_text())
    assert list(summary["hosts"]) == [APP] and summary["status"] == "failed"
    assert summary["hosts"][APP]["verdict"]["status"] == "not_run"
    assert f"  {APP}: the blue/green checks did not finish on this host" in done.stdout
    stats = json.loads(re.search(r"^\tRUN: (.*)$", output.split("CUSTOM STATS:", 1)[1], re.MULTILINE).group(1))
    # set_stats, what an AWX workflow gets: the summary the hook read, before it added the run's details
    assert stats["deploy_baseline"] == {"status": summary["status"], "hosts": summary["hosts"]}

    gate = output.split("PLAY [Gate, switch, verify]", 1)[1].split("PLAY [Take the baseline", 1)[0]
    assert f"[{APP}]" in gate and left_out(gate, DATASTORE), gate
    assert recap(output, APP)["unreachable"] == 1
    datastore = recap(output, DATASTORE)  # its baseline's reading of it, unreachable, is ignored
    assert (datastore["failed"], datastore["unreachable"], datastore["ignored"]) == (0, 0, 1), output
    ds_report = (tmp_path / "reports" / DATASTORE / "latest.md").read_text()
    assert ds_report.startswith(f"# Datastore Host - {DATASTORE}\n")
    assert "- units: host unreachable: " in ds_report
