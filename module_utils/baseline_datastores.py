"""Datastores with hosts of their own: which hosts they are, their records, and where each figure was read.

The app hosts name the inventory hosts their Redis and PostgreSQL run on (the role's
baseline_redis_inventory_host / baseline_db_inventory_host). datastore_hosts finds those hosts in
the inventory: each is measured as a datastore host (its units and their journal errors,
datastore_host_facts), never as an app host. datastore_host_record builds such a host's record
(its report: templates/datastore.md.j2); datastore_readings says, for an app host's report, where
each datastore's figures were read from and links it to its host's report. Pure, standard library
only; bad input raises RecordError, which the filters (filter_plugins/baseline.py) name.
"""

from __future__ import annotations

from ansible.module_utils.baseline_catalogue import human_bytes
from ansible.module_utils.baseline_record import (
    VERDICT_TEXT,
    RecordError,
    journal_reading,
    registered_facts,
    unit_status,
    worst_status,
)

# The datastores of an app host, as its report's parts name them.
KINDS = ("Redis", "Database")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def datastore_hosts(named, inventory):
    """{datastore host: {kind: [app hosts]}} from what each host names (named: {host: {kind: inventory
    host or ''}}), for the names that are hosts of the inventory.

    A host named by another is a datastore host; what a datastore host names itself does not count
    (an extra variable given to every host names the datastore host too). Kinds no app host names
    are left out, and so is a host no app host names.
    """
    if not isinstance(named, dict) or not all(isinstance(kinds, dict) for kinds in named.values()):
        raise RecordError("expected what each host names as {host: {kind: inventory host}}")
    if not isinstance(inventory, (list, tuple, set)):
        raise RecordError("expected the inventory's hosts as a list")
    known = set(inventory)
    datastores = {name for host, kinds in named.items() for name in kinds.values()
                  if name and name != host and name in known}
    found = {}
    for host in sorted(set(named) - datastores):
        for kind in KINDS:
            name = named[host].get(kind) or ""
            if name in datastores:
                found.setdefault(name, {}).setdefault(kind, []).append(host)
    return found


def _unit_row(name, facts, journal, member_of):
    """One unit of a datastore host's record: its facts, status, and its journal's count since it started."""
    status = unit_status(facts, "not measured")
    counted = (journal or {}).get(name) or {}
    facts = facts or {}
    process = facts.get("process") or {}
    return {
        "name": name, "member_of": member_of, "exists": facts.get("exists"),
        "status": status["status"], "text": status["text"],
        "active_since": facts.get("active_since"), "uptime_s": facts.get("uptime_s"),
        "main_pid": facts.get("main_pid"), "command": process.get("comm"),
        "memory_bytes": facts.get("memory_bytes"), "memory_source": (facts.get("sources") or {}).get("memory"),
        "cpu_avg_pct": facts.get("cpu_avg_pct"), "restarts": facts.get("restarts"),
        "error_count": counted.get("error_count"), "journal_exact": counted.get("exact"),
    }


def datastore_host_record(result, context):
    """The record of a datastore host, from datastore_host_facts' registered result and the run's context.

    context: host, environment, measured_at, stamp (the run's report name), serves ({kind: [app
    hosts]}, from datastore_hosts), units ({kind: [unit names]}: the role's baseline_redis_units
    and baseline_db_units).
    """
    if not isinstance(result, dict) or not isinstance(context, dict):
        raise RecordError("expected datastore_host_facts' result and the context as dicts")
    serves = context.get("serves") or {}
    units_of = context.get("units") or {}
    members = result.get("members") or {}
    unreachable = (result.get("msg") or "no reason given") if result.get("unreachable") else None
    if unreachable:
        problem = f"host unreachable: {unreachable}"
        units, journal, journal_problem = None, None, None
    else:
        units, problem = registered_facts(result.get("units", result), "systemd_units")
        journal, journal_problem = registered_facts(result.get("journal", result), "journal_errors")
    per_unit = (journal or {}).get("units") or {}
    datastores = []
    for kind in KINDS:
        if kind not in serves:
            continue
        rows = []
        for name in units_of.get(kind) or []:
            rows.append(_unit_row(name, (units or {}).get(name), per_unit, None))
            rows += [_unit_row(member, (units or {}).get(member), per_unit, name) for member in members.get(name, [])]
        stamp = context.get("stamp")
        datastores.append({
            "kind": kind, "units": rows if units is not None else [],
            "app_hosts": [{"host": app, "report": f"../{app}/{stamp}.md"} for app in serves[kind]],
        })
    statuses = [row["status"] for d in datastores for row in d["units"]]
    problems = {k: v for k, v in (("units", problem), ("journal", journal_problem)) if v}
    verdict = worst_status(statuses + ["failed" for _ in problems])
    return {
        "host": context.get("host"), "environment": context.get("environment"),
        "measured_at": context.get("measured_at"), "reachable": not unreachable,
        "unreachable_reason": unreachable, "problems": problems, "datastores": datastores,
        "journal": journal_reading(journal), "groups": (journal or {}).get("groups") or [],
        "other_groups": (journal or {}).get("other_groups") or [],
        "verdict": {"status": verdict, "text": VERDICT_TEXT[verdict]},
    }


def _read_from(kind, settings, app):
    """Where an app host read a datastore's figures, in words; and whether that is its own local one."""
    if kind == "Redis":
        host = settings.get("host") or "127.0.0.1"
        tls = bool(settings.get("tls"))
        words = [f"{app} {'over TLS' if tls else 'without TLS'} at {host}:{settings.get('port')}"]
        if tls and settings.get("tls_server_name"):
            words.append(f"the certificate checked for {settings['tls_server_name']}")
        if settings.get("user"):
            words.append(f"as {settings['user']}")
        return ", ".join(words), host in LOOPBACK and not tls
    host = settings.get("host")
    controller = settings.get("read_on") == "controller"
    reader = f"the controller ({app} has no psql)" if controller else app
    if not host:
        user = settings.get("become_user") or settings.get("login_user") or "the SSH user"
        return f"{reader} over the local socket, as {user}", True
    return (f"{reader} over TCP at {host}:{settings.get('port')} (sslmode {settings.get('ssl_mode')}), "
            f"as {settings.get('login_user') or 'postgres'}"), False


def _unit_words(row):
    """A unit as the app host's report names it: state, memory, restarts, errors since it started."""
    words = [f"{row['name']} {row['text']}"]
    if row["memory_bytes"] is not None:
        words.append(human_bytes(row["memory_bytes"]))
    if row["error_count"] is not None:
        at_least = "" if row["journal_exact"] is not False else "at least "
        words.append(f"{at_least}{row['error_count']} journal error(s) since it started")
    return ", ".join(words)


def _host_reading(kind, name, host_record, known, stamp):
    """What the app host's report says of a datastore's host: {host, report, status, text, problem}."""
    if not known:
        text = (f"{name} is not a datastore host of the inventory (no host of that name, or this host itself): "
                f"its units were not measured")
        return {"host": name, "report": None, "status": "failed", "text": text, "problem": text}
    if host_record is None:
        return {"host": name, "report": f"../{name}/latest.md", "status": "pending", "problem": None,
                "text": f"units not measured in this run: {name} is not among the run's hosts (--limit, or "
                        f"another job's slice); its latest report is linked"}
    report = f"../{name}/{stamp}.md"
    problems = host_record.get("problems") or {}
    if not host_record.get("reachable"):
        text = f"datastore host {name} unreachable: {host_record.get('unreachable_reason')}"
        return {"host": name, "report": report, "status": "failed", "text": text, "problem": text}
    if "units" in problems:
        text = f"units of datastore host {name} not measured: {problems['units']}"
        return {"host": name, "report": report, "status": "failed", "text": text, "problem": text}
    rows = next((d["units"] for d in host_record.get("datastores", []) if d["kind"] == kind), [])
    text = f"units read on {name}: " + "; ".join(_unit_words(row) for row in rows)
    if "journal" in problems:
        text += f"; their journal not read: {problems['journal']}"
    return {"host": name, "report": report, "status": worst_status([row["status"] for row in rows]),
            "problem": None, "text": text}


def datastore_readings(settings, stamp):
    """Per datastore of an app host ({kind: settings}), where its figures were read from and its host.

    settings of each kind: app (the app host), read_on ('controller' for PostgreSQL read from
    there, else the app host), host, port, and tls / tls_server_name / user (Redis) or ssl_mode /
    login_user / become_user (PostgreSQL); inventory_host (the datastore host named, or ''), known
    (whether it is a datastore host of the inventory, datastore_hosts) and host_record (its record of this run,
    datastore_host_record, or None).
    Returns {kind: {read_from, local, host, report, status, text, problem}}: local is true when the
    app host read its own datastore (on its loopback or socket, no host named), as the seed does.
    """
    if not isinstance(settings, dict):
        raise RecordError("expected each datastore's settings as a dict")
    readings = {}
    for kind in KINDS:
        given = settings.get(kind)
        if given is None:
            continue
        if not isinstance(given, dict) or not given.get("app"):
            raise RecordError(f"expected the settings of {kind} as a dict with the app host")
        read_from, local = _read_from(kind, given, given["app"])
        reading = {"read_from": read_from, "local": local and not given.get("inventory_host"),
                   "host": None, "report": None, "status": None, "text": None, "problem": None}
        if given.get("inventory_host"):
            reading.update(_host_reading(kind, given["inventory_host"], given.get("host_record"),
                                         given.get("known", True), stamp))
        readings[kind] = reading
    return readings
