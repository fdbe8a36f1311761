#!/usr/bin/python
"""Ansible module: write files on the controller, each atomically.

Its documentation only: the action plugin action_plugins/baseline_files.py does the work, on the
controller, in the task's own process.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_files
short_description: Write files on the controller, each atomically
description:
  - Writes each of O(files) on the controller; the content goes to a temporary file in the same
    folder, which then takes the file's name at once, so that a reader (a person, a Prometheus
    textfile collector, the next run) sees the old content or the new one, never a part.
  - Creates the folders that are missing. A file whose content is already the same is not written
    again; one with O(files[].force=false) that exists is kept as it is.
  - An action plugin; it works on the controller, in the task's own process, whatever the host; it
    opens no connection to the host. The baseline role writes a run's report, baseline and metrics
    with it.
version_added: "1.0.0"
author: deploy-baseline
options:
  files:
    description: The files to write, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The file's path on the controller.
        type: path
        required: true
      content:
        description: What the file holds. One of O(files[].content) and O(files[].template) is required.
        type: str
      template:
        description:
          - A template of the role's (or the playbook's) C(templates) folder, rendered with the task's
            variables as M(ansible.builtin.template) renders it; the file holds the result. A template
            named by several files is rendered once.
        type: str
      force:
        description: V(false) keeps a file that exists (a timestamped report is never overwritten).
        type: bool
        default: true
  mode:
    description: The mode of the files written (an octal string).
    type: raw
    default: "0644"
attributes:
  action:
    support: full
  check_mode:
    support: full
    details: In check mode nothing is written; the result says which files would be.
"""

EXAMPLES = r"""
- name: Write this run's report, and the latest one
  baseline_files:
    files:
      - {path: "reports/{{ inventory_hostname }}/20261129T181502Z.md", template: report.md.j2, force: false}
      - {path: "reports/{{ inventory_hostname }}/latest.md", template: report.md.j2}
      - {path: "reports/{{ inventory_hostname }}/metrics.prom", content: "{{ metrics }}"}
"""

RETURN = r"""
files:
  description: Each file, in the order given, with what was done to it.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: reports/erp-prod-1/20261129T181502Z.md, state: written}
    - {path: reports/erp-prod-1/latest.md, state: unchanged}
  contains:
    path:
      description: The file's path.
      returned: always
      type: str
      sample: reports/erp-prod-1/latest.md
    state:
      description:
        - V(written) (in check mode, would be written); V(unchanged) when it held the same content
          already; V(kept) when it existed and O(files[].force) was false.
      returned: always
      type: str
      sample: written
"""
