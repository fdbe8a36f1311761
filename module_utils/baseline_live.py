"""The live colour's endpoints and its last blue/green switch: pure helpers, standard library only.

Shared by the baseline_facts module (on the target), the filter dbl_endpoints_under
(filter_plugins/baseline.py) and the baseline record (module_utils/baseline_record.py), both on the
controller. The live colour itself is read from nginx's include by module_utils/baseline_nginx.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone


def endpoints_under(endpoints: list, base_url: str) -> list:
    """The role's endpoints ({name, path, ...}) as http_probe endpoints ({name, url, ...}) under base_url."""
    return [{k: v for k, v in dict(e, url=base_url.rstrip("/") + e["path"]).items() if k != "path"}
            for e in endpoints]


# The blue/green switch record: the bluegreen role writes it on the host after each switch and
# rollback (roles/bluegreen/tasks/point.yml); the baseline_facts module reads it back.
SWITCH_KINDS = ("switch", "rollback")
# Python 3.8's fromisoformat reads 6 fraction digits or none.
_SWITCH_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?(Z|[+-]\d{2}:\d{2})$")


def switch_record(text: str) -> dict:
    """The last switch recorded: {service, kind, from, to, switched_at}; ValueError naming what is wrong."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if record.get("kind") not in SWITCH_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SWITCH_KINDS)}, got {record.get('kind')!r}")
    for key in ("from", "to"):
        if not isinstance(record.get(key), str) or not record[key]:
            raise ValueError(f"{key} must name a colour, got {record.get(key)!r}")
    if not isinstance(record.get("switched_at"), str) or not _SWITCH_TIME.match(record["switched_at"]):
        raise ValueError(f"switched_at must be an ISO 8601 time with its zone, got {record.get('switched_at')!r}")
    return {key: record[key] for key in ("service", "kind", "from", "to", "switched_at") if key in record}


def _moment(when: str) -> datetime:
    return datetime.fromisoformat(when.replace("Z", "+00:00"))


def epoch_us(when: str) -> int:
    """An ISO 8601 time with its zone (a switch record's switched_at) in microseconds since the epoch."""
    return (_moment(when) - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def deploy_time(switch: dict | None, switch_problem: str | None, color: str, unit_since: str | None) -> dict:
    """When the live colour was deployed: {at, source, text}.

    The deploy of a blue/green service is the moment its colour began to take traffic: the last
    switch (or rollback) when it pointed at the live colour and the unit has run since; otherwise
    (no record, the last switch pointed at the other colour, the unit restarted after it: a plain
    restart deploy) the unit's start. source is switch, rollback, unit_start, or None when neither
    is known.
    """
    if switch and switch.get("to") == color and color:
        at = switch["switched_at"]
        what = "switch" if switch["kind"] == "switch" else "rollback"
        if not unit_since or _moment(unit_since) <= _moment(at):
            return {"at": at, "source": switch["kind"],
                    "text": f"the blue/green {what} from {switch['from']} to {switch['to']} at {at}"}
        why = f"it restarted after the {what} to {switch['to']} at {at}"
    elif switch:
        why = f"the last switch, at {switch['switched_at']}, pointed at {switch['to']}"
    else:
        why = switch_problem or "no blue/green switch recorded"
    if not unit_since:
        return {"at": None, "source": None, "text": f"unknown ({why}; the unit's start is not known)"}
    return {"at": unit_since, "source": "unit_start", "text": f"the unit's start at {unit_since} ({why})"}
