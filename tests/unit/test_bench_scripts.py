"""Every benchmark under bench/ starts: its imports hold (the code it measures moves) and it takes --help."""

import subprocess
import sys

import pytest
from conftest import PROJECT

SCRIPTS = sorted(p.name for p in (PROJECT / "bench").iterdir()
                 if p.name == "run" or (p.suffix == ".py" and p.name != "benchlib.py"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_starts(script):
    done = subprocess.run([sys.executable, str(PROJECT / "bench" / script), "--help"],
                          capture_output=True, text=True, cwd=PROJECT, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_probe_fidelity_measures_a_local_server(http_server, tmp_path):
    """The one benchmark that needs no target runs whole against a local server (curl and the probe)."""
    rows = tmp_path / "rows.json"
    done = subprocess.run([sys.executable, str(PROJECT / "bench" / "probe_fidelity.py"),
                           "--url", f"http://127.0.0.1:{http_server.port}/ok", "--samples", "5", "--runs", "2",
                           "--rows", str(rows)], capture_output=True, text=True, cwd=PROJECT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "probe fidelity: warm p50 vs curl time_total" in rows.read_text()
