"""Filters of cache warming: whether a round of requests left the cache populated, and the outcome.

The cache counts as populated after a round in which
  - every endpoint answered with an expected status,
  - every watched key pattern has at least one key,
  - the number of watched keys did not grow (the keys of these requests are all there), and
  - the hit rate over the round's lookups (Redis' keyspace hits and misses counted before and
    after it) reached the target.
The watched keys are the keys matching the patterns when patterns are given, else every key of
Redis. Redis' counters cover all its clients, so other traffic during a round counts too.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _watched_keys(redis, patterns):
    """The watched key count of one redis_facts reading; None when it could not be counted."""
    if not patterns:
        return redis.get("total_keys")
    scan = redis.get("key_scan") or {}
    if not scan.get("complete"):
        return None  # no pass, or a partial one: its counts are lower bounds
    counts = scan["counts"]
    return sum(counts.get(p) or 0 for p in patterns)


def _requests(probe):
    """Requests an http_probe result sent: the cold one and the warm samples of each endpoint."""
    return sum((0 if e.get("skipped") else 1) + ((e.get("warm") or {}).get("samples") or 0) for e in probe)


def _check_redis(redis, name, what):
    if not isinstance(redis, dict) or "reachable" not in redis:
        raise AnsibleFilterError(f"{name}: expected the {what} redis_facts reading (its 'redis' key) as a dict")


def warm_cache_round(probe, before, after, patterns, target_pct):
    """Judge one round: probe is http_probe's list, before/after redis_facts' readings around it.

    Returns the round's hits, misses and hit rate, the watched keys before and after, what is
    missing, whether the cache is populated, whether warming should stop, and the reason.
    """
    name = "dbl_warm_cache_round"
    if not isinstance(probe, list):
        raise AnsibleFilterError(f"{name}: expected http_probe's results as a list")
    _check_redis(before, name, "before")
    _check_redis(after, name, "after")
    if not isinstance(patterns, list):
        raise AnsibleFilterError(f"{name}: expected the key patterns as a list")
    if isinstance(target_pct, bool) or not isinstance(target_pct, (int, float)) or not 0 <= target_pct <= 100:
        raise AnsibleFilterError(f"{name}: the target hit rate must be a number from 0 to 100, got {target_pct!r}")

    failed = [f"{e.get('name')}: {(e.get('error') or {}).get('msg') or e.get('status')}"
              for e in probe if not e.get("ok")]
    result = {"requests": _requests(probe), "failed_endpoints": failed, "hits": None, "misses": None,
              "hit_rate_pct": None, "hit_rate_cumulative_pct": None, "keys_before": None, "keys_after": None,
              "key_counts": {}, "missing_patterns": [], "populated": False, "stop": False}
    if not after["reachable"]:
        return dict(result, stop=True, reason=f"Redis could not be read: {after.get('error') or 'unreachable'}")

    hits = after["keyspace_hits"] - before["keyspace_hits"] if before["reachable"] else None
    misses = after["keyspace_misses"] - before["keyspace_misses"] if before["reachable"] else None
    restarted = hits is None or hits < 0 or misses < 0
    lookups = 0 if restarted else hits + misses
    counts = (after.get("key_scan") or {}).get("counts") or {}
    result.update(
        hits=None if restarted else hits, misses=None if restarted else misses,
        hit_rate_pct=round(hits / lookups * 100, 2) if lookups else None,
        hit_rate_cumulative_pct=after.get("hit_rate_pct"),
        keys_before=_watched_keys(before, patterns) if before["reachable"] else None,
        keys_after=_watched_keys(after, patterns),
        key_counts={p: counts.get(p, 0) for p in patterns},
        missing_patterns=[p for p in patterns if not counts.get(p)],
    )
    if len(failed) == len(probe):
        return dict(result, stop=True, reason="no endpoint answered: " + "; ".join(failed))
    if failed:
        return dict(result, reason="some endpoints did not answer: " + "; ".join(failed))
    if restarted:
        return dict(result, reason="Redis' counters went back (restarted?) during the round")
    if result["keys_after"] is None:
        return dict(result, reason="the watched keys could not be counted (SCAN failed)")
    if result["missing_patterns"]:
        return dict(result, reason="no key yet for " + ", ".join(result["missing_patterns"]))
    if result["keys_before"] is None or result["keys_after"] > result["keys_before"]:
        return dict(result, reason=f"the watched keys still grew ({result['keys_before']} -> {result['keys_after']})")
    if result["hit_rate_pct"] is None:
        return dict(result, reason="the round made no cache lookups: do the endpoints read the cache?")
    if result["hit_rate_pct"] < target_pct:
        return dict(result, reason=f"hit rate over the round {result['hit_rate_pct']} % is below the target "
                                   f"{target_pct:g} %")
    return dict(result, populated=True, stop=True,
                reason=f"hit rate over the round {result['hit_rate_pct']} % (target {target_pct:g} %) and "
                       f"{result['keys_after']} watched key(s), no longer growing")


def warm_cache_result(before, rounds, elapsed_s, max_rounds, max_s):
    """The outcome of warming: populated or not and why, requests sent, hit rate before and after."""
    name = "dbl_warm_cache_result"
    _check_redis(before, name, "before")
    if not isinstance(rounds, list) or not rounds:
        raise AnsibleFilterError(f"{name}: expected the judged rounds as a non-empty list")
    last = rounds[-1]
    reason = last["reason"]
    if not last["populated"] and not last["stop"]:
        bound = f"{max_rounds} round(s)" if len(rounds) >= max_rounds else f"{max_s} s"
        reason = f"stopped at the bound of {bound}: {reason}"
    return {
        "populated": last["populated"],
        "reason": reason,
        "rounds": len(rounds),
        "requests": sum(r["requests"] for r in rounds),
        "elapsed_s": round(elapsed_s, 1),
        "hit_rate_before_pct": before.get("hit_rate_pct") if before["reachable"] else None,
        "hit_rate_after_pct": last["hit_rate_cumulative_pct"],
        "last_round_hit_rate_pct": last["hit_rate_pct"],
        "keys_before": rounds[0]["keys_before"],
        "keys_after": last["keys_after"],
        "key_counts": last["key_counts"],
    }


class FilterModule:
    def filters(self):
        return {
            "dbl_warm_cache_round": warm_cache_round,
            "dbl_warm_cache_result": warm_cache_result,
        }
