"""The blue/green gate, verification and verdict, through FilterModule().filters()."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from bluegreen import FilterModule

F = FilterModule().filters()
UPSTREAM = "upstream tsh_erp {\n    server 127.0.0.1:8002; # color=green\n    keepalive 16;\n}\n"


PORTS = {"blue": 8001, "green": 8002}


def test_switch_upstream_moves_the_port_and_the_colour_mark():
    switched = F["dbl_switch_upstream"](UPSTREAM, PORTS, "green", "blue", "tsh_erp")
    assert switched == UPSTREAM.replace("8002; # color=green", "8001; # color=blue")
    assert F["dbl_switch_upstream"](switched, PORTS, "blue", "green", "tsh_erp") == UPSTREAM


def test_switch_upstream_refuses_a_file_whose_live_colour_is_not_the_one_to_leave():
    with pytest.raises(AnsibleFilterError, match=r"^dbl_switch_upstream: unable to switch from blue to green:"
                                                 r" the file's live colour is green, not blue$"):
        F["dbl_switch_upstream"](UPSTREAM, PORTS, "blue", "green")


def test_switch_upstream_says_what_the_file_names_when_no_colour_is_live():
    both = "upstream tsh_erp { server 127.0.0.1:8001; server 127.0.0.1:8002; }"
    with pytest.raises(AnsibleFilterError, match=r"the upstream tsh_erp names 127.0.0.1:8001 and 127.0.0.1:8002,"
                                                 r" both live$"):
        F["dbl_switch_upstream"](both, PORTS, "blue", "green")
    with pytest.raises(AnsibleFilterError, match="dbl_switch_upstream: expected the colour ports as a dict"):
        F["dbl_switch_upstream"](UPSTREAM, [8001, 8002], "green", "blue")


def test_other_color():
    assert F["dbl_other_color"]("green", ["blue", "green"]) == "blue"
    with pytest.raises(AnsibleFilterError, match="dbl_other_color: cannot tell the candidate"):
        F["dbl_other_color"]("red", ["blue", "green"])


def unit(**over):
    return dict({"exists": True, "active_state": "active", "sub_state": "running", "restarts": 0, "main_pid": 42},
                **over)


def probe(name, ok=True, status=200, body=None, p50=2.0, error=None):
    return {"name": name, "ok": ok, "status": status, "body": json.dumps(body) if body is not None else None,
            "warm": {"p50_ms": p50}, "error": error}


def facts(**over):
    found = {
        "candidate": unit(), "candidate_after": unit(), "candidate_unit": "tsh_erp-blue", "live_unit": "tsh_erp-green",
        "journal": {"groups": [{"unit": "tsh_erp-green", "fingerprint": "known", "sample": "x"}]},
        "probes": [probe("candidate:health", body={"color": "blue", "version": "1.6.0"}),
                   probe("candidate:openapi", body={"paths": {"/health": {}, "/api/orders": {}}}),
                   probe("candidate:/health", p50=2.0), probe("live:/health", p50=1.9)],
    }
    found.update(over)
    return found


RULES = {"expected_version": "1.6.0", "expected_routes": ["/health", "/api/orders"], "latency_margin_pct": 50,
         "latency_margin_ms": 1, "catalogue": [{"pattern": "Tenant"}]}


def test_a_good_candidate_passes_every_check():
    gate = F["dbl_bluegreen_gate"](facts(), RULES)
    assert gate["passed"], gate["reasons"]
    assert [c["name"] for c in gate["checks"]] == [
        "unit active", "not restarting", "health answers", "expected version", "expected routes",
        "no new error groups", "latency"]


@pytest.mark.parametrize(("over", "reason"), [
    ({"candidate_after": unit(active_state="failed", sub_state="failed")}, "tsh_erp-blue is failed (failed)"),
    ({"candidate_after": unit(restarts=1, main_pid=43)}, "restarted during the gate (restarts 0 -> 1, PID 42 -> 43)"),
    ({"probes": [probe("candidate:health", ok=False, status=503), probe("candidate:/health")]},
     "health answered 503"),
    ({"probes": [probe("candidate:health", body={"version": "1.5.0"}), probe("candidate:/health")]},
     "runs version '1.5.0', expected '1.6.0'"),
    ({"probes": [probe("candidate:health", body={"version": "1.6.0"}),
                 probe("candidate:openapi", body={"paths": {"/health": {}}}), probe("candidate:/health")]},
     "missing from /openapi.json: /api/orders"),
    ({"journal": {"groups": [{"unit": "tsh_erp-blue", "fingerprint": "boom", "sample": "KeyError: x"}]}},
     "1 new error group(s) since it started: boom"),
    ({"probes": [probe("candidate:health", body={"version": "1.6.0"}),
                 probe("candidate:openapi", body={"paths": {"/health": {}, "/api/orders": {}}}),
                 probe("candidate:/health", p50=10.0), probe("live:/health", p50=2.0)]},
     "warm p50 10.0 ms is worse than live 2.0 ms beyond the margin (limit 4.0 ms)"),
])
def test_each_failed_check_gives_its_reason(over, reason):
    gate = F["dbl_bluegreen_gate"](facts(**over), RULES)
    assert not gate["passed"]
    assert any(reason in r for r in gate["reasons"]), gate["reasons"]


def test_known_issues_and_the_live_colours_errors_are_not_new():
    groups = [{"unit": "tsh_erp-blue", "fingerprint": "known", "sample": "x"},
              {"unit": "tsh_erp-blue", "fingerprint": "mapper", "sample": "failed to locate a name ('Tenant')"}]
    journal = {"groups": [*groups, {"unit": "tsh_erp-green", "fingerprint": "known"}]}
    gate = F["dbl_bluegreen_gate"](facts(journal=journal), RULES)
    assert gate["passed"], gate["reasons"]


def load(codes, p95=20.0):
    return {"requests": sum(codes.values()), "status_codes": codes, "latency": {"p95_ms": p95},
            "errors": {"refused": 0}}


def test_verification_passes_and_fails_for_its_reasons():
    good = F["dbl_bluegreen_verification"]({"load": load({"200": 100}), "candidate": "blue",
                                        "health": [{"body": '{"color": "blue"}'}]}, {})
    assert good["passed"]
    bad = F["dbl_bluegreen_verification"]({"load": load({"200": 40, "500": 60}, p95=900), "candidate": "blue",
                                       "health": [{"body": '{"color": "green"}'}]},
                                      {"max_error_rate_pct": 1, "max_p95_ms": 500})
    assert not bad["passed"]
    assert bad["reasons"][0] == "/health answered from ['green'], not blue"
    assert bad["reasons"][1].startswith("60.0 % of 100 requests failed (limit 1 %)")
    assert bad["reasons"][2] == "p95 900 ms above 500 ms"


def test_verdicts():
    passed, failed = {"passed": True, "reasons": []}, {"passed": False, "reasons": ["why"]}
    assert F["dbl_bluegreen_verdict"](passed, passed, "green", "blue")["status"] == "promoted"
    assert F["dbl_bluegreen_verdict"](passed, passed, "green", "blue")["live_after"] == "blue"
    rejected = F["dbl_bluegreen_verdict"](failed, None, "green", "blue")
    assert (rejected["status"], rejected["live_after"], rejected["reasons"]) == ("rejected", "green", ["why"])
    rolled = F["dbl_bluegreen_verdict"](passed, failed, "green", "blue")
    assert (rolled["status"], rolled["live_after"]) == ("rolled_back", "green")


def test_latency_equal_to_the_gates_limit_passes():
    # live 2.0 ms + 50 % + 1 ms = 4.0 ms: a candidate at 4.0 ms is within the margin, at 4.001 ms beyond it.
    probes = facts()["probes"][:2]
    at_limit = F["dbl_bluegreen_gate"](facts(probes=[*probes, probe("candidate:/health", p50=4.0),
                                                 probe("live:/health", p50=2.0)]), RULES)
    latency = next(c for c in at_limit["checks"] if c["name"] == "latency")
    assert latency == {"name": "latency", "ok": True, "detail": "warm p50 4.0 ms, live 2.0 ms (limit 4.0 ms)"}
    beyond = F["dbl_bluegreen_gate"](facts(probes=[*probes, probe("candidate:/health", p50=4.001),
                                               probe("live:/health", p50=2.0)]), RULES)
    assert not next(c for c in beyond["checks"] if c["name"] == "latency")["ok"]


def test_error_rate_and_p95_equal_to_their_limits_pass_the_verification():
    health = [{"body": '{"color": "blue"}'}]
    rules = {"max_error_rate_pct": 1, "max_p95_ms": 500}
    at_limits = F["dbl_bluegreen_verification"]({"load": load({"200": 99, "500": 1}, p95=500), "candidate": "blue",
                                             "health": health}, rules)
    assert at_limits["passed"], at_limits["reasons"]
    beyond = F["dbl_bluegreen_verification"]({"load": load({"200": 98, "500": 2}, p95=500.1), "candidate": "blue",
                                          "health": health}, rules)
    assert beyond["reasons"][0].startswith("2.0 % of 100 requests failed (limit 1 %)")
    assert beyond["reasons"][1] == "p95 500.1 ms above 500 ms"


def test_numbers_given_as_text_with_e_are_numbers_and_other_text_is_refused():
    # `-e bluegreen_latency_margin_ms=1`: the role's argument spec checks the text but leaves it text.
    as_text = {**RULES, "latency_margin_pct": "50", "latency_margin_ms": "1"}
    probes = facts()["probes"][:2]
    gate = F["dbl_bluegreen_gate"](facts(probes=[*probes, probe("candidate:/health", p50=4.0),
                                             probe("live:/health", p50=2.0)]), as_text)
    assert next(c for c in gate["checks"] if c["name"] == "latency")["detail"] == \
        "warm p50 4.0 ms, live 2.0 ms (limit 4.0 ms)"
    verified = F["dbl_bluegreen_verification"](
        {"load": load({"200": 98, "500": 2}, p95=20.0), "candidate": "blue", "health": [{"body": '{"color": "blue"}'}]},
        {"max_error_rate_pct": "1.5", "max_p95_ms": "500"})
    assert verified["reasons"][0].startswith("2.0 % of 100 requests failed (limit 1.5 %)")
    with pytest.raises(AnsibleFilterError, match="latency_margin_ms must be a number, got 'fast'"):
        F["dbl_bluegreen_gate"](facts(), {**RULES, "latency_margin_ms": "fast"})
