"""Strategy plugin: Ansible's linear strategy, waiting for a free worker without polling.

With more hosts than forks, ansible-core's strategy waits for a free worker by checking every
worker process and sleeping 0.1 ms, over and over (StrategyBase._queue_task), so the playbook's
process keeps a core busy for as long as every worker is: the longer a task's module runs on the
hosts, the more controller CPU per host (docs/fleet-cost.md). This strategy first sleeps until a
worker ends (on the workers' sentinels, in the kernel) and reaps it, then queues the host as linear
does, which then finds that worker's slot free at once. Nothing else differs from linear.
"""

from __future__ import annotations

from multiprocessing.connection import wait

from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule

DOCUMENTATION = """
name: linear_nopoll
short_description: The linear strategy, sleeping while every worker is busy instead of polling them
description:
  - Runs a play as the C(linear) strategy does. When every worker (C(forks)) is busy, it sleeps
    until one of them ends, where C(linear) checks them every 0.1 ms and keeps a controller core
    busy meanwhile.
  - Set in the project's ansible.cfg (C(strategy)); a play's C(strategy) keyword overrides it.
author: deploy-baseline
"""


class StrategyModule(LinearStrategyModule):
    def _queue_task(self, host, task, task_vars, play_context):
        # A worker slot is None until used; a used one holds its last worker, ended or not.
        if all(worker is not None and worker.is_alive() for worker in self._workers):
            ended = wait([worker.sentinel for worker in self._workers])
            for worker in self._workers:
                if worker.sentinel in ended:
                    worker.join()  # its last moments after closing its files: linear then sees it ended
        super()._queue_task(host, task, task_vars, play_context)
