"""http_probe's action plugin: on the controller the probe runs in the task's process, with the
same options, result and secrecy as the module, which still runs everywhere else."""

import json

from conftest import run_playbook

SECRET = "Bearer s3cr3t-value"


def probe_task(name, port, **extra):
    return dict({
        "name": name,
        "http_probe": {"endpoints": [
            {"name": "ok", "url": f"http://127.0.0.1:{port}/ok"},
            {"name": "echo", "url": f"http://127.0.0.1:{port}/echo", "headers": {"Authorization": SECRET}},
            {"name": "missing", "url": f"http://127.0.0.1:{port}/status/500"},
        ], "warm_samples": 3},
        "register": name,
    }, **extra)


def shape(result):
    """What must not depend on where the probe ran: keys, statuses, errors, sample counts."""
    return [{"keys": sorted(endpoint), "status": endpoint["status"], "ok": endpoint["ok"],
             "error_kind": endpoint.get("error_kind"), "warm_n": (endpoint.get("warm") or {}).get("samples")}
            for endpoint in result["http_probe"]]


def test_in_process_and_as_a_module_give_the_same_result(tmp_path, http_server):
    status, output = run_playbook(tmp_path, [
        probe_task("here", http_server.port),
        # environment: the action leaves such a task to the module, in its own process.
        probe_task("module", http_server.port, environment={"DEPLOY_BASELINE_TEST": "1"}),
        probe_task("bad", 0, vars={"ignore": 1}, ignore_errors=True) | {"http_probe": {"endpoints": [
            {"url": "ftp://127.0.0.1/x"}]}},
        {"name": "Save", "ansible.builtin.copy": {
            "content": "{{ {'here': here, 'module': module, 'bad': bad} | to_json }}",
            "dest": str(tmp_path / "results.json"), "mode": "0644"}},
    ], "-e", f"ansible_remote_tmp={tmp_path / 'remote'}", env={"ANSIBLE_KEEP_REMOTE_FILES": "1"})
    assert status == 0, output
    results = json.loads((tmp_path / "results.json").read_text())
    here, module = results["here"], results["module"]
    # One module was sent (the second task's): the first probe ran in the task's process.
    assert len(list((tmp_path / "remote").glob("*/AnsiballZ_http_probe.py"))) == 1
    assert shape(here) == shape(module)
    assert [e["status"] for e in here["http_probe"]] == [200, 200, 500]
    assert results["bad"]["failed"] and results["bad"]["msg"].startswith("unable to probe: ")
    # The secret header is censored in both results, and never printed.
    assert SECRET not in (tmp_path / "results.json").read_text() and SECRET not in output
