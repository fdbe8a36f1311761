"""baseline_facts' action plugin: the host measured by the module, the public URL probed on the
controller in the same task, once for the hosts of the task that give the same options."""

import json
import multiprocessing
import time

from conftest import load_action_plugin, run_playbook

action = load_action_plugin("baseline_facts")
SECRET = "Bearer s3cr3t-value"


def test_the_first_process_computes_and_the_others_wait_for_its_result(tmp_path):
    calls = tmp_path / "calls"

    def compute():
        with calls.open("a") as out:
            out.write("computed\n")
        time.sleep(0.3)  # the others arrive while it computes
        return {"answer": 42, "pair": (1, 2)}

    def host(key, out):
        out.put(action.shared(tmp_path, key, compute))

    results = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=host, args=(key, results))
               for key in ("a", "a", "a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert calls.read_text() == "computed\n" * 2  # once for "a", once for "b"
    assert [results.get(timeout=1) for _ in workers] == [{"answer": 42, "pair": [1, 2]}] * 4


def test_one_key_per_task_check_mode_and_options():
    options = {"endpoints": [{"url": "https://erp.example.com/health"}], "warm_samples": 10}
    key = action.probe_key("task-1", False, options)
    assert key == action.probe_key("task-1", False, json.loads(json.dumps(options)))
    assert len({key, action.probe_key("task-2", False, options), action.probe_key("task-1", True, options),
                action.probe_key("task-1", False, dict(options, warm_samples=3))}) == 4


def measure_task(port, warm_samples="{{ warm }}"):
    return {"name": "Measure", "baseline_facts": {
        "service": "tsh_erp", "color_ports": {"blue": 1, "green": 2}, "color": "green",
        "public_probe": {"endpoints": [
            {"name": "ok", "url": f"http://127.0.0.1:{port}/ok"},
            {"name": "echo", "url": f"http://127.0.0.1:{port}/echo", "headers": {"Authorization": SECRET}},
            {"name": "sent", "url": f"http://127.0.0.1:{port}/echo", "method": "POST", "body": "x"},
        ], "warm_samples": warm_samples}},
        "register": "measured"}


def save_task(tmp_path):
    return {"name": "Save", "ansible.builtin.copy": {
        "content": "{{ measured | to_json }}", "dest": f"{tmp_path}/{{{{ inventory_hostname }}}}.json",
        "mode": "0644"}, "delegate_to": "localhost", "check_mode": False}


def test_hosts_with_the_same_options_share_one_probe_and_the_others_get_theirs(tmp_path, http_server):
    before = http_server.connections
    status, output = run_playbook(tmp_path, [measure_task(http_server.port), save_task(tmp_path)],
                                  hosts={"h1": {"warm": 2}, "h2": {"warm": 2}, "h3": {"warm": 3}})
    assert status == 0, output
    measured = {host: json.loads((tmp_path / f"{host}.json").read_text()) for host in ("h1", "h2", "h3")}
    # Three endpoints, one cold connection each, for each of the two sets of options.
    assert http_server.connections - before == 6
    assert measured["h1"]["http_public"] == measured["h2"]["http_public"]
    assert [e["warm"]["samples"] for e in measured["h1"]["http_public"]["http_probe"]] == [2, 2, 2]
    assert [e["warm"]["samples"] for e in measured["h3"]["http_public"]["http_probe"]] == [3, 3, 3]
    # The module ran on each host all the same.
    assert all(result["color"] == "green" and "units" in result for result in measured.values())
    # The secret header is censored in the results, and never printed.
    assert SECRET not in output and all(SECRET not in json.dumps(result) for result in measured.values())


def test_in_check_mode_the_probe_sends_no_unsafe_request(tmp_path, http_server):
    status, output = run_playbook(tmp_path, [measure_task(http_server.port, 1), save_task(tmp_path)], "--check")
    assert status == 0, output
    probed = json.loads((tmp_path / "localhost.json").read_text())["http_public"]["http_probe"]
    assert [(e["name"], e["skipped"], e["status"]) for e in probed] == [
        ("ok", False, 200), ("echo", False, 200), ("sent", True, None)]
