"""baseline_lock: take, wait, give up with a message, take over a stale lock, release only one's own."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import load_action_plugin, run_playbook

lock_plugin = load_action_plugin("baseline_lock")
LockError = lock_plugin.LockError
take, release = lock_plugin.take, lock_plugin.release
describe_holder, is_stale, parse_holder = lock_plugin.describe_holder, lock_plugin.is_stale, lock_plugin.parse_holder


def held_by(path, pid, controller=None, token="other-run"):
    path.write_text(json.dumps({"token": token, "pid": pid, "controller": controller or socket.gethostname(),
                                "since": "2026-11-29T18:15:02Z"}) + "\n")


def test_takes_a_free_lock_and_releases_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    lock = take(str(path), 600, os.getpid())
    assert (lock["state"], lock["waited_for"], lock["stale"]) == ("taken", None, None)
    holder = parse_holder(path.read_text())
    assert holder["token"] == lock["token"] and holder["pid"] == os.getpid()

    released = release(str(path), lock["token"])
    assert released["state"] == "released" and not path.exists()


def test_waits_for_a_live_holder_then_says_who_holds_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())  # this test's process: alive
    started = time.monotonic()
    with pytest.raises(LockError) as failed:
        take(str(path), 1, os.getpid())
    assert time.monotonic() - started >= 1
    assert str(failed.value) == (
        f"another baseline run holds the lock {path} (pid {os.getpid()} on {socket.gethostname()} since "
        f"2026-11-29T18:15:02Z); waited 1 s. If no run is going, remove {path}.")
    assert failed.value.lock["state"] == "not taken"
    assert parse_holder(path.read_text())["token"] == "other-run"


def test_takes_the_lock_once_the_holder_releases_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())
    threading.Timer(1.0, path.unlink).start()
    lock = take(str(path), 10, os.getpid())
    assert lock["state"] == "taken" and 0.9 <= lock["waited_s"] < 5
    assert lock["waited_for"]["pid"] == os.getpid()


def test_takes_over_the_lock_of_a_run_that_was_killed(tmp_path):
    path = tmp_path / ".baseline.lock"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    held_by(path, int(gone.stdout))
    lock = take(str(path), 0, os.getpid())
    assert lock["state"] == "taken" and lock["stale"]["pid"] == int(gone.stdout)


def test_another_controllers_lock_is_never_stale():
    assert not is_stale({"token": "t", "pid": 999_999_999, "controller": "elsewhere"}, 3600, "here", lambda pid: False)
    assert is_stale({"token": "t", "pid": 999_999_999, "controller": "here"}, 0, "here", lambda pid: False)
    assert not is_stale(None, 1, "here", lambda pid: False)  # being written
    assert is_stale(None, 60, "here", lambda pid: False)  # a half-written file of a killed run


def test_release_leaves_another_runs_lock(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())
    assert release(str(path), "mine")["state"] == "not held"
    assert path.exists()


def test_creates_the_lock_folder(tmp_path):
    path = tmp_path / "reports" / "erp-1" / ".baseline.lock"
    assert take(str(path), 0, os.getpid())["state"] == "taken" and path.exists()


def test_unwritable_folder_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "x.lock"
    with pytest.raises(LockError) as failed:
        take(str(path), 0, os.getpid())
    assert str(failed.value) == f"unable to take the lock {path}: File exists"
    assert failed.value.lock is None


def test_describe_holder():
    assert describe_holder(None) == "a holder that has not written its name yet"
    assert describe_holder({"pid": 7, "controller": "ci", "since": "T"}) == "pid 7 on ci since T"
    assert parse_holder("") is None and parse_holder("[]") is None


def test_the_action_in_a_playbook(tmp_path):
    """Through ansible-playbook: check mode takes nothing, a wait for another run is a warning, bad
    arguments are named, and the lock is released with its token."""
    (tmp_path / "reports").mkdir()
    path = str(tmp_path / "reports" / "x.lock")
    held_by(tmp_path / "reports" / "x.lock", os.getpid())  # another run: this test's process
    status, output = run_playbook(tmp_path, [
        {"name": "Check mode", "baseline_lock": {"path": path}, "check_mode": True, "register": "checked"},
        # The other run ends a second after this point, however long the playbook took to get here.
        {"name": "Other run ends", "ansible.builtin.shell": f"(sleep 1; rm -f {path}) >/dev/null 2>&1 &",
         "changed_when": False},
        {"name": "Take", "baseline_lock": {"path": path}, "register": "taken"},
        {"name": "Read", "ansible.builtin.set_fact": {"holder": f"{{{{ lookup('ansible.builtin.file', '{path}') }}}}"}},
        {"name": "Bad wait", "baseline_lock": {"path": path, "wait_s": -1}, "ignore_errors": True,
         "register": "bad_wait"},
        {"name": "No token", "baseline_lock": {"path": path, "state": "absent"}, "ignore_errors": True,
         "register": "no_token"},
        {"name": "Release", "baseline_lock": {"path": path, "state": "absent", "token": "{{ taken.lock.token }}"},
         "register": "released"},
        {"name": "Check", "ansible.builtin.assert": {"that": [
            "checked.lock.state == 'check mode' and checked is not changed",
            "taken is changed and taken.lock.state == 'taken'",
            "(holder | from_json).token == taken.lock.token",
            "bad_wait.msg == \"argument 'wait_s' must be 0 or more seconds, not -1\"",
            "'state is absent but all of the following are missing: token' in no_token.msg",
            "released is changed and released.lock.state == 'released'",
        ]}},
    ])
    assert status == 0, output
    assert "[WARNING]: waited" in output and f"s for another baseline run (pid {os.getpid()} on " in output
    assert not os.path.exists(path)
