#!/usr/bin/python
"""Ansible module: the baselines kept on the measured host (read the newest, write one, prune)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_history
short_description: Keep a host's baselines on the host itself, with bounded retention
description:
  - Keeps machine-readable baselines in a folder of the measured host, one file per baseline
    named by its UTC time (C(20261129T181502Z.yml)), so that a run that starts from a fresh copy of
    the project (an AWX job, a CI runner) still finds the earlier ones.
  - With O(write), writes that baseline atomically (a temporary file of the folder takes its name at
    once, so a reader sees the whole file or none) with mode C(0644) in a folder of mode C(0755), so
    the SSH user can read it; then removes all but the newest O(keep) baselines, and those older
    than O(max_age_days) (the newest always stays). A baseline of the same name is kept as it is.
  - With O(read), returns the newest baselines' texts. Reading alone changes nothing.
  - The baseline role writes only the head of its record there (host, service, environment,
    colour, time, summary figures, verdict), and no journal line or secret.
version_added: "1.2.0"
author: deploy-baseline
options:
  path:
    description: The folder of the baselines on the host, for example C(/var/lib/deploy-baseline/tsh_erp).
    type: path
    required: true
  read:
    description: How many of the newest baselines to return (oldest first); V(0) none, a negative number all.
    type: int
    default: 0
  write:
    description: The baseline to write.
    type: dict
    suboptions:
      name:
        description: The file's name, the baseline's UTC time, for example V(20261129T181502Z.yml).
        type: str
        required: true
      content:
        description: What the file holds.
        type: str
        required: true
  keep:
    description: How many baselines retention keeps when O(write) is set (the newest).
    type: int
    default: 100
  max_age_days:
    description: Baselines older than this many days are removed when O(write) is set.
    type: float
    default: 400
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written or removed; the result says what would be.
"""

EXAMPLES = r"""
- name: Keep this baseline on the host
  baseline_history:
    path: /var/lib/deploy-baseline/tsh_erp
    write:
      name: 20261129T181502Z.yml
      content: "{{ baseline_record | dbl_baseline_head | to_nice_yaml }}"
    keep: 100
    max_age_days: 400
  become: true

- name: Read the newest 30 baselines
  baseline_history:
    path: /var/lib/deploy-baseline/tsh_erp
    read: 30
  register: history
"""

RETURN = r"""
folder:
  description: The folder (O(path)).
  returned: always
  type: str
  sample: /var/lib/deploy-baseline/tsh_erp
count:
  description:
    - How many baselines the folder holds (after writing and pruning, with O(write)); in check
      mode, how many it holds now.
  returned: always
  type: int
  sample: 12
baselines:
  description: The newest O(read) baselines, oldest first.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "20261129T181502Z.yml", "text": "host: erp-prod-1\n"}]
  contains:
    name:
      description: The file's name.
      returned: always
      type: str
      sample: 20261129T181502Z.yml
    text:
      description: What the file holds.
      returned: always
      type: str
      sample: "host: erp-prod-1\n"
written:
  description: The file written (in check mode, that would be); absent without O(write).
  returned: when O(write) is set
  type: str
  sample: /var/lib/deploy-baseline/tsh_erp/20261129T181502Z.yml
pruned:
  description: The baselines retention removed (in check mode, would remove), oldest first.
  returned: when O(write) is set
  type: list
  elements: str
  sample: [20260901T060000Z.yml]
"""

import datetime

from ansible.module_utils.baseline_history import HistoryError, history_argument_spec, read_history, write_baseline
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    return dict(
        history_argument_spec(),
        write=dict(type="dict", options=dict(name=dict(type="str", required=True),
                                             content=dict(type="str", required=True))),
        keep=dict(type="int", default=100),
        max_age_days=dict(type="float", default=400),
    )


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    params = module.params
    if params["keep"] < 1:
        module.fail_json(msg=f"argument 'keep' must be at least 1 (the newest baseline stays): {params['keep']}")
    result = {"changed": False}
    try:
        if params["write"]:
            now = datetime.datetime.now(datetime.timezone.utc)
            done = write_baseline(params["path"], params["write"]["name"], params["write"]["content"],
                                  params["keep"], params["max_age_days"], now, module.check_mode)
            result.update(changed=done["changed"], written=done["path"], pruned=done["pruned"])
        result.update(read_history(params["path"], params["read"]))
    except HistoryError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
