"""baseline_lock: take, wait, give up with a message, take over a stale lock, release only one's own."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import baseline_lock
import pytest
from baseline_lock import describe_holder, is_stale, parse_holder, playbook_pid
from module_runner import run_module


def lock_args(path, **extra):
    return dict({"path": str(path)}, **extra)


def held_by(path, pid, controller=None, token="other-run"):
    path.write_text(json.dumps({"token": token, "pid": pid, "controller": controller or socket.gethostname(),
                                "since": "2026-11-29T18:15:02Z"}) + "\n")


def test_takes_a_free_lock_and_releases_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    outcome, taken = run_module(baseline_lock.main, lock_args(path))
    assert outcome == "exit" and taken["changed"]
    lock = taken["lock"]
    assert (lock["state"], lock["waited_for"], lock["stale"]) == ("taken", None, None)
    assert parse_holder(path.read_text())["token"] == lock["token"]

    outcome, released = run_module(baseline_lock.main, lock_args(path, state="absent", token=lock["token"]))
    assert outcome == "exit" and released["lock"]["state"] == "released" and not path.exists()


def test_waits_for_a_live_holder_then_says_who_holds_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())  # this test's process: alive
    started = time.monotonic()
    outcome, result = run_module(baseline_lock.main, lock_args(path, wait_s=1))
    assert outcome == "fail" and time.monotonic() - started >= 1
    assert result["msg"] == (
        f"another baseline run holds the lock {path} (pid {os.getpid()} on {socket.gethostname()} since "
        f"2026-11-29T18:15:02Z); waited 1 s. If no run is going, remove {path}.")
    assert parse_holder(path.read_text())["token"] == "other-run"


def test_takes_the_lock_once_the_holder_releases_it(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())
    threading.Timer(1.0, path.unlink).start()
    outcome, result = run_module(baseline_lock.main, lock_args(path, wait_s=10))
    assert outcome == "exit"
    assert result["lock"]["state"] == "taken" and 0.9 <= result["lock"]["waited_s"] < 5
    assert result["lock"]["waited_for"]["pid"] == os.getpid()


def test_takes_over_the_lock_of_a_run_that_was_killed(tmp_path):
    path = tmp_path / ".baseline.lock"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    held_by(path, int(gone.stdout))
    outcome, result = run_module(baseline_lock.main, lock_args(path, wait_s=0))
    assert outcome == "exit" and result["lock"]["state"] == "taken"
    assert result["lock"]["stale"]["pid"] == int(gone.stdout)


def test_another_controllers_lock_is_never_stale(tmp_path):
    assert not is_stale({"token": "t", "pid": 999_999_999, "controller": "elsewhere"}, 3600, "here", lambda pid: False)
    assert is_stale({"token": "t", "pid": 999_999_999, "controller": "here"}, 0, "here", lambda pid: False)
    assert not is_stale(None, 1, "here", lambda pid: False)  # being written
    assert is_stale(None, 60, "here", lambda pid: False)  # a half-written file of a killed run


def test_release_leaves_another_runs_lock(tmp_path):
    path = tmp_path / ".baseline.lock"
    held_by(path, os.getpid())
    outcome, result = run_module(baseline_lock.main, lock_args(path, state="absent", token="mine"))
    assert outcome == "exit" and not result["changed"] and result["lock"]["state"] == "not held"
    assert path.exists()


def test_check_mode_takes_nothing(tmp_path):
    path = tmp_path / ".baseline.lock"
    outcome, result = run_module(baseline_lock.main, lock_args(path, _ansible_check_mode=True))
    assert outcome == "exit" and result["lock"]["state"] == "check mode" and not path.exists()


@pytest.mark.parametrize(("args", "message"), [
    ({"wait_s": -1}, "argument 'wait_s' must be 0 or more seconds, not -1"),
    ({"state": "absent"}, "state is absent but all of the following are missing: token"),
])
def test_bad_arguments(tmp_path, args, message):
    outcome, result = run_module(baseline_lock.main, lock_args(tmp_path / "x.lock", **args))
    assert outcome == "fail" and result["msg"] == message


def test_unwritable_folder_is_named(tmp_path):
    outcome, result = run_module(baseline_lock.main, lock_args(tmp_path / "missing" / "x.lock"))
    assert outcome == "fail"
    assert result["msg"] == f"unable to take the lock {tmp_path / 'missing' / 'x.lock'}: No such file or directory"


def fake_proc(root, processes):
    for pid, (ppid, argv) in processes.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(f"{pid} (x) S {ppid} 0 0\n")
        (root / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


def test_playbook_pid_is_the_topmost_ansible_playbook(tmp_path):
    playbook = ["/venv/bin/python3", "/venv/bin/ansible-playbook", "baseline.yml"]
    fake_proc(tmp_path, {
        50: (1, ["/bin/sh", "-c", "ansible-playbook baseline.yml"]),  # a shell that started it: not it
        60: (50, playbook),  # ansible-playbook
        70: (60, playbook),  # the worker it forked for the task
        80: (70, ["/bin/sh", "-c", "/venv/bin/python3 && sleep 0"]),  # the module's shell
    })
    assert playbook_pid(str(tmp_path), start=80) == 60
    (tmp_path / "none").mkdir()
    assert playbook_pid(str(tmp_path / "none"), start=80) is None


def test_describe_holder():
    assert describe_holder(None) == "a holder that has not written its name yet"
    assert describe_holder({"pid": 7, "controller": "ci", "since": "T"}) == "pid 7 on ci since T"
    assert parse_holder("") is None and parse_holder("[]") is None
