"""Record when each task starts and ends, per host, for the benchmarks under bench/.

Enabled only by the benchmarks (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=task_times); it writes one JSON document to the file named by
BENCH_TASK_TIMES when the playbook ends. Times are time.monotonic() seconds, a clock shared by
every process of the machine, so the benchmark can place them against its own readings.
Each task also records the controller's CPU seconds when it starts: the playbook process's own
(`cpu_self`: the strategy, templating the task's variables per host) and its reaped children's
(`cpu_children`: the workers forked per host and task, the ssh clients they wait for), so that
the difference to the next task's is that task's controller CPU. A child's CPU counts once it is
reaped, and Ansible reaps a worker that has ended only when it looks for a free one for the next
host: with no more hosts than forks, a task's workers would count in the next task's CPU (and
the last task's at the end). So the finished workers are reaped first, at each task's start and
at the end.
"""

import json
import multiprocessing
import os
import resource
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: record each task's start and end per host (benchmarks only)
description:
  - Writes a JSON document to the file named by the BENCH_TASK_TIMES environment variable.
"""


def cpu_seconds() -> dict[str, float]:
    """The CPU seconds so far, after reaping the workers of the task that ended (they have sent their
    results, and end within moments; none of the next task has started yet)."""
    for worker in multiprocessing.active_children():
        worker.join(5)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_self": own.ru_utime + own.ru_stime, "cpu_children": children.ru_utime + children.ru_stime}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("BENCH_TASK_TIMES")
        self._playbook_start = None
        self._tasks = {}  # task uuid -> record, in the order the tasks started

    def v2_playbook_on_start(self, playbook):
        self._playbook_start = time.monotonic()
        self._playbook_cpu = cpu_seconds()

    def v2_playbook_on_task_start(self, task, is_conditional):
        # Once per task: Ansible starts a meta task once for each host, in its own process.
        if task._uuid not in self._tasks:
            self._tasks[task._uuid] = {"name": task.get_name(), "action": task.action, "start": time.monotonic(),
                                       **cpu_seconds(), "hosts": {}}

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_runner_on_start(self, host, task):
        record = self._tasks.get(task._uuid)
        if record is not None:
            record["hosts"].setdefault(host.get_name(), {})["start"] = time.monotonic()

    def _ended(self, result, status):
        record = self._tasks.get(result.task._uuid)
        if record is not None:
            times = record["hosts"].setdefault(result.host.get_name(), {})
            times.update(end=time.monotonic(), status=status)
            # The result's task is the templated copy: its delegate_to is a host name.
            if result.task.delegate_to:
                times["delegated_to"] = result.task.delegate_to

    def v2_runner_on_ok(self, result):
        self._ended(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ended(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._ended(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._ended(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        document = {"playbook_start": self._playbook_start, "end": time.monotonic(),
                    "playbook_cpu": self._playbook_cpu, "end_cpu": cpu_seconds(),
                    "tasks": list(self._tasks.values())}
        with open(self._path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
