"""bench/fleet_cost.py's pure parts: the fleet's inventory of names over a few targets, each task's CPU."""

import sys

import pytest
import yaml
from conftest import PROJECT

sys.path.insert(0, str(PROJECT / "bench"))
import fleet_cost


def test_names_spread_over_the_targets_each_with_its_own_control_socket_folder(tmp_path):
    targets = tmp_path / "targets"
    (targets / "group_vars").mkdir(parents=True)
    (targets / "group_vars" / "erp.yml").write_text("baseline_service: erp\n")
    (targets / "host_vars").mkdir()
    for number, port in ((1, 2201), (2, 2202)):
        (targets / "host_vars" / f"c{number}.yml").write_text(f"ansible_host: 127.0.0.1\nansible_port: {port}\n")
    (targets / "targets.json").write_text('["c1", "c2"]')

    fleet_cost.alias_inventory(targets, ["h1", "h2", "h3"], tmp_path / "fleet" / "inventory")

    inventory = tmp_path / "fleet" / "inventory"
    assert list(yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]["erp"]["hosts"]) == \
        ["h1", "h2", "h3"]
    hosts = {name: yaml.safe_load((inventory / "host_vars" / f"{name}.yml").read_text()) for name in ("h1", "h2", "h3")}
    assert [hosts[name]["ansible_port"] for name in ("h1", "h2", "h3")] == [2201, 2202, 2201]
    folders = {hosts[name]["ansible_control_path_dir"] for name in hosts}
    assert len(folders) == 3 and all(not folder.startswith(str(inventory)) for folder in folders)
    assert (inventory / "group_vars" / "erp.yml").read_text() == "baseline_service: erp\n"


def test_each_task_gets_the_controller_cpu_until_the_next_one():
    times = {"playbook_cpu": {"cpu_self": 1.0, "cpu_children": 0.0},
             "tasks": [{"name": "baseline : Measure", "cpu_self": 1.5, "cpu_children": 0.0},
                       {"name": "baseline : Probe", "cpu_self": 2.0, "cpu_children": 3.0}],
             "end_cpu": {"cpu_self": 2.5, "cpu_children": 4.0}}
    cpu = fleet_cost.task_cpu(times)
    assert cpu["Measure"] == pytest.approx(3.5)
    assert cpu["Probe"] == pytest.approx(1.5)
    assert cpu["(between tasks, end)"] == pytest.approx(0.5)


def test_the_playbook_process_s_own_share_of_each_task():
    times = {"playbook_cpu": {"cpu_self": 1.0, "cpu_children": 0.0},
             "tasks": [{"name": "baseline : Measure", "cpu_self": 1.5, "cpu_children": 0.0},
                       {"name": "baseline : Probe", "cpu_self": 2.0, "cpu_children": 3.0}],
             "end_cpu": {"cpu_self": 2.5, "cpu_children": 4.0}}
    own = fleet_cost.task_cpu(times, ("cpu_self",))
    assert own == pytest.approx({"(between tasks, end)": 0.5, "Measure": 0.5, "Probe": 0.5})
