"""The linear_nopoll strategy: linear's runs, and a host queued only once a worker is free."""

import multiprocessing
import runpy
import time
from unittest import mock

from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from conftest import PROJECT, run_playbook

linear_nopoll = runpy.run_path(str(PROJECT / "strategy_plugins" / "linear_nopoll.py"))


def strategy_with(workers):
    """The strategy with these worker slots, and what each slot's worker was doing when linear's
    _queue_task was called: [[alive, ...], ...]."""
    strategy = object.__new__(linear_nopoll["StrategyModule"])
    strategy._workers = workers
    seen = []

    def queue(self, host, task, task_vars, play_context):
        seen.append([worker is not None and worker.is_alive() for worker in self._workers])

    return strategy, seen, mock.patch.object(LinearStrategyModule, "_queue_task", queue)


def sleeper(seconds):
    process = multiprocessing.get_context("fork").Process(target=time.sleep, args=(seconds,))
    process.start()
    return process


def test_a_host_is_queued_once_a_worker_has_ended_when_every_one_is_busy():
    workers = [sleeper(0.3), sleeper(30)]
    strategy, seen, patched = strategy_with(workers)
    try:
        with patched:
            strategy._queue_task("host", "task", {}, None)
        assert seen == [[False, True]]  # linear then finds the first slot free, without polling
    finally:
        workers[1].terminate()
        for worker in workers:
            worker.join()


def test_a_free_slot_is_used_at_once():
    workers = [sleeper(30), None]
    strategy, seen, patched = strategy_with(workers)
    try:
        with patched:
            strategy._queue_task("host", "task", {}, None)
        assert seen == [[True, False]]
    finally:
        workers[0].terminate()
        workers[0].join()


def test_the_project_runs_plays_with_it_as_linear_does(tmp_path):
    hosts = {f"h{number}": {} for number in range(5)}
    status, output = run_playbook(tmp_path, [
        {"name": "Sleep", "ansible.builtin.command": "sleep 0.2", "changed_when": False},
        {"name": "Say", "ansible.builtin.debug": {"msg": "after {{ inventory_hostname }}"}},
    ], "-v", hosts=hosts, env={"ANSIBLE_FORKS": "2"})
    assert status == 0, output
    assert all(f"after h{number}" in output for number in range(5))
    # Linear's lockstep: every host ends the first task before any starts the second.
    assert output.index("TASK [Say]") > max(output.index(f"ok: [h{number}]") for number in range(5))
