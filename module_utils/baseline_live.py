"""The live colour's endpoints: pure helpers, standard library only.

Shared by the baseline_facts module (on the target) and the role's filter probe_endpoints
(filter_plugins/baseline.py, on the controller, which puts module_utils on its import path). The live
colour itself is read from nginx's include by module_utils/baseline_nginx.py.
"""

from __future__ import annotations


def endpoints_under(endpoints: list, base_url: str) -> list:
    """The role's endpoints ({name, path, ...}) as http_probe endpoints ({name, url, ...}) under base_url."""
    return [{k: v for k, v in dict(e, url=base_url.rstrip("/") + e["path"]).items() if k != "path"}
            for e in endpoints]
