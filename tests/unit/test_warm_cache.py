"""Cache warming's filters: when a round leaves the cache populated, and the outcome of the rounds.

Readings are the recorded redis_facts result (tests/fixtures/results) with the counters a round
moves; probes are the recorded http_probe result.
"""

import json
import re

import pytest
from ansible.errors import AnsibleFilterError
from conftest import FIXTURES
from warm_cache import FilterModule

F = FilterModule().filters()
PATTERNS = ["products:list:*", "orders:list:*"]
REDIS = json.loads((FIXTURES / "results" / "redis_facts.json").read_text())["redis"]
PROBE = [e for e in json.loads((FIXTURES / "results" / "http_probe.json").read_text())["http_probe"] if e["ok"]]


def reading(hits, misses, products=1, orders=1, total_keys=None, **override):
    """A redis_facts reading with these counters and key counts."""
    lookups = hits + misses
    counts = {"products:list:*": products, "orders:list:*": orders}
    return dict(REDIS, keyspace_hits=hits, keyspace_misses=misses,
                hit_rate_pct=round(hits / lookups * 100, 2) if lookups else None,
                total_keys=products + orders if total_keys is None else total_keys,
                key_scan=dict(REDIS["key_scan"], counts=counts), **override)


def judge(before, after, patterns=PATTERNS, probe=PROBE, target=90):
    return F["dbl_warm_cache_round"](probe, before, after, patterns, target)


def test_a_round_that_only_hits_and_adds_no_key_populates():
    result = judge(reading(10, 2), reading(30, 2))
    assert result["populated"] and result["stop"]
    assert (result["hits"], result["misses"], result["hit_rate_pct"]) == (20, 0, 100.0)
    assert (result["keys_before"], result["keys_after"]) == (2, 2)
    assert result["key_counts"] == {"products:list:*": 1, "orders:list:*": 1}
    assert result["reason"] == "hit rate over the round 100.0 % (target 90 %) and 2 watched key(s), no longer growing"


def test_requests_count_the_cold_one_and_the_warm_samples():
    expected = sum(1 + e["warm"]["samples"] for e in PROBE)
    assert judge(reading(10, 2), reading(30, 2))["requests"] == expected


@pytest.mark.parametrize(("before", "after", "patterns", "reason"), [
    (reading(0, 0, 0, 0), reading(8, 2), PATTERNS, "the watched keys still grew (0 -> 2)"),
    (reading(0, 0, 0, 0), reading(9, 1, orders=0), PATTERNS, "no key yet for orders:list:*"),
    (reading(10, 2), reading(17, 5), PATTERNS, "hit rate over the round 70.0 % is below the target 90 %"),
    (reading(10, 2), reading(10, 2), PATTERNS, "the round made no cache lookups: do the endpoints read the cache?"),
    (reading(10, 2), reading(3, 1), PATTERNS, "Redis' counters went back (restarted?) during the round"),
    (reading(10, 2), dict(reading(30, 2), key_scan=None), PATTERNS,
     "the watched keys could not be counted (SCAN failed)"),
    (reading(10, 2, total_keys=5), reading(30, 2, total_keys=6), [], "the watched keys still grew (5 -> 6)"),
])
def test_a_round_that_does_not_populate_says_why_and_goes_on(before, after, patterns, reason):
    result = judge(before, after, patterns)
    assert not result["populated"] and not result["stop"]
    assert result["reason"] == reason


def test_without_patterns_the_count_of_every_key_is_watched():
    result = judge(reading(10, 2, total_keys=7), reading(30, 2, total_keys=7), patterns=[])
    assert result["populated"]
    assert (result["keys_after"], result["key_counts"], result["missing_patterns"]) == (7, {}, [])


def test_a_failing_endpoint_keeps_the_cache_unpopulated_and_no_answer_at_all_stops():
    failed = dict(PROBE[0], ok=False, status=500, error={"kind": "http_status", "msg": "status 500"})
    some = judge(reading(10, 2), reading(30, 2), probe=[failed, *PROBE[1:]])
    assert not some["populated"] and not some["stop"]
    assert some["reason"] == f"some endpoints did not answer: {failed['name']}: status 500"
    none = judge(reading(10, 2), reading(30, 2), probe=[failed])
    assert none["stop"] and not none["populated"]
    assert none["reason"].startswith("no endpoint answered: ")


def test_redis_gone_during_the_round_stops():
    gone = {"reachable": False, "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}
    result = judge(reading(10, 2), gone)
    assert result["stop"] and not result["populated"]
    assert result["reason"] == f"Redis could not be read: {gone['error']}"


@pytest.mark.parametrize(("args", "message"), [
    (({}, reading(0, 0), reading(1, 0), PATTERNS, 90), "dbl_warm_cache_round: expected http_probe's results as a list"),
    ((PROBE, {}, reading(1, 0), PATTERNS, 90),
     "dbl_warm_cache_round: expected the before redis_facts reading (its 'redis' key) as a dict"),
    ((PROBE, reading(0, 0), None, PATTERNS, 90),
     "dbl_warm_cache_round: expected the after redis_facts reading (its 'redis' key) as a dict"),
    ((PROBE, reading(0, 0), reading(1, 0), "products:*", 90),
     "dbl_warm_cache_round: expected the key patterns as a list"),
    ((PROBE, reading(0, 0), reading(1, 0), PATTERNS, 101),
     "dbl_warm_cache_round: the target hit rate must be a number from 0 to 100, got 101"),
    ((PROBE, reading(0, 0), reading(1, 0), PATTERNS, "90"),
     "dbl_warm_cache_round: the target hit rate must be a number from 0 to 100, got '90'"),
])
def test_warm_cache_round_errors_name_the_filter(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_warm_cache_round"](*args)


def test_result_of_two_rounds_reports_the_hit_rate_before_and_after():
    before = reading(0, 0, 0, 0)
    first = judge(before, reading(8, 2))
    second = judge(reading(8, 2), reading(28, 2))
    result = F["dbl_warm_cache_result"](before, [first, second], 2.345, 10, 60)
    assert result == {
        "populated": True, "reason": second["reason"], "rounds": 2, "requests": first["requests"] * 2,
        "elapsed_s": 2.3, "hit_rate_before_pct": None, "hit_rate_after_pct": 93.33, "last_round_hit_rate_pct": 100.0,
        "keys_before": 0, "keys_after": 2, "key_counts": {"products:list:*": 1, "orders:list:*": 1},
    }


@pytest.mark.parametrize(("rounds", "elapsed", "bound"), [(3, 4.0, "3 round(s)"), (2, 61.0, "60 s")])
def test_result_at_a_bound_names_it(rounds, elapsed, bound):
    stuck = [judge(reading(10, 2), reading(17, 5))] * rounds
    result = F["dbl_warm_cache_result"](reading(10, 2), stuck, elapsed, 3, 60)
    assert not result["populated"]
    assert result["reason"] == (f"stopped at the bound of {bound}: "
                                "hit rate over the round 70.0 % is below the target 90 %")


def test_result_of_a_stopped_warming_keeps_the_rounds_reason():
    gone = judge(reading(10, 2), {"reachable": False, "error": "timeout"})
    result = F["dbl_warm_cache_result"](reading(10, 2), [gone], 1.0, 10, 60)
    assert result["reason"] == "Redis could not be read: timeout"


@pytest.mark.parametrize(("args", "message"), [
    ((reading(0, 0), [], 1.0, 10, 60), "dbl_warm_cache_result: expected the judged rounds as a non-empty list"),
    (("redis", [{}], 1.0, 10, 60), "dbl_warm_cache_result: expected the before redis_facts reading"),
])
def test_warm_cache_result_errors_name_the_filter(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_warm_cache_result"](*args)
