"""http_load against real servers on 127.0.0.1 (see local_http.py).

No assertion is on how fast anything went: the machine is shared and noisy. They check counts,
bounds that follow from the schedule, orderings and kinds of error.
"""

import base64
import io
import json
import re
import zipfile
from pathlib import Path

import http_load
import pytest
from ansible.module_utils import baseline_load
from conftest import run_playbook
from local_http import refused_port, silent_listener
from module_runner import run_module


def load(**args):
    args.setdefault("timeout_s", 5)
    outcome, result = run_module(http_load.main, args)
    assert outcome == "exit", result
    assert result["changed"] is False
    return result["http_load"]


def assert_latency_order(latency):
    values = [latency[key] for key in ("min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")]
    assert values == sorted(values)
    assert latency["min_ms"] <= latency["mean_ms"] <= latency["max_ms"]


def no_errors():
    return dict.fromkeys(("dns", "refused", "timeout", "tls", "connection", "protocol", "http_status"), 0)


# ---------------------------------------------------------------------------------------------
# Pure helpers


@pytest.mark.parametrize(("params", "expected"), [
    ({"concurrency": 0}, ["concurrency must be 1 or more, not 0"]),
    ({"requests": -5}, ["requests must be 1 or more, not -5"]),
    ({"rate_rps": 0.0, "timeout_s": -1.0}, ["rate_rps must be more than 0, not 0.0",
                                             "timeout_s must be more than 0, not -1.0"]),
    ({"duration_s": 600.0, "max_duration_s": 300.0},
     ["duration_s (600.0) is more than max_duration_s (300.0); raise max_duration_s"]),
    ({"concurrency": 100, "requests": 1000, "duration_s": 10.0, "max_duration_s": 300.0}, []),
])
def test_plan_errors(params, expected):
    assert baseline_load.plan_errors(params) == expected


def test_build_plan_defaults_to_a_thousand_requests():
    params = {"url": "http://erp.demo.test/health", "method": "GET", "headers": {}, "body": None,
              "status_code": [200], "concurrency": 10, "requests": None, "duration_s": None,
              "rate_rps": None, "max_duration_s": 300.0, "timeout_s": 10.0, "validate_certs": True,
              "ca_path": None, "resolve": ["erp.demo.test:80:127.0.0.1:8001"], "progress_file": None,
              "progress_interval_s": 5.0}
    plan = baseline_load.build_plan(params)
    assert plan.requests == 1000
    assert (plan.route.address, plan.route.port, plan.route.resolved_by) == ("127.0.0.1", 8001, "resolve")
    assert plan.request.startswith(b"GET /health HTTP/1.1\r\nHost: erp.demo.test\r\n")
    assert baseline_load.build_plan(dict(params, duration_s=5.0)).requests is None


# ---------------------------------------------------------------------------------------------
# main() against real servers


def test_closed_loop_by_request_count(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/ok", concurrency=5, requests=60)
    assert (result["requests"], result["responses"], result["bytes"]) == (60, 60, 300)
    assert result["status_codes"] == {"200": 60}
    assert result["errors"] == no_errors() and result["error_messages"] == {}
    assert result["connections"] == 5
    assert result["stopped_by"] == "requests" and result["latency_from"] == "sent"
    assert result["rps"] > 0 and result["duration_s"] > 0
    assert (result["concurrency"], result["rate_rps"], result["method"]) == (5, None, "GET")
    assert_latency_order(result["latency"])


def test_chunked_responses_and_more_connections_than_requests(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/chunked", concurrency=10, requests=4)
    assert (result["requests"], result["responses"], result["bytes"]) == (4, 4, 44)
    assert result["connections"] <= 4


def test_server_closing_each_connection(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/close", concurrency=2, requests=10)
    assert result["responses"] == 10
    assert result["connections"] == 10
    assert result["errors"] == no_errors()


def test_stops_after_duration(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/ok", concurrency=2, duration_s=0.3)
    assert result["stopped_by"] == "duration"
    assert result["duration_s"] >= 0.3
    assert result["requests"] == result["responses"] > 0


def test_hard_cap_wins_over_a_large_request_count(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/ok", concurrency=2, requests=10**9,
                  max_duration_s=0.3)
    assert result["stopped_by"] == "max_duration"
    assert result["requests"] < 10**9


def test_constant_rate_counts_from_due_time(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/ok", concurrency=4, duration_s=0.5, rate_rps=40)
    assert result["latency_from"] == "due" and result["rate_rps"] == 40.0
    # Requests are due at 0, 25, 50 ... 475 ms: at most 20 of them fall in the half second.
    assert 0 < result["requests"] <= 20
    assert result["responses"] == result["requests"]
    assert_latency_order(result["latency"])


def test_unexpected_status_is_counted(http_server):
    url = f"http://127.0.0.1:{http_server.port}/status/500"
    result = load(url=url, concurrency=3, requests=9, status_code=[204, 200])
    assert result["responses"] == 9 and result["status_codes"] == {"500": 9}
    assert result["errors"] == dict(no_errors(), http_status=9)
    assert result["error_messages"] == {
        "http_status": f"GET {url} answered 500 Internal Server Error, expected 200, 204"}


def test_listed_statuses_are_not_errors(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/status/503", requests=3, concurrency=1,
                  status_code=[503])
    assert result["errors"] == no_errors() and result["status_codes"] == {"503": 3}


def test_post_with_body(http_server):
    result = load(url=f"http://127.0.0.1:{http_server.port}/echo", method="POST", body="x" * 10,
                  requests=4, concurrency=2)
    assert result["responses"] == 4 and result["errors"] == no_errors()


def test_refused_connections_are_errors():
    port = refused_port()
    result = load(url=f"http://127.0.0.1:{port}/", concurrency=3, requests=12)
    assert (result["requests"], result["responses"]) == (12, 0)
    assert result["errors"] == dict(no_errors(), refused=12)
    assert result["error_messages"] == {"refused": f"unable to connect to 127.0.0.1:{port}: Connection refused"}
    assert result["latency"]["p50_ms"] is None
    assert result["status_codes"] == {}


def test_silent_server_times_out():
    with silent_listener() as port:
        result = load(url=f"http://127.0.0.1:{port}/", concurrency=3, requests=3, timeout_s=0.3)
    assert result["errors"] == dict(no_errors(), timeout=3)
    assert result["error_messages"]["timeout"] == f"unable to get a response from 127.0.0.1:{port}: timed out"


def test_tls_verified_through_resolve(tls_server, certificate):
    result = load(url=f"https://probe.test:{tls_server.port}/ok", resolve=[f"probe.test:{tls_server.port}:127.0.0.1"],
                  ca_path=str(certificate[0]), concurrency=3, requests=15)
    assert result["responses"] == 15 and result["errors"] == no_errors()
    assert result["connections"] == 3
    assert "probe.test" in tls_server.sni_names


def test_tls_self_signed_with_checking_on(tls_server):
    result = load(url=f"https://probe.test:{tls_server.port}/ok", resolve=[f"probe.test:{tls_server.port}:127.0.0.1"],
                  concurrency=2, requests=4)
    assert result["errors"] == dict(no_errors(), tls=4)
    assert "certificate verify failed: self-signed certificate" in result["error_messages"]["tls"]


def test_dns_failure_stops_the_test(invalid_names_fail):
    result = load(url="http://no-such-host.invalid/", requests=10)
    assert result["stopped_by"] == "error" and result["address"] is None
    assert result["errors"] == dict(no_errors(), dns=1)
    assert result["error_messages"] == {"dns": "unable to resolve no-such-host.invalid: Name or service not known"}


def test_progress_file(http_server, tmp_path):
    progress = tmp_path / "load.progress"
    result = load(url=f"http://127.0.0.1:{http_server.port}/ok", concurrency=2, duration_s=0.5,
                  progress_file=str(progress), progress_interval_s=0.1)
    lines = [json.loads(line) for line in progress.read_text().splitlines()]
    assert len(lines) >= 3
    assert lines[0]["requests"] == 0 and lines[-1]["done"] is True
    assert lines[-1]["requests"] == result["requests"]
    counts = [line["requests"] for line in lines]
    assert counts == sorted(counts)
    assert set(lines[1]) == {"elapsed_s", "requests", "errors", "rps"}


def test_check_mode_does_not_load(http_server):
    outcome, result = run_module(http_load.main, {"url": f"http://127.0.0.1:{http_server.port}/ok",
                                                  "_ansible_check_mode": True})
    assert outcome == "exit"
    assert result["skipped"] is True and result["changed"] is False
    assert "http_load" not in result
    assert result["msg"] == "load test not run in check mode: it loads the service, which is not read-only"


@pytest.mark.parametrize(("args", "message"), [
    ({"url": "http://x/", "concurrency": 0}, "unable to run the load test: concurrency must be 1 or more, not 0"),
    ({"url": "http://x/", "duration_s": 10, "max_duration_s": 5},
     "unable to run the load test: duration_s (10.0) is more than max_duration_s (5.0); raise max_duration_s"),
    ({"url": "gopher://x/"}, "unable to run the load test: unsupported URL scheme 'gopher' in 'gopher://x/':"
                             " use http or https"),
    ({"url": "https://x/", "ca_path": "/nonexistent/ca.pem"},
     "unable to run the load test: unable to load the CA file /nonexistent/ca.pem: No such file or directory"),
    ({"url": "http://x/", "headers": {"Authorization": "Bearer €"}},
     "unable to run the load test: header 'Authorization' holds a character HTTP/1.1 cannot send"
     " (a header is Latin-1 text); encode it, e.g. percent-encoded"),
    ({"url": "http://x/", "resolve": ["x:80:"]},
     "unable to run the load test: bad resolve entry 'x:80:': use HOST:PORT:ADDRESS or HOST:PORT:ADDRESS:PORT"),
])
def test_rejects_bad_options(args, message):
    outcome, result = run_module(http_load.main, args)
    assert outcome == "fail"
    assert result["msg"] == message


def test_argument_spec_checks_types():
    outcome, result = run_module(http_load.main, {"url": "http://x/", "requests": "many"})
    assert outcome == "fail"
    assert result["msg"].startswith("argument 'requests' is of type str and we were unable to convert to int")


def test_argument_spec_is_exposed():
    spec = http_load.get_argument_spec()
    assert spec["concurrency"]["default"] == 100
    assert spec["timeout_s"]["aliases"] == ["timeout"]
    assert spec["headers"]["no_log"] is False  # masked by name instead, see secret_header_values


def shipped_module_utils(ansiballz: Path) -> set[str]:
    """The project's module_utils that an AnsiballZ wrapper carries to the host."""
    zip_data = re.search(r"zip_data='([^']+)'", ansiballz.read_text()).group(1)
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(zip_data))).namelist()
    return {Path(name).stem for name in names if name.startswith("ansible/module_utils/baseline_")}


def test_ansible_ships_the_engine_and_what_it_imports_with_the_module(tmp_path, http_server):
    status, output = run_playbook(tmp_path, [
        {"name": "Load", "http_load": {"url": f"http://127.0.0.1:{http_server.port}/ok"}, "check_mode": True},
    ], "-e", f"ansible_remote_tmp={tmp_path / 'remote'}", env={"ANSIBLE_KEEP_REMOTE_FILES": "1"})
    assert status == 0, output  # the module imported its module_utils where it ran
    (ansiballz,) = (tmp_path / "remote").glob("*/AnsiballZ_http_load.py")
    assert shipped_module_utils(ansiballz) == {"baseline_http", "baseline_load", "baseline_x509"}
