#!/usr/bin/python
"""Ansible module: a post-deploy baseline's facts of one host (units, live colour, journal, Redis,
PostgreSQL, local probe) in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_facts
short_description: Measure a blue/green service for a post-deploy baseline in one module run
description:
  - Does in one run on the target what M(systemd_unit_facts), M(journal_errors), M(redis_facts),
    M(postgres_facts) and M(http_probe) do one run each, so a baseline costs one SSH round trip
    and one Python start on the target instead of six.
  - Reads the live colour from nginx's upstream include (O(upstream_file)) when O(color=auto),
    then measures the units of every colour, the live unit's journal errors since its start,
    Redis, PostgreSQL and the live colour's app on its local port, and reads the last blue/green
    switch recorded on the host (O(switch_file)).
  - With O(public_probe), the task also probes the public URL from the controller, in its own
    process there (the module's action plugin), so the whole baseline of a host is one task.
  - Each part's result is shaped exactly as the registered result of the module that reads it
    alone. A part that fails has C(failed=true) and the C(msg) that module would give, and the
    other parts still run; a part not run has C(skipped=true).
  - Only reads. Needs what the separate modules need on the target (C(systemctl), C(journalctl),
    C(psql), coreutils' C(timeout), C(redis-cli) or redis-py), and C(runuser) (util-linux) when
    O(postgres.run_as) is another user.
version_added: "1.1.0"
author: deploy-baseline
options:
  service:
    description: Name of the service; its units are C(<service>-<colour>).
    type: str
    required: true
  color_ports:
    description:
      - "Where each colour's app listens: its port on the loopback, for example C({blue: 8001, green: 8002}),
        or its address as nginx's C(server) names it (C(HOST:PORT), C([IPV6]:PORT), C(unix:PATH))."
      - A port matches a server at C(127.0.0.1), C(localhost) or C([::1]) on that port.
    type: dict
    required: true
  color:
    description: The colour to measure, or V(auto) to read the live colour from O(upstream_file).
    type: str
    default: auto
  upstream_file:
    description:
      - nginx's include that names the live colour, read as nginx reads its syntax (comments,
        quotes, any whitespace or none, CRLF). Required when O(color=auto).
      - The service's upstream is the one named O(service), else the one a C(proxy_pass) (or a
        C(map)'s default) of the file names, else the only one naming a colour; a direct
        C(proxy_pass http://HOST:PORT) does as well. Its C(backup) and C(down) servers are not live.
      - When it cannot be read or names no single colour, the live colour is empty, RV(upstream.reason)
        says what the file names, and the parts that need the colour (the journal, the local probe)
        are skipped.
      - Also tells whether the file was changed after nginx last loaded its configuration
        (RV(upstream.changed_after_load)).
    type: path
  switch_file:
    description:
      - The record of the last blue/green switch that the bluegreen role writes on the host
        (JSON with C(kind), C(from), C(to), C(switched_at)), from which the baseline tells when the
        live colour began to take traffic.
      - Not set, it is not read (RV(switch.skipped=true)); a missing file is no switch yet
        (RV(switch.switch.found=false)).
    type: path
  journal_patterns:
    description: The O(journal_errors#module:patterns) of the live unit's journal.
    type: list
    elements: str
    default: [Traceback, ERROR, CRITICAL]
  journal_max_seconds:
    description:
      - The O(journal_errors#module:max_seconds) of the live unit's journal; a reading it cuts
        gives lower bounds, and says so (RV(journal.journal_errors.exact=false)).
    type: float
    default: 30
  journal_traffic_since_us:
    description:
      - The O(journal_errors#module:traffic_since_us) of the live unit's journal, a time in
        microseconds since the epoch; its errors from then on are counted in
        RV(journal.journal_errors.error_events_since_traffic).
      - Not set, the time of the last switch recorded in O(switch_file) when it pointed at the
        live colour (the moment it began to take traffic); without such a switch, they are not
        counted.
    type: int
  redis:
    description:
      - The options of M(redis_facts) (O(redis_facts#module:host), O(redis_facts#module:port),
        O(redis_facts#module:password), O(redis_facts#module:key_patterns), ...), with the same defaults.
      - Not set, Redis is not read (RV(redis.skipped=true)).
    type: dict
  postgres:
    description:
      - The options of M(postgres_facts) (O(postgres_facts#module:db),
        O(postgres_facts#module:login_user), ...), with the same defaults, and O(postgres.run_as).
      - Not set, PostgreSQL is not read (RV(postgres.skipped=true)).
      - A database reached over TCP (O(postgres_facts#module:login_host)) from a host without
        C(psql) is not read here either, for the caller to read it from the controller
        (RV(postgres.deferred=true), RV(postgres.run_on=controller)); over the local socket, a
        missing C(psql) fails the part.
    type: dict
    suboptions:
      run_as:
        description:
          - The OS user to run C(psql) as, for example V(postgres) for peer authentication over
            the local socket; empty or the module's own user runs it as the module's user.
          - As another user, a module running as root runs C(psql) with C(runuser -u USER --)
            in C(/tmp), so nothing is written in that user's home. A module running as another
            user does not try; it returns RV(postgres.deferred=true) and the caller reads
            PostgreSQL with M(postgres_facts) and a C(become_user) of its own.
        type: str
        default: ""
  probe:
    description:
      - Probe the live colour's app on C(http://127.0.0.1:<port>) as M(http_probe) does.
      - Not set, or without a live colour, it is not probed (RV(http_local.skipped=true)).
    type: dict
    suboptions:
      endpoints:
        description:
          - The endpoints, as O(http_probe#module:endpoints) but with C(path) (the URL's path
            under the live colour's local address) in place of C(url).
        type: list
        elements: dict
        required: true
      warm_samples:
        description: The O(http_probe#module:warm_samples).
        type: int
        default: 20
      timeout_s:
        description: The O(http_probe#module:timeout_s).
        type: float
        default: 10.0
  public_probe:
    description:
      - Probe the public URL from the controller (what users see, through the load balancer and
        TLS), as M(http_probe) does, with its options (O(http_probe#module:endpoints),
        O(http_probe#module:resolve), O(http_probe#module:validate_certs), ...); the result is
        RV(http_public).
      - Never sent to the host. The module's action plugin probes in the task's own process on the
        controller, after the host was measured; a host that cannot be reached is unreachable
        before anything is probed.
      - The hosts of one task that give the same options share one probe, done by the first of them
        while the others wait for its result. So each URL and its TLS handshake are probed cold once
        per run, not once per host at once (when the hosts of one service would warm up and load it
        for each other).
      - Not set, nothing is probed from the controller (RV(http_public) is absent).
    type: dict
  history:
    description:
      - Also read the baselines kept on the host (see M(baseline_history)), in the same run.
      - Not set, none are read (RV(history) is absent).
    type: dict
    suboptions:
      path:
        description: The O(baseline_history#module:path).
        type: path
        required: true
      read:
        description: The O(baseline_history#module:read).
        type: int
        default: 0
  timeout:
    description: Seconds that each command of the units and journal parts may take.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
notes:
  - Option errors in O(redis), O(postgres) or O(probe) fail the whole run, as they would fail
    the separate module's task; a fault met while reading fails only its part, as do option errors
    in O(public_probe).
seealso:
  - module: systemd_unit_facts
  - module: journal_errors
  - module: redis_facts
  - module: postgres_facts
  - module: http_probe
  - module: baseline_history
"""

EXAMPLES = r"""
- name: Measure the live colour of tsh_erp, Redis and PostgreSQL in one run
  baseline_facts:
    service: tsh_erp
    color_ports: {blue: 8001, green: 8002}
    upstream_file: /etc/nginx/tsh_erp-upstream.conf
    switch_file: /var/lib/deploy-baseline/tsh_erp/switch.json
    redis:
      host: 127.0.0.1
      port: 6379
      key_patterns: ["products:*", "orders:*"]
    postgres:
      db: tsh_erp
      run_as: postgres
    probe:
      endpoints:
        - {name: Health, path: /health}
        - {name: Orders list, path: /api/orders}
      warm_samples: 10
  register: baseline

- name: Show the live colour's memory and Redis' hit rate
  ansible.builtin.debug:
    msg: >-
      {{ baseline.color }}: {{ baseline.units.systemd_units['tsh_erp-' ~ baseline.color].memory_bytes }} bytes,
      Redis hit rate {{ baseline.redis.redis.hit_rate_pct | default('not read') }} %
"""

RETURN = r"""
color:
  description: The live colour measured; empty when it could not be told from O(upstream_file).
  returned: always
  type: str
  sample: green
local_port:
  description:
    - The live colour's port on the loopback from O(color_ports); V(0) without a live colour, or when
      the colour listens on a unix socket or another host (then it is not probed locally).
  returned: always
  type: int
  sample: 8002
upstream:
  description: What O(upstream_file) says and when it changed, against when nginx last loaded its configuration.
  returned: always
  type: dict
  sample: {"file": "/etc/nginx/tsh_erp-upstream.conf", "reason": "", "modified_at": "2026-11-29T17:58:03.120Z",
           "loaded_at": "2026-11-29T17:58:03.410Z", "loaded_at_error": "", "changed_after_load": false}
  contains:
    file:
      description: The include read; null without O(upstream_file).
      returned: always
      type: str
      sample: /etc/nginx/tsh_erp-upstream.conf
    reason:
      description:
        - With O(color=auto), why the file names no single colour (what it found); empty when it does.
      returned: always
      type: str
      sample: the upstream tsh_erp names 127.0.0.1:8001 and 127.0.0.1:8002, both live
    modified_at:
      description: When the file was last changed (its mtime, UTC, to the millisecond); null when it cannot be read.
      returned: always
      type: str
      sample: "2026-11-29T17:58:03.120Z"
    loaded_at:
      description:
        - "When nginx last loaded its configuration (UTC, to 10 ms): the start of its oldest current
          worker process, since a reload starts new workers while the master keeps its start time;
          null when it cannot be told."
      returned: always
      type: str
      sample: "2026-11-29T17:58:03.410Z"
    loaded_at_error:
      description: Why RV(upstream.modified_at) or RV(upstream.loaded_at) is null; empty when both are known.
      returned: always
      type: str
      sample: ""
    changed_after_load:
      description:
        - "True when the file was changed after nginx last loaded its configuration (by more than
          50 ms, the two readings' precision): the file may not be what nginx serves. Null when
          either time is unknown."
      returned: always
      type: bool
      sample: false
units:
  description: The units of every colour, as M(systemd_unit_facts) registers them.
  returned: always
  type: dict
  sample: {"systemd_units": {"tsh_erp-blue": {"exists": true, "active_state": "active"}}}
  contains:
    systemd_units: &part_facts
      description: The module's facts (see that module's RETURN); absent when the part failed or was skipped.
      returned: success
      type: dict
      sample: {}
    failed: &part_failed
      description: True when the part failed; the other parts ran all the same.
      returned: when the part failed
      type: bool
      sample: true
    msg: &part_msg
      description: Why the part failed, the message the module alone would give.
      returned: when the part failed
      type: str
      sample: "reading unit properties with systemctl show: no answer within 10 s"
    skipped: &part_skipped
      description: True when the part was not run.
      returned: when the part was not run
      type: bool
      sample: true
    warnings: &part_warnings
      description: The part's warnings (also given as the module's warnings).
      returned: when the part warned
      type: list
      elements: str
      sample: ["reading the journal of tsh_erp-green: ..."]
switch:
  description: The last blue/green switch recorded in O(switch_file).
  returned: always
  type: dict
  sample: {"switch": {"found": true, "path": "/var/lib/deploy-baseline/tsh_erp/switch.json", "kind": "switch",
           "from": "green", "to": "blue", "switched_at": "2026-12-02T03:25:14Z"}}
  contains:
    switch:
      description: The record; absent when it could not be read or was not asked for.
      returned: success
      type: dict
      sample: {"found": false, "path": "/var/lib/deploy-baseline/tsh_erp/switch.json"}
      contains:
        found:
          description: Whether the file exists; false before the first switch.
          returned: always
          type: bool
          sample: true
        path:
          description: The file read.
          returned: always
          type: str
          sample: /var/lib/deploy-baseline/tsh_erp/switch.json
        kind:
          description:
            - V(switch) (a candidate was promoted) or V(rollback) (the verification failed and the
              previous colour took the traffic back).
          returned: when found
          type: str
          sample: switch
        from:
          description: The colour that took the traffic before.
          returned: when found
          type: str
          sample: green
        to:
          description: The colour that took the traffic from then on.
          returned: when found
          type: str
          sample: blue
        switched_at:
          description: When nginx had loaded the switched upstream (UTC, ISO 8601).
          returned: when found
          type: str
          sample: "2026-12-02T03:25:14Z"
        service:
          description: The service the switch was for.
          returned: when found
          type: str
          sample: tsh_erp
    failed: *part_failed
    msg: *part_msg
    skipped: *part_skipped
journal:
  description: The live unit's errors since its start, as M(journal_errors) registers them.
  returned: always
  type: dict
  sample: {"journal_errors": {"error_count": 0, "lines_read": 12, "exact": true, "units": {}, "groups": [],
                              "other_groups": []}}
  contains:
    journal_errors: *part_facts
    failed: *part_failed
    msg: *part_msg
    skipped: *part_skipped
    warnings: *part_warnings
redis:
  description: The figures of Redis, as M(redis_facts) registers them.
  returned: always
  type: dict
  sample: {"redis": {"reachable": true, "hit_rate_pct": 25.0}}
  contains:
    redis: *part_facts
    failed: *part_failed
    msg: *part_msg
    skipped: *part_skipped
    warnings: *part_warnings
postgres:
  description: The figures of the database, as M(postgres_facts) registers them.
  returned: always
  type: dict
  sample: {"postgres": {"reachable": true, "database": "tsh_erp"}}
  contains:
    postgres: *part_facts
    failed: *part_failed
    msg: *part_msg
    skipped: *part_skipped
    warnings: *part_warnings
    deferred:
      description:
        - True when the database was not read here, for another task to read it. Either
          O(postgres.run_as) is another user and the module does not run as root (for a
          M(postgres_facts) task with C(become_user); RV(postgres.run_as) is set), or the database
          is reached over TCP (O(postgres.login_host)) and the host has no C(psql) (for a
          M(postgres_facts) task on the controller; RV(postgres.run_on) is set).
      returned: when deferred
      type: bool
      sample: true
    run_as:
      description: The user to read the database as, when deferred to another user.
      returned: when deferred to another user
      type: str
      sample: postgres
    run_on:
      description: V(controller), when deferred because the host has no C(psql).
      returned: when deferred for want of psql
      type: str
      sample: controller
http_local:
  description: The live colour's app probed on its local port, as M(http_probe) registers it.
  returned: always
  type: dict
  sample: {"http_probe": [{"name": "Health", "url": "http://127.0.0.1:8002/health", "ok": true}]}
  contains:
    http_probe: &probe_results
      description: The probe's results (see M(http_probe)'s RETURN); absent when the part failed or was skipped.
      returned: success
      type: list
      elements: dict
      sample: []
    failed: *part_failed
    msg: *part_msg
    skipped: *part_skipped
    warnings: *part_warnings
http_public:
  description: The public URL probed from the controller (O(public_probe)), as M(http_probe) registers it.
  returned: when O(public_probe) is set
  type: dict
  sample: {"http_probe": [{"name": "Health", "url": "https://erp.example.com/health", "ok": true}]}
  contains:
    http_probe: *probe_results
    failed: *part_failed
    msg: *part_msg
    warnings: *part_warnings
history:
  description: The baselines kept on the host, as M(baseline_history) returns them when it only reads.
  returned: when O(history) is set
  type: dict
  sample:
    folder: /var/lib/deploy-baseline/tsh_erp
    count: 1
    baselines: [{"name": "20261129T181502Z.yml", "text": "..."}]
  contains:
    folder:
      description: The folder.
      returned: success
      type: str
      sample: /var/lib/deploy-baseline/tsh_erp
    count:
      description: How many baselines the folder holds.
      returned: success
      type: int
      sample: 1
    baselines:
      description: The newest O(history.read) baselines, oldest first, each C({name, text}).
      returned: success
      type: list
      elements: dict
      sample: [{"name": "20261129T181502Z.yml", "text": "host: demo\n"}]
    failed: *part_failed
    msg: *part_msg
"""

import os
import pwd

from ansible.module_utils.baseline_history import HistoryError, history_argument_spec, read_history
from ansible.module_utils.baseline_journal import journal_argument_spec, read_journal_errors
from ansible.module_utils.baseline_live import endpoints_under, epoch_us, switch_record
from ansible.module_utils.baseline_nginx import color_addresses, include_state, live_color, local_port
from ansible.module_utils.baseline_parts import postgres_run_as, run_part
from ansible.module_utils.baseline_postgres import (
    POSTGRES_MUTUALLY_EXCLUSIVE,
    postgres_facts_argument_spec,
    read_postgres_facts,
)
from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints
from ansible.module_utils.baseline_redis import (
    REDIS_MUTUALLY_EXCLUSIVE,
    REDIS_REQUIRED_BY,
    REDIS_REQUIRED_TOGETHER,
    read_redis_facts,
    redis_facts_argument_spec,
)
from ansible.module_utils.baseline_systemd import read_unit_facts, systemd_argument_spec
from ansible.module_utils.basic import AnsibleModule

SKIPPED = {"skipped": True}
LOCAL_ADDRESS = "127.0.0.1"


def get_argument_spec() -> dict:
    """The module's options: each part's are the options of the module that reads it alone."""
    postgres = postgres_facts_argument_spec()
    postgres["run_as"] = dict(type="str", default="")
    endpoint = dict(probe_argument_spec()["endpoints"]["options"])
    endpoint["path"] = dict(endpoint.pop("url"))
    probe = probe_argument_spec()
    return dict(
        service=dict(type="str", required=True),
        color_ports=dict(type="dict", required=True),
        color=dict(type="str", default="auto"),
        upstream_file=dict(type="path"),
        switch_file=dict(type="path"),
        journal_patterns=journal_argument_spec()["patterns"],
        journal_max_seconds=journal_argument_spec()["max_seconds"],
        journal_traffic_since_us=journal_argument_spec()["traffic_since_us"],
        redis=dict(type="dict", options=redis_facts_argument_spec(),
                   mutually_exclusive=REDIS_MUTUALLY_EXCLUSIVE, required_by=REDIS_REQUIRED_BY,
                   required_together=REDIS_REQUIRED_TOGETHER),
        postgres=dict(type="dict", options=postgres, mutually_exclusive=POSTGRES_MUTUALLY_EXCLUSIVE),
        probe=dict(type="dict", options=dict(
            endpoints=dict(type="list", elements="dict", required=True, options=endpoint),
            warm_samples=probe["warm_samples"],
            timeout_s=dict(probe["timeout_s"], aliases=[]),
        )),
        # Checked against http_probe's options by the action plugin, which probes it (run_part).
        public_probe=dict(type="dict"),
        history=dict(type="dict", options=history_argument_spec()),
        timeout=systemd_argument_spec()["timeout"],
    )


REQUIRED_IF = [("color", "auto", ("upstream_file",))]


def read_text(path: str) -> tuple[str | None, str]:
    """(the file's text, '') or (None, why it cannot be read); newlines are kept as written (CRLF)."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as upstream:
            return upstream.read(), ""
    except OSError as e:
        return None, f"unable to read {path}: {e.strerror}"


def read_upstream(params: dict) -> tuple[str, dict]:
    """The colour to measure, and what the upstream file says (the reason when it names no single colour)."""
    path = params["upstream_file"]
    color, reason = params["color"], ""
    if color == "auto":
        text, reason = read_text(path)
        if text is not None:
            color, reason = live_color(text, params["color_ports"], params["service"])
        else:
            color = ""
    state = include_state(path) if path else {
        "modified_at": None, "loaded_at": None, "loaded_at_error": "no upstream_file given",
        "changed_after_load": None}
    return color, {"file": path, "reason": reason, **state}


def read_switch(path: str | None) -> dict:
    """The switch part: the record in path, {found: false} when there is none yet, or why it cannot be read."""
    if path is None:
        return dict(SKIPPED)
    try:
        with open(path, encoding="utf-8") as record:
            text = record.read()
    except FileNotFoundError:
        return {"switch": {"found": False, "path": path}}
    except (OSError, UnicodeDecodeError) as exc:
        return {"failed": True, "msg": f"unable to read the switch record {path}: {exc}"}
    try:
        return {"switch": dict(switch_record(text), found=True, path=path)}
    except ValueError as exc:
        return {"failed": True, "msg": f"unable to read the switch record {path}: {exc}"}


def current_user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def read_postgres(module, options: dict | None) -> dict:
    """The postgres part: as the module's user, as run_as through runuser, or deferred (to
    another user, or to the controller when the database is reached over TCP and there is no psql here)."""
    if options is None:
        return dict(SKIPPED)
    if options.get("login_host") and module.get_bin_path("psql") is None:
        return {"deferred": True, "run_on": "controller"}
    run_as = options["run_as"]
    how = postgres_run_as(run_as, current_user(), os.geteuid() == 0)
    if how == "deferred":
        return {"deferred": True, "run_as": run_as}
    params = {name: value for name, value in options.items() if name != "run_as"}
    return run_part(module, read_postgres_facts, "postgres", params, run_as=run_as if how == "runuser" else None)


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), required_if=REQUIRED_IF, supports_check_mode=True)
    params = module.params
    ports = params["color_ports"]
    try:
        color_addresses(ports)
    except ValueError as e:
        module.fail_json(msg=f"argument 'color_ports' must map each colour to a port or an address"
                             f" (HOST:PORT, unix:PATH): {e}")
    color, upstream = read_upstream(params)
    port = local_port(ports[color]) if color in ports else 0
    service, timeout = params["service"], params["timeout"]

    result = {"color": color, "local_port": port, "upstream": upstream,
              "switch": read_switch(params["switch_file"])}
    switch = result["switch"].get("switch") or {}
    traffic_since_us = params["journal_traffic_since_us"]
    if traffic_since_us is None and color and switch.get("found") and switch.get("to") == color:
        traffic_since_us = epoch_us(switch["switched_at"])
    result["units"] = run_part(module, read_unit_facts, "systemd_units",
                               {"units": [f"{service}-{name}" for name in ports], "timeout": timeout},
                               systemd_argument_spec())
    result["journal"] = dict(SKIPPED) if not color else run_part(
        module, read_journal_errors, "journal_errors",
        {"units": [f"{service}-{color}"], "patterns": params["journal_patterns"], "timeout": timeout,
         "max_seconds": params["journal_max_seconds"], "traffic_since_us": traffic_since_us},
        journal_argument_spec())
    result["redis"] = dict(SKIPPED) if params["redis"] is None else run_part(
        module, read_redis_facts, "redis", params["redis"])
    result["postgres"] = read_postgres(module, params["postgres"])
    probe = params["probe"]
    result["http_local"] = dict(SKIPPED) if probe is None or not port else run_part(
        module, probe_endpoints, "http_probe",
        dict(probe, endpoints=endpoints_under(probe["endpoints"], f"http://{LOCAL_ADDRESS}:{port}")),
        probe_argument_spec())
    if params["history"] is not None:
        try:
            result["history"] = read_history(params["history"]["path"], params["history"]["read"])
        except HistoryError as exc:
            result["history"] = {"failed": True, "msg": str(exc)}
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
