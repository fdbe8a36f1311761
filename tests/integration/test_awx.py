"""The repository works as an AWX / Ansible Automation Platform project as it is."""

import configparser
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT


def test_ansible_builder_creates_the_execution_environment_context(tmp_path):
    builder = Path(sys.executable).parent / "ansible-builder"
    run = subprocess.run([str(builder), "create", "-f", str(PROJECT / "execution-environment.yml"),
                          "-c", str(tmp_path / "context")], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile
    built = tmp_path / "context" / "_build"
    assert (built / "requirements.txt").read_text() == (PROJECT / "requirements.txt").read_text()
    assert (built / "bindep.txt").read_text() == (PROJECT / "bindep.txt").read_text()


def test_the_execution_environment_pins_what_the_venv_pins():
    ee = yaml.safe_load((PROJECT / "execution-environment.yml").read_text())
    pinned = (PROJECT / "requirements.txt").read_text()
    assert ee["dependencies"]["ansible_core"]["package_pip"] in pinned


def test_ansible_cfg_paths_exist_relative_to_the_project():
    cfg = configparser.ConfigParser()
    cfg.read(PROJECT / "ansible.cfg")
    for key in ("library", "module_utils", "action_plugins", "filter_plugins", "doc_fragment_plugins",
                "strategy_plugins", "roles_path"):
        assert (PROJECT / cfg["defaults"][key]).is_dir(), key


def test_every_playbook_awx_lists_is_a_list_of_plays():
    """AWX offers YAML files whose top level is a list of plays: every entry users run must be one."""
    for playbook in [PROJECT / "baseline.yml", *sorted((PROJECT / "playbooks").glob("*.yml"))]:
        plays = yaml.safe_load(playbook.read_text())
        assert isinstance(plays, list) and plays, playbook
        assert all("hosts" in play or "ansible.builtin.import_playbook" in play for play in plays), playbook


def test_syntax_of_every_playbook():
    for playbook in [PROJECT / "baseline.yml", *sorted((PROJECT / "playbooks").glob("*.yml"))]:
        run = subprocess.run([shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)),
                              "--syntax-check", "-i", "localhost,", str(playbook)],
                             capture_output=True, text=True, cwd=PROJECT)
        assert run.returncode == 0, run.stdout + run.stderr


# As AWX runs a job: ansible-runner, a fresh private data directory (inventory, env/extravars,
# env/envvars) and a fresh copy of the project for every job, against a real demo target over SSH.
# One target serves every job below; several inventory names point at it where a fleet is needed.

RUNNER = Path(sys.executable).parent / "ansible-runner"
TARGET = PROJECT / "testbed" / "target"
CONTAINERS_CONF = str(PROJECT / "testbed" / "containers.conf")
TARGET_NAME = "runner"
CONTAINER = os.environ.get("DEMO_CONTAINER_PREFIX", "deploy-baseline-") + TARGET_NAME
HOST_DIR = "/var/lib/deploy-baseline/tsh_erp"
# What a job's project copy leaves out: AWX checks out the repository, without local state.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(".git", ".venv", ".ansible", "reports", ".state", "__pycache__",
                                           ".pytest_cache", ".ruff_cache")
needs_podman = pytest.mark.skipif(shutil.which("podman") is None, reason="podman is installed by scripts/setup")


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command[:2]} exit ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
    return done


def on_target(*command):
    return run(["podman", "exec", CONTAINER, *command], env=dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)).stdout


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    """The connection variables of one configured demo target (playbooks/demo_target.yml over SSH)."""
    work = tmp_path_factory.mktemp("awx-target")
    env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF, DEMO_STATE_DIR=str(work / "state"))
    inventory = work / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(f"all: {{children: {{erp: {{hosts: {{{TARGET_NAME}: {{}}}}}}}}}}\n")
    run([str(TARGET), "up", TARGET_NAME, "--inventory", str(inventory / "host_vars" / f"{TARGET_NAME}.yml")],
        env=env, timeout=180)
    try:
        run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
             str(PROJECT / "playbooks" / "demo_target.yml")],
            env=dict(env, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_HOME=str(work / "ansible-home")),
            timeout=600)
        yield yaml.safe_load((inventory / "host_vars" / f"{TARGET_NAME}.yml").read_text())
    finally:
        subprocess.run([str(TARGET), "down", TARGET_NAME], env=env, capture_output=True)


@dataclass
class Job:
    ident: str
    data_dir: Path
    command: list

    @property
    def project(self) -> Path:
        return self.data_dir / "project"

    @property
    def artifacts(self) -> Path:
        return self.data_dir / "artifacts" / self.ident

    def stats(self) -> dict:
        """The set_stats data of the job, as AWX reads it from the run's last event."""
        for event in sorted((self.artifacts / "job_events").glob("*.json")):
            data = json.loads(event.read_text())
            if data.get("event") == "playbook_on_stats":
                return data["event_data"]["artifact_data"]
        raise AssertionError(f"no playbook_on_stats event in {self.artifacts}")

    def check_done(self, done) -> None:
        stdout = (self.artifacts / "stdout").read_text() if (self.artifacts / "stdout").exists() else done.stdout
        assert done.returncode == 0, f"job {self.ident} failed ({done.returncode}):\n{stdout[-4000:]}{done.stderr}"
        assert (self.artifacts / "status").read_text().strip() == "successful"


def job(base: Path, ident: str, hosts: dict, extravars: dict, playbook="baseline.yml", limit=None, check=False):
    """A job's private data directory: a fresh copy of the project, the inventory, env/."""
    data_dir = base / ident
    shutil.copytree(PROJECT, data_dir / "project", ignore=NOT_IN_A_CHECKOUT, symlinks=True)
    (data_dir / "inventory").mkdir()
    shutil.copytree(PROJECT / "inventory" / "demo" / "group_vars", data_dir / "inventory" / "group_vars")
    (data_dir / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"erp": {"hosts": hosts}}}}))
    (data_dir / "env").mkdir()
    (data_dir / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (data_dir / "env" / "envvars").write_text(yaml.safe_dump({"ANSIBLE_HOME": str(data_dir / "home")}))
    command = [str(RUNNER), "run", str(data_dir), "-p", playbook, "--ident", ident,
               *(["--limit", limit] if limit else []), *(["--cmdline=--check"] if check else [])]
    return Job(ident, data_dir, command)


RUNNER_ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def run_job(found: Job) -> Job:
    found.check_done(subprocess.run(found.command, capture_output=True, text=True, env=RUNNER_ENV, timeout=600))
    return found


@needs_podman
def test_scheduled_jobs_on_fresh_copies_compare_with_the_host_history_and_draw_its_trend(connection, tmp_path):
    hosts = {TARGET_NAME: connection}
    extravars = {"baseline_history_store": "host"}
    first = run_job(job(tmp_path, "first", hosts, extravars))
    first_stats = first.stats()["deploy_baseline_hosts"][TARGET_NAME]
    first_report = (first.project / "reports" / TARGET_NAME / "latest.md").read_text()
    assert f"History: 0 earlier baseline(s) in {TARGET_NAME}:{HOST_DIR} (host)." in first_report
    assert "This is the first baseline of this host" in first_report
    shutil.rmtree(first.data_dir)  # nothing of the first job survives but what the host keeps

    second = run_job(job(tmp_path, "second", hosts, extravars))
    second_stats = second.stats()["deploy_baseline_hosts"][TARGET_NAME]
    report = (second.project / "reports" / TARGET_NAME / "latest.md").read_text()
    assert f"History: 1 earlier baseline(s) in {TARGET_NAME}:{HOST_DIR} (host)." in report
    assert f"Previous baseline: {first_stats['measured_at']}." in report
    assert second_stats["measured_at"] > first_stats["measured_at"]
    assert second_stats["report"].startswith(str(second.project / "reports" / TARGET_NAME))

    # What the host keeps: the head of each record, readable by every user, and no facts.
    listing = on_target("stat", "-c", "%a %n", HOST_DIR, *(f"{HOST_DIR}/{stamp}.yml" for stamp in (
        first_stats["measured_at"].replace("-", "").replace(":", ""),
        second_stats["measured_at"].replace("-", "").replace(":", ""))))
    assert [line.split()[0] for line in listing.splitlines()] == ["755", "644", "644"]
    kept = yaml.safe_load(on_target("cat", listing.splitlines()[-1].split()[1]))
    assert set(kept) == {"host", "environment", "service", "color", "measured_at", "summary", "verdict", "journal"}
    # Of the journal, how it was read (whether its error count is a lower bound), never its lines.
    assert set(kept["journal"]) == {"exact", "lines_read", "max_seconds", "covered_pct", "read_until", "bound"}
    assert kept["summary"] == second_stats["summary"]

    # Check mode measures and writes nothing, on the host or in the project.
    checked = run_job(job(tmp_path, "checked", hosts, extravars, check=True))
    assert on_target("ls", HOST_DIR).split() == sorted(line.split()[1].rsplit("/", 1)[1]
                                                       for line in listing.splitlines()[1:])
    assert not (checked.project / "reports").exists()

    trend = run_job(job(tmp_path, "trend", hosts, extravars, playbook="playbooks/trend.yml"))
    drawn = (trend.project / "reports" / TARGET_NAME / "trend.md").read_text()
    assert f"**Baselines:** 2, from {first_stats['measured_at']} to {second_stats['measured_at']}" in drawn


@needs_podman
def test_sliced_jobs_at_once_leave_a_whole_fleet_summary(connection, tmp_path):
    """AWX job slicing: two jobs over halves of the inventory at the same time, sharing the report folder."""
    names = [f"slice-{number}" for number in range(1, 5)]
    shared = tmp_path / "reports"
    extravars = {"baseline_report_dir": str(shared)}
    slices = [job(tmp_path, f"slice{number}", dict.fromkeys(names, connection), extravars,
                  limit=",".join(half)) for number, half in enumerate((names[:2], names[2:]), start=1)]
    running = [(found, subprocess.Popen(found.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=RUNNER_ENV)) for found in slices]
    for found, process in running:
        stdout, stderr = process.communicate(timeout=600)
        found.check_done(subprocess.CompletedProcess(found.command, process.returncode, stdout, stderr))

    # Each slice publishes its own hosts; together they cover the fleet.
    measured = [found.stats()["deploy_baseline_hosts"] for found in slices]
    assert [sorted(hosts) for hosts in measured] == [names[:2], names[2:]]
    # Each slice's fleet view is every inventory host; the slice that rebuilt it last saw them all.
    fleets = [found.stats()["deploy_baseline_fleet"] for found in slices]
    assert all([row["host"] for row in fleet["rows"]] == names for fleet in fleets)
    assert max(fleet["with_baseline"] for fleet in fleets) == 4
    assert sorted(fleet["this_run"] for fleet in fleets) == [2, 2]

    summary = (shared / "fleet" / "latest.md").read_text()
    assert "4 of 4 hosts have a baseline" in summary
    for host in names:
        row = next(line for line in summary.splitlines() if line.startswith(f"| [{host}]"))
        measured_at = {**measured[0], **measured[1]}[host]["measured_at"]
        assert measured_at in row
    for stamped in (shared / "fleet").glob("*.md"):
        assert stamped.read_text().count("\n| [slice-") + stamped.read_text().count("\n| slice-") == 4, stamped
    # No lock and no temporary file left behind, in the fleet folder or any host's.
    assert sorted(p.relative_to(shared).as_posix() for p in shared.rglob(".*")) == []
