"""datastore_host_facts: the units with their members (ConsistsOf), their facts and journal in one run."""

import datastore_host_facts
import pytest
from ansible.module_utils.baseline_systemd import parse_show, units_with_members
from fake_target import FakeCommands, command_is, fake_target, fixture_text
from module_runner import run_module

UNITS = ["redis-server", "postgresql", "nosuch-h1"]
CONSISTS_OF = fixture_text("systemd/show_consists_of.txt")


def run_main(args, *answers):
    commands = FakeCommands(*answers)
    with fake_target(commands):
        outcome, result = run_module(datastore_host_facts.main, args)
    return outcome, result, commands.calls


def test_members_are_read_from_consists_of():
    assert units_with_members(UNITS, parse_show(CONSISTS_OF)) == {
        "redis-server": [], "postgresql": ["postgresql@15-main.service"], "nosuch-h1": []}


def test_several_members_are_sorted():
    assert units_with_members(["postgresql"], parse_show("ConsistsOf=postgresql@16-main.service "
                                                         "postgresql@15-main.service\n")) == {
        "postgresql": ["postgresql@15-main.service", "postgresql@16-main.service"]}


@pytest.mark.parametrize(("members", "names"), [
    ({"redis-server": [], "postgresql": ["postgresql@15-main.service"]},
     ["redis-server", "postgresql", "postgresql@15-main.service"]),
    ({"a": ["c"], "b": ["c"], "c": []}, ["a", "c", "b"]),
])
def test_each_unit_is_followed_by_its_members_each_once(members, names):
    assert datastore_host_facts.with_members(members) == names


def test_the_members_are_measured_with_the_units():
    members = (command_is("systemctl", "show", "ConsistsOf"), (0, CONSISTS_OF, ""))
    # Both parts read the units' properties; each answer here fails, which shows what each asked for.
    props = (command_is("systemctl", "show"), (1, "", "Failed to connect to bus: No such file or directory"))
    outcome, result, calls = run_main({"units": UNITS}, members, props)
    assert outcome == "exit" and result["changed"] is False
    assert result["members"]["postgresql"] == ["postgresql@15-main.service"]
    shown = [call[call.index("--") + 1:] for call in calls if "ConsistsOf" not in call]
    assert shown == [["redis-server", "postgresql", "postgresql@15-main.service", "nosuch-h1"]] * 2
    for part in ("units", "journal"):
        assert result[part]["failed"] is True
        assert result[part]["msg"] == ("reading unit properties with systemctl show: "
                                       "Failed to connect to bus: No such file or directory")


def test_members_that_cannot_be_read_fail_both_parts_and_say_why():
    down = (command_is("systemctl", "show"), (1, "", "System has not been booted with systemd as init system (PID 1)."))
    outcome, result, calls = run_main({"units": ["redis-server"]}, down)
    assert outcome == "exit" and len(calls) == 1
    reason = ("reading the units' members with systemctl show: "
              "System has not been booted with systemd as init system (PID 1).")
    assert result["members"] == {}
    assert result["units"]["failed"] and result["units"]["msg"] == reason
    assert result["journal"] == result["units"]


def test_a_pattern_is_refused_as_systemd_unit_facts_refuses_it():
    outcome, result, calls = run_main({"units": ["postgresql@*"]})
    assert outcome == "exit" and calls == []
    assert result["units"]["msg"] == ("argument 'units' must hold unit names, not patterns or empty names: "
                                      "'postgresql@*'")
