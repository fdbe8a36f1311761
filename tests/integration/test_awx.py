"""The repository works as an AWX / Ansible Automation Platform project as it is."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

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
    for key in ("library", "module_utils", "action_plugins", "filter_plugins", "roles_path"):
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
