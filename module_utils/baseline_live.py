"""The live colour of a blue/green pair and its endpoints: pure helpers, standard library only.

Shared by the baseline_facts module (on the target) and the role's filters upstream_color and
probe_endpoints (filter_plugins/baseline.py, on the controller, which puts module_utils on its import path).
"""

from __future__ import annotations

import re

_UPSTREAM_SERVER = re.compile(r"^\s*server\s+[^;:\s]+:(\d+)", re.MULTILINE)


def upstream_color(text: str | None, color_ports: dict) -> str:
    """The colour whose local port nginx's upstream include names; '' when none or several match."""
    servers = _UPSTREAM_SERVER.findall(text or "")
    live = [color for color, port in sorted(color_ports.items()) if str(port) in servers]
    return live[0] if len(live) == 1 else ""


def endpoints_under(endpoints: list, base_url: str) -> list:
    """The role's endpoints ({name, path, ...}) as http_probe endpoints ({name, url, ...}) under base_url."""
    return [{k: v for k, v in dict(e, url=base_url.rstrip("/") + e["path"]).items() if k != "path"}
            for e in endpoints]
