"""redis_facts: its parsers on real INFO / SCAN output, and main() on both clients and every fault.

The fixtures under tests/fixtures/redis/ were captured on a demo target (see the README there):
raw redis-cli output, redis-cli runs of each fault (rc, stdout, stderr), and the exception class
and text that redis-py raised for the same faults.
"""

import json
from typing import ClassVar
from unittest import mock

import pytest
import redis_facts
from ansible.module_utils import baseline_redis, basic
from ansible.module_utils.baseline_redis import (
    RedisCliClient,
    RedisFault,
    RedisPyClient,
    count_keys,
    count_matches,
    glob_matchers,
    glob_prefix,
    hit_rate_pct,
    key_pattern_counts,
    key_scan_fact,
    keyspace_changes,
    parse_info,
    parse_scan_raw,
    parse_scan_resp,
    redis_cli_argv,
    redis_facts_from_info,
    redis_glob_regex,
)
from conftest import FIXTURES, PROJECT
from module_runner import run_module

REDIS = FIXTURES / "redis"
CLI_RUNS = json.loads((REDIS / "cli_runs.json").read_text())
REDISPY_ERRORS = json.loads((REDIS / "redispy_errors.json").read_text())
PASSWORD = "s3cret-pass"
REPLAY_CLI = PROJECT / "tests" / "unit" / "replay_redis_cli.py"


def fixture(name):
    # newline="" keeps INFO's CRLF line ends as the server sent them
    with open(REDIS / name, encoding="utf-8", newline="") as text:
        return text.read()


# --- parse_info and the figures ------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("info_cold.txt", {
        "version": "7.0.15", "mode": "standalone", "role": "master", "uptime_s": 183, "port": 6379,
        "connected_clients": 1, "total_commands_processed": 198,
        "used_memory_bytes": 949888, "used_memory_human": "927.62K",
        "used_memory_peak_bytes": 949888, "used_memory_peak_human": "927.62K",
        "maxmemory_bytes": 268435456, "maxmemory_human": "256.00M", "maxmemory_policy": "allkeys-lru",
        "keyspace": {}, "total_keys": 0, "total_expires": 0,
        "keyspace_hits": 0, "keyspace_misses": 0, "hit_rate_pct": None,
        "evicted_keys": 0, "expired_keys": 0, "ops_per_sec": 0, "rejected_connections": 0,
    }),
    ("info_warm.txt", {
        "version": "7.0.15", "mode": "standalone", "role": "master", "uptime_s": 188, "port": 6379,
        "connected_clients": 2, "total_commands_processed": 231,
        "used_memory_bytes": 1178368, "used_memory_human": "1.12M",
        "used_memory_peak_bytes": 1178368, "used_memory_peak_human": "1.12M",
        "maxmemory_bytes": 268435456, "maxmemory_human": "256.00M", "maxmemory_policy": "allkeys-lru",
        "keyspace": {"db0": {"key_count": 11, "expires": 11, "avg_ttl_ms": 298067},
                     "db1": {"key_count": 2, "expires": 0, "avg_ttl_ms": 0}},
        "total_keys": 13, "total_expires": 11,
        "keyspace_hits": 5, "keyspace_misses": 11, "hit_rate_pct": 31.25,
        "evicted_keys": 0, "expired_keys": 0, "ops_per_sec": 11, "rejected_connections": 0,
    }),
])
def test_figures_of_real_info_replies(name, expected):
    assert redis_facts_from_info(parse_info(fixture(name))) == expected


def test_parse_info_types_values_and_reads_name_value_lists():
    info = parse_info(fixture("info_all.txt"))
    assert info["redis_version"] == "7.0.15"
    assert info["redis_git_sha1"] == 0
    assert info["run_id"] == "c2f0460b7e85d62b2c0cbdf6cd063b56508478d9"
    assert info["os"] == "Linux 6.18.44-fc-v657 x86_64"
    assert info["config_file"] == "/etc/redis/redis.conf"
    assert info["mem_fragmentation_ratio"] == 11.46
    assert info["used_memory_peak_perc"] == "100.01%"
    assert info["cmdstat_ping"] == {"calls": 197, "usec": 316, "usec_per_call": 1.6,
                                    "rejected_calls": 0, "failed_calls": 0}
    assert info["latency_percentiles_usec_ping"] == {"p50": 2.007, "p99": 3.007, "p99.9": 3.007}
    assert info["db0"] == {"keys": 11, "expires": 11, "avg_ttl": 298061}
    assert not any(name.startswith("#") for name in info)


def test_parse_info_of_an_empty_reply():
    assert parse_info("") == {}


def test_a_version_that_looks_like_a_number_stays_text():
    assert redis_facts_from_info(parse_info("# Server\r\nredis_version:6.0\r\n"))["version"] == "6.0"


@pytest.mark.parametrize(("hits", "misses", "expected"), [
    (0, 0, None),        # no lookup yet: no rate, not 0 %
    (0, 11, 0.0),
    (5, 11, 31.25),
    (1, 0, 100.0),
    (2, 1, 66.67),
    (None, 3, None),     # a server that does not report it
])
def test_hit_rate_pct(hits, misses, expected):
    assert hit_rate_pct(hits, misses) == expected


# --- SCAN: replies, glob patterns, the pass -------------------------------------------------

SCAN = REDIS / "scan"
ODD_KEYS = [b'quote"back\\slash', b"", b"*2\r\n", b"line\nbreak", b"crlf\r\nkey", "caf\u00e9:1".encode(), b"plain"]


def scan_fixture(name):
    return (SCAN / name).read_bytes()


def raw_replies(name):
    """What redis-cli printed raw, with -d "<D>" -D "<R>", reply by reply (without the "<R>")."""
    return scan_fixture(name).split(b"<R>")[:-1]


def raw_steps(name):
    """The replies of a raw capture as replay_redis_cli.py's steps."""
    return [{"stdout": reply.decode("utf-8", "surrogateescape") + "<R>"} for reply in raw_replies(name)]


@pytest.mark.parametrize(("resp", "raw", "cursor", "keys"), [
    ("resp_db3_odd.bin", "raw_db3_odd.txt", 0, ODD_KEYS),  # keys that hold CRLF, newline, quote, "", UTF-8
    ("resp_db5_empty.bin", "raw_db5_empty.txt", 0, []),
])
def test_both_readers_read_real_scan_replies_alike(resp, raw, cursor, keys):
    assert parse_scan_resp(scan_fixture(resp)) == (cursor, keys)
    assert parse_scan_raw(raw_replies(raw)[0], b"<D>") == (cursor, keys, not keys)


def test_both_readers_read_a_page_of_a_million_keys_alike():
    cursor, keys = parse_scan_resp(scan_fixture("resp_db0_page.bin"))
    assert (cursor, len(keys)) == (851968, 20)
    assert keys[:2] == [b"user:profile:0429539", b"user:profile:0735569"]
    assert parse_scan_raw(raw_replies("raw_db0_page.txt")[0], b"<D>") == (cursor, keys, False)


def test_raw_output_prints_a_page_of_the_empty_key_as_an_empty_page():
    page_of_the_empty_key, exists = raw_replies("raw_db4_empty_key.txt")
    assert parse_scan_raw(page_of_the_empty_key, b"<D>") == parse_scan_raw(raw_replies("raw_db5_empty.txt")[0], b"<D>")
    assert exists == b"1"


@pytest.mark.parametrize("name", ["resp_db0_page.bin", "resp_db3_odd.bin"])
def test_parse_scan_resp_waits_for_the_whole_reply(name):
    data = scan_fixture(name)
    assert all(parse_scan_resp(data[:end]) is None for end in range(len(data)))


@pytest.mark.parametrize(("name", "kind", "cause"), [
    ("noauth", "auth_required", "NOAUTH Authentication required."),
    ("noperm", "permission_denied", "NOPERM this user has no permissions to run the 'scan' command"),
])
def test_both_readers_raise_a_refused_scan(name, kind, cause):
    for parse, data in ((parse_scan_resp, scan_fixture(f"resp_{name}.bin")),
                        (lambda reply: parse_scan_raw(reply, b"<D>"), raw_replies(f"raw_{name}.txt")[0])):
        with pytest.raises(RedisFault) as fault:
            parse(data)
        assert (fault.value.kind, fault.value.cause) == (kind, cause)


@pytest.mark.parametrize(("parse", "data"), [
    (parse_scan_resp, b"+OK\r\n$1\r\n0\r\n*0\r\n\r\n"),
    (parse_scan_resp, b"*2\r\n$1\r\n0\r\n*1\r\n$3\r\nabcd\r\n"),   # a key longer than its length
    (lambda reply: parse_scan_raw(reply, b"<D>"), b"OK<D>key"),
])
def test_the_readers_reject_what_is_no_scan_reply(parse, data):
    with pytest.raises(ValueError):
        parse(data)


@pytest.mark.parametrize(("pattern", "key", "matches"), [
    ("products:*", "products:list:50:0", True),
    ("products:*", "orders:list:50:0", False),
    ("*:list:50:?", "orders:list:50:0", True),
    ("*:list:50:?", "orders:list:50:100", False),
    ("h?llo", "hello", True),
    ("h*llo", "hllo", True),
    ("h[ae]llo", "hallo", True),
    ("h[ae]llo", "hillo", False),
    ("h[^e]llo", "hallo", True),
    ("h[^e]llo", "hello", False),
    ("h[a-b]llo", "hbllo", True),
    ("h[b-a]llo", "hbllo", True),   # Redis swaps a reversed range
    ("h[a-b]llo", "hcllo", False),
    (r"h\*llo", "h*llo", True),
    (r"h\*llo", "hello", False),
    (r"h[\]]llo", "h]llo", True),
    ("a.b", "axb", False),          # regex characters are literal
    ("key(1)", "key(1)", True),
    ("*", "", True),
    ("*", "line\nbreak", True),
    ("caf?:1", "caf\u00e9:1", False),   # Redis matches bytes: ? is one byte, é two
    ("caf??:1", "caf\u00e9:1", True),
    ("caf\u00e9:*", "caf\u00e9:1", True),
])
def test_redis_glob_regex(pattern, key, matches):
    assert bool(redis_glob_regex(pattern).fullmatch(key.encode())) is matches


@pytest.mark.parametrize(("pattern", "prefix"), [
    ("products:*", b"products:"), ("*", b""), ("caf\u00e9:*", "caf\u00e9:".encode()),
    ("*:list:*", None), ("a?*", None), (r"a\**", None), ("a[bc]*", None), ("plain", None), ("a\nb*", None),
])
def test_glob_prefix(pattern, prefix):
    assert glob_prefix(pattern) == prefix


PATTERNS = ["products:*", "orders:*", "session:*", "user:*", "*:list:*", "*", "line*", "crlf*", "*\u00e9*"]


@pytest.mark.parametrize("keys", [parse_scan_resp(scan_fixture("resp_db0_page.bin"))[1], ODD_KEYS, [], [b""]])
def test_count_matches_counts_prefixes_in_c_as_the_regex_does(keys):
    by_regex = [sum(1 for key in keys if redis_glob_regex(p).fullmatch(key)) for p in PATTERNS]
    assert count_matches(keys, glob_matchers(PATTERNS)) == by_regex


class PagedClient:
    """SCAN pages from captured replies; each call advances a fake clock by `step_s`; a RedisFault
    in the pages is raised in its turn."""

    def __init__(self, pages, clock=None, step_s=0.0):
        self.pages = list(pages)
        self.calls = []
        self.clock, self.step_s = clock, step_s

    def scan(self, cursor, count):
        self.calls.append((cursor, count))
        if self.clock:
            self.clock[0] += self.step_s
        page = self.pages.pop(0)
        if isinstance(page, RedisFault):
            raise page
        return parse_scan_resp(page)


def page(cursor, keys):
    """A SCAN reply as the server sends it, to chain captured keys into a pass of several pages."""
    return (b"*2\r\n$%d\r\n%d\r\n*%d\r\n" % (len(str(cursor)), cursor, len(keys))
            + b"".join(b"$%d\r\n%s\r\n" % (len(key), key) for key in keys))


MILLION_PAGE = parse_scan_resp(scan_fixture("resp_db0_page.bin"))[1]
THREE_PAGES = [page(7, MILLION_PAGE[:10]), page(3, MILLION_PAGE[10:]), scan_fixture("resp_db3_odd.bin")]


def test_count_keys_walks_the_whole_database_in_one_pass():
    client = PagedClient(THREE_PAGES)
    scan = count_keys(client, ["products:*", "orders:*", "*:list:*", "none:*"], max_seconds=30, count=1000)
    by_regex = {p: sum(1 for k in MILLION_PAGE + ODD_KEYS if redis_glob_regex(p).fullmatch(k))
                for p in ["products:*", "orders:*", "*:list:*", "none:*"]}
    assert scan.counts == by_regex and by_regex["products:*"] > 0
    assert (scan.keys_visited, scan.complete, scan.bound_hit, scan.fault) == (27, True, None, None)
    assert client.calls == [(0, 1000), (7, 1000), (3, 1000)]


def test_count_keys_counts_a_key_that_scan_returns_twice_twice():
    client = PagedClient([page(5, MILLION_PAGE[:4]), page(0, MILLION_PAGE[2:6])])
    scan = count_keys(client, ["*"], max_seconds=30, count=1000)
    assert (scan.keys_visited, scan.counts) == (8, {"*": 8})


def test_count_keys_stops_at_the_time_limit_and_says_so():
    clock = [100.0]
    client = PagedClient(THREE_PAGES, clock=clock, step_s=0.6)
    with mock.patch.object(baseline_redis.time, "monotonic", lambda: clock[0]):
        scan = count_keys(client, ["*"], max_seconds=1.0, count=1000)
    assert (scan.complete, scan.bound_hit, scan.keys_visited, scan.counts) == (False, "scan_max_seconds", 20, {"*": 20})


def test_count_keys_keeps_the_counts_read_before_a_fault():
    lost = RedisFault("connection_failed", "Connection closed by server")
    scan = count_keys(PagedClient([THREE_PAGES[0], lost]), ["*"], max_seconds=30, count=1000)
    assert (scan.complete, scan.bound_hit, scan.fault, scan.counts) == (False, None, lost, {"*": 10})


INFO_BEFORE = parse_info(fixture("scan/info_before_writes.txt"))
INFO_AFTER = parse_info(fixture("scan/info_after_writes.txt"))   # after 2 SETs and a DEL


@pytest.mark.parametrize(("before", "after", "changes"), [
    (INFO_BEFORE, INFO_BEFORE, 0),
    (INFO_BEFORE, INFO_AFTER, 3),
    (INFO_BEFORE, dict(INFO_AFTER, expired_keys=4, evicted_keys=1), 8),
    (INFO_BEFORE, dict(INFO_AFTER, rdb_saves=2, rdb_changes_since_last_save=0), None),   # a save during the pass
    (INFO_BEFORE, dict(INFO_AFTER, rdb_last_save_time=1796184100), None),
    (INFO_BEFORE, {}, None),
])
def test_keyspace_changes(before, after, changes):
    assert keyspace_changes(before, after) == changes


def test_key_scan_fact_is_exact_only_for_a_complete_pass_without_writes():
    scan = count_keys(PagedClient(THREE_PAGES), ["*"], max_seconds=30, count=1000)
    fact = key_scan_fact(scan, 3, 30.0, INFO_BEFORE, INFO_BEFORE)
    assert fact == {"db": 3, "counts": {"*": 27}, "keys_visited": 27, "db_keys": 7, "complete": True,
                    "bound_hit": None, "max_seconds": 30.0, "error": None, "keyspace_changes": 0, "exact": True,
                    "elapsed_ms": fact["elapsed_ms"]}
    assert key_scan_fact(scan, 3, 30.0, INFO_BEFORE, INFO_AFTER)["exact"] is False
    assert key_scan_fact(scan, 3, 30.0, INFO_BEFORE, {})["exact"] is False
    assert key_scan_fact(scan, 6, 30.0, INFO_BEFORE, INFO_BEFORE)["db_keys"] == 0


# --- what the report shows of a pass ------------------------------------------------------

def recorded_scan(name):
    return json.loads((SCAN / f"result_{name}.json").read_text())["redis"]["key_scan"]


def test_key_pattern_counts_of_an_exact_pass_over_a_million_keys():
    shown = key_pattern_counts(recorded_scan("full_redispy"))
    assert (shown["exact"], shown["qualifier"], shown["visited_pct"]) == (True, None, 100.0)
    assert shown["patterns"][0] == {"pattern": "*:list:*", "count": 333334, "share_pct": 33.3,
                                    "at_least": False, "text": "333,334 (33.3 % of all keys)"}
    assert shown["scope"].startswith("db0, 1,000,000 keys, SCAN for ")


def test_key_pattern_counts_of_a_partial_pass_say_at_least_and_how_much_was_visited():
    shown = key_pattern_counts(recorded_scan("partial"))
    assert shown["qualifier"] == "partial: 14 % of the 1.0M keys visited in the 1 s limit"
    assert shown["patterns"][2]["text"] == ("at least 46,007 (at least 4.6 % of all keys); "
                                            "partial: 14 % of the 1.0M keys visited in the 1 s limit")
    assert all(p["at_least"] for p in shown["patterns"]) and shown["exact"] is False


@pytest.mark.parametrize(("name", "qualifier"), [
    ("killed_redispy", "partial: 7 % of the 1.0M keys visited before the pass stopped: "
                       "unable to SCAN Redis at 127.0.0.1:6379: Connection closed by server"),
    ("killed_cli", "partial: 5 % of the 1.0M keys visited before the pass stopped: "
                   "unable to SCAN Redis at 127.0.0.1:6379: Server closed the connection"),
    ("paused", "partial: 8 % of the 1.0M keys visited before the pass stopped: "
               "unable to SCAN Redis at 127.0.0.1:6379: Timeout reading from socket"),
])
def test_key_pattern_counts_of_a_pass_stopped_by_a_fault_say_why(name, qualifier):
    shown = key_pattern_counts(recorded_scan(name))
    assert shown["qualifier"] == qualifier
    assert all(p["text"].startswith("at least ") and p["text"].endswith(qualifier) for p in shown["patterns"])


def test_key_pattern_counts_of_a_changing_keyspace_are_not_called_exact():
    scan = dict(recorded_scan("full_redispy"), keyspace_changes=12, exact=False)
    shown = key_pattern_counts(scan)
    assert shown["qualifier"] == ("not exact: the keyspace changed during the pass (12 writes); "
                                  "a key written during it may be missed or counted twice")
    assert shown["patterns"][0]["text"].startswith("333,334 (33.3 % of all keys); not exact: ")
    uncounted = key_pattern_counts(dict(scan, keyspace_changes=None))
    assert uncounted["qualifier"].startswith("not exact: the server's write counters could not be compared")


def test_key_pattern_counts_of_an_empty_database_and_of_no_scan():
    shown = key_pattern_counts(dict(recorded_scan("full_redispy"), db_keys=0, keys_visited=0,
                                    counts={"products:*": 0}))
    assert shown["patterns"][0]["text"] == "0 (no key in the database)"
    assert key_pattern_counts(None) is None


# --- the clients and the faults ------------------------------------------------------------

def module_params(**overrides):
    params = {name: spec.get("default") for name, spec in redis_facts.get_argument_spec().items()}
    params.update(overrides)
    return params


class FakeModule:
    """What RedisCliClient uses of AnsibleModule, answering run_command with captured runs."""

    def __init__(self, runs, **params):
        self.params = module_params(**params)
        self.runs = dict(runs)
        self.calls = []
        self.run_command_environ_update = {}

    def get_bin_path(self, name, required=False):
        return f"/usr/bin/{name}"

    def debug(self, message):
        pass

    def run_command(self, args, environ_update=None, **kwargs):
        if args[0] == "/usr/bin/locale":
            return 0, "C\nC.utf8\nPOSIX\n", ""
        self.calls.append((args, environ_update))
        run = self.runs[args[-1] if args[-1] in self.runs else args[args.index("SCAN")]]
        return run["rc"], run["stdout"], run["stderr"]


@pytest.mark.parametrize(("case", "kind", "cause"), [
    ("refused_ping", "server_down", "Connection refused"),
    ("nosocket_ping", "server_down", "No such file or directory"),
    ("timeout_ping", "timeout", "no answer within 2 s"),
    ("noauth_ping", "auth_required", "NOAUTH Authentication required."),
    ("wrongpass_ping", "auth_failed", "WRONGPASS invalid username-password pair or user is disabled."),
    # redis-cli answers PONG as the default user after the ACL user's AUTH failed
    ("acl_wrongpass_ping", "auth_failed", "WRONGPASS invalid username-password pair or user is disabled."),
    ("acl_disabled_ping", "auth_failed", "WRONGPASS invalid username-password pair or user is disabled."),
    ("auth_not_configured_ping", "auth_failed",
     "ERR AUTH <password> called without any password configured for the default user. "
     "Are you sure your configuration is correct?"),
])
def test_cli_ping_faults(case, kind, cause):
    client = RedisCliClient(FakeModule({"PING": CLI_RUNS[case]}, timeout=2.0))
    with pytest.raises(RedisFault) as fault:
        client.ping_ms()
    assert (fault.value.kind, fault.value.cause) == (kind, cause)


@pytest.mark.parametrize("case", ["goodpass_ping", "acl_ping"])
def test_cli_ping_answers(case):
    assert RedisCliClient(FakeModule({"PING": CLI_RUNS[case]})).ping_ms() >= 0


@pytest.mark.parametrize(("case", "kind", "cause"), [
    ("acl_info", "permission_denied", "NOPERM this user has no permissions to run the 'info' command"),
    ("noauth_info", "auth_required", "NOAUTH Authentication required."),
])
def test_cli_info_faults(case, kind, cause):
    client = RedisCliClient(FakeModule({"INFO": CLI_RUNS[case]}))
    with pytest.raises(RedisFault) as fault:
        client.info()
    assert (fault.value.kind, fault.value.cause) == (kind, cause)


def test_cli_passes_the_password_in_the_environment_only():
    module = FakeModule({"PING": CLI_RUNS["acl_ping"]}, username="baseline", password=PASSWORD, db=1)
    RedisCliClient(module).ping_ms()
    (argv, env), = module.calls
    assert argv == ["/usr/bin/timeout", "--kill-after=1", "5", "/usr/bin/redis-cli", "-h", "127.0.0.1",
                    "-p", "6379", "--user", "baseline", "-n", "1", "PING"]
    assert env == {"REDISCLI_AUTH": PASSWORD}
    assert module.run_command_environ_update == {"LANG": "C.utf8", "LC_ALL": "C.utf8", "LC_MESSAGES": "C.utf8"}


@pytest.mark.parametrize(("params", "argv"), [
    ({"unix_socket": "/run/redis/redis.sock", "host": None, "port": None},
     ["-s", "/run/redis/redis.sock", "-n", "0"]),
    ({"host": "::1", "tls": True, "ca_cert": "/etc/ssl/ca.pem", "validate_certs": False},
     ["-h", "::1", "-p", "6379", "--tls", "--cacert", "/etc/ssl/ca.pem", "--insecure", "-n", "0"]),
    ({"host": "10.0.3.7", "tls": True, "ca_cert": "/ca.pem", "client_cert": "/c.pem", "client_key": "/c.key",
      "tls_server_name": "redis.internal", "username": "monitor"},
     ["-h", "10.0.3.7", "-p", "6379", "--tls", "--cacert", "/ca.pem", "--cert", "/c.pem", "--key", "/c.key",
      "--sni", "redis.internal", "--user", "monitor", "-n", "0"]),
])
def test_redis_cli_argv(params, argv):
    assert redis_cli_argv(module_params(**params)) == argv


def redispy_exception(case):
    captured = REDISPY_ERRORS[case]
    return getattr(baseline_redis.redis.exceptions, captured["exception"])(captured["message"])


class FakeRedis:
    """Stands for redis.Redis: answers from captured output, or raises a captured exception."""

    instances: ClassVar[list] = []

    def __init__(self, replies=None, raises=None, scan=(), **kwargs):
        self.kwargs = kwargs
        self.replies = replies or {}
        self.raises = raises or {}
        self.callbacks = {}
        self.connection_pool = mock.Mock()
        # SCAN replies are read raw from the connection's socket: what each recv() returns, or raises
        self.connection_pool.get_connection.return_value._sock.recv.side_effect = list(scan)
        FakeRedis.instances.append(self)

    def set_response_callback(self, command, callback):
        self.callbacks[command] = callback

    def execute_command(self, *command):
        if command[0] in self.raises:
            raise self.raises[command[0]]
        return self.replies[command[0]]


def fake_redis(replies=None, raises=None, scan=()):
    return lambda **kwargs: FakeRedis(replies, raises, scan, **kwargs)


@pytest.mark.parametrize(("case", "command", "kind", "cause"), [
    ("refused", "PING", "server_down", "Connection refused"),
    ("nosocket", "PING", "server_down", "No such file or directory"),
    ("timeout", "PING", "timeout", "Timeout reading from socket"),
    ("noauth", "PING", "auth_required", "Authentication required."),
    ("wrongpass", "PING", "auth_failed", "WRONGPASS invalid username-password pair or user is disabled."),
    ("acl_disabled", "PING", "auth_failed", "WRONGPASS invalid username-password pair or user is disabled."),
    ("auth_not_configured", "PING", "auth_failed",
     "AUTH <password> called without any password configured for the default user. "
     "Are you sure your configuration is correct?"),
    ("acl_info", "INFO", "permission_denied", "this user has no permissions to run the 'info' command"),
])
def test_redispy_faults(case, command, kind, cause):
    with mock.patch.object(baseline_redis.redis, "Redis", fake_redis({"PING": True},
                                                                      {command: redispy_exception(case)})):
        client = RedisPyClient(module_params())
        with pytest.raises(RedisFault) as fault:
            client.ping_ms()
            client.info()
    assert (fault.value.kind, fault.value.cause) == (kind, cause)


def test_redispy_client_options():
    FakeRedis.instances.clear()
    with mock.patch.object(baseline_redis.redis, "Redis", fake_redis()):
        RedisPyClient(module_params(username="baseline", password=PASSWORD, db=2, timeout=1.5, tls=True,
                                    ca_cert="/etc/ssl/ca.pem"))
        RedisPyClient(module_params(unix_socket="/run/redis/redis.sock"))
    tls, socket = FakeRedis.instances
    assert tls.kwargs == {"db": 2, "password": PASSWORD, "username": "baseline", "socket_timeout": 1.5,
                          "socket_connect_timeout": 1.5, "host": "127.0.0.1", "port": 6379, "ssl": True,
                          "ssl_ca_certs": "/etc/ssl/ca.pem", "ssl_cert_reqs": "required",
                          "ssl_check_hostname": False}
    assert socket.kwargs == {"db": 0, "password": None, "socket_timeout": 5.0, "socket_connect_timeout": 5.0,
                             "unix_socket_path": "/run/redis/redis.sock"}
    assert tls.callbacks["INFO"](b"# Server\r\n") == b"# Server\r\n"   # INFO stays raw text


# --- main(), on both clients ---------------------------------------------------------------

def cli_target(runs):
    """Patch AnsibleModule so that redis-cli answers with captured runs (by command)."""
    module = FakeModule(runs)

    def run_command(self, args, **kwargs):
        return module.run_command(args, **kwargs)

    return module, [
        mock.patch.object(basic.AnsibleModule, "run_command", run_command),
        mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: (
            str(REPLAY_CLI) if name == "redis-cli" else f"/usr/bin/{name}")),
    ]


def run_cli(args, runs):
    module, patches = cli_target(runs)
    with patches[0], patches[1]:
        status, result = run_module(redis_facts.main, dict(args, client="cli"))
    return status, result, module.calls


def run_redispy(args, replies=None, raises=None, scan=()):
    with mock.patch.object(baseline_redis.redis, "Redis", fake_redis(replies, raises, scan)):
        return run_module(redis_facts.main, dict(args, client="redispy"))


WARM_RUNS = {
    "PING": {"rc": 0, "stdout": fixture("ping.txt"), "stderr": ""},
    "INFO": {"rc": 0, "stdout": fixture("info_warm.txt"), "stderr": ""},
}
WARM_REPLIES = {
    "PING": True,
    "INFO": fixture("info_warm.txt").encode(),
}
# A pass of two real pages: 20 keys of the million-key database, then an empty last page.
CLI_PASS = raw_steps("raw_db0_page.txt") + raw_steps("raw_db5_empty.txt")
RESP_PASS = [scan_fixture("resp_db0_page.bin"), page(0, [])]
PAGE_COUNTS = {"products:*": 8, "orders:*": 5}


@pytest.fixture
def replay(tmp_path, monkeypatch):
    """redis-cli, for the SCAN pass, is replay_redis_cli.py answering with the given steps."""
    def start(steps):
        log = tmp_path / "replay.log"
        config = tmp_path / "replay.json"
        config.write_text(json.dumps({"steps": steps, "log": str(log)}))
        monkeypatch.setenv("REPLAY_REDIS_CLI", str(config))
        return log
    return start


def replayed(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_main_with_redis_cli(replay):
    log = replay(CLI_PASS)
    status, result, calls = run_cli({"key_patterns": ["products:*", "orders:*"], "password": PASSWORD}, WARM_RUNS)
    assert status == "exit"
    assert result["changed"] is False
    facts = result["redis"]
    assert set(facts) == set(baseline_redis.FACT_KEYS)
    assert facts["client"] == "cli"
    assert facts["reachable"] is True and facts["error_kind"] is None and facts["error"] is None
    assert facts["ping_ms"] >= 0
    assert {k: facts[k] for k in ("version", "total_keys", "keyspace_hits", "hit_rate_pct")} == \
        {"version": "7.0.15", "total_keys": 13, "keyspace_hits": 5, "hit_rate_pct": 31.25}
    assert facts["key_scan"] == {
        "db": 0, "counts": PAGE_COUNTS, "keys_visited": 20, "db_keys": 11, "complete": True, "bound_hit": None,
        "max_seconds": 30.0, "error": None, "keyspace_changes": 0, "exact": True,
        "elapsed_ms": facts["key_scan"]["elapsed_ms"]}
    assert [argv[4:] for argv, env in calls] == [
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "PING"],
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "INFO"],
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "INFO"],   # after the pass: were there writes?
    ]
    # one redis-cli for the whole pass, the password in its environment only
    assert replayed(log) == [
        {"argv": ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "--raw", "-d", mock.ANY, "-D", mock.ANY],
         "auth": PASSWORD},
        {"command": "SCAN 0 COUNT 1000"}, {"command": "SCAN 851968 COUNT 1000"},
        {"command": 'EXISTS ""'}]   # the last page printed no key: was it the key ""?


def test_main_with_redispy_reads_the_scan_replies_raw():
    status, result = run_redispy({"key_patterns": ["products:*", "orders:*"], "scan_count": 5000},
                                 WARM_REPLIES, scan=RESP_PASS)
    assert status == "exit"
    scan = result["redis"]["key_scan"]
    assert (scan["counts"], scan["keys_visited"], scan["exact"]) == (PAGE_COUNTS, 20, True)
    connection = FakeRedis.instances[-1].connection_pool.get_connection.return_value
    assert connection.send_command.call_args_list == [mock.call("SCAN", 0, "COUNT", 5000),
                                                      mock.call("SCAN", 851968, "COUNT", 5000)]


def test_a_reply_that_comes_in_pieces_is_read_whole():
    reply = scan_fixture("resp_db3_odd.bin")
    chunks = [reply[:7], reply[7:40], reply[40:]]
    _, result = run_redispy({"key_patterns": ["*"]}, WARM_REPLIES, scan=chunks)
    assert result["redis"]["key_scan"]["counts"] == {"*": len(ODD_KEYS)}


def test_both_clients_give_the_same_figures(replay):
    replay(CLI_PASS)
    _, by_cli, _ = run_cli({"key_patterns": ["products:*"]}, WARM_RUNS)
    _, by_redispy = run_redispy({"key_patterns": ["products:*"]}, WARM_REPLIES, scan=RESP_PASS)
    varying = ("client", "ping_ms")
    assert by_cli["redis"]["key_scan"].pop("elapsed_ms") >= 0 and by_redispy["redis"]["key_scan"].pop("elapsed_ms") >= 0
    assert {k: v for k, v in by_cli["redis"].items() if k not in varying} == \
        {k: v for k, v in by_redispy["redis"].items() if k not in varying}
    assert by_redispy["redis"]["client"] == "redispy"
    assert by_cli["redis"]["key_scan"]["counts"] == {"products:*": 8}


def test_main_in_check_mode_reads_the_same():
    status, result, _ = run_cli({"_ansible_check_mode": True}, WARM_RUNS)
    assert status == "exit" and result["changed"] is False and result["redis"]["reachable"] is True


def test_without_key_patterns_there_is_no_scan(replay):
    log = replay(CLI_PASS)
    _, result, calls = run_cli({}, WARM_RUNS)
    assert result["redis"]["key_scan"] is None
    assert replayed(log) == [] and len(calls) == 2


SCAN_FAULTS = [
    # (what redis-cli does at the second page, what redis-py's socket does, the error)
    (raw_steps("raw_noperm.txt")[0], scan_fixture("resp_noperm.bin"),
     "unable to SCAN Redis at 127.0.0.1:6379: NOPERM this user has no permissions to run the 'scan' command"),
    (raw_steps("raw_noauth.txt")[0], scan_fixture("resp_noauth.bin"),
     "unable to SCAN Redis at 127.0.0.1:6379: NOAUTH Authentication required."),
]


@pytest.mark.parametrize(("cli_step", "resp", "error"), SCAN_FAULTS)
def test_a_refused_scan_mid_pass_keeps_the_counts_so_far_and_warns(replay, cli_step, resp, error):
    replay([CLI_PASS[0], cli_step])
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        _, by_cli, _ = run_cli({"key_patterns": ["products:*", "orders:*"]}, WARM_RUNS)
    warn.assert_called_once_with(f"{error}; the key counts are those of the 20 keys read before")
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        _, by_redispy = run_redispy({"key_patterns": ["products:*", "orders:*"]}, WARM_REPLIES,
                                    scan=[RESP_PASS[0], resp])
    warn.assert_called_once_with(f"{error}; the key counts are those of the 20 keys read before")
    for result in (by_cli, by_redispy):
        scan = result["redis"]["key_scan"]
        assert result["redis"]["reachable"] is True
        assert (scan["error"], scan["complete"], scan["exact"], scan["counts"]) == (error, False, False, PAGE_COUNTS)


def test_redis_cli_losing_its_connection_mid_pass_ends_it(replay):
    replay([CLI_PASS[0], {"stderr": scan_fixture("raw_killed_stderr.txt").decode()}])
    _, result, _ = run_cli({"key_patterns": ["products:*", "orders:*"]}, WARM_RUNS)
    scan = result["redis"]["key_scan"]
    assert scan["error"] == "unable to SCAN Redis at 127.0.0.1:6379: Server closed the connection"
    assert (scan["counts"], scan["complete"]) == (PAGE_COUNTS, False)


def test_redis_cli_not_answering_mid_pass_times_out(replay):
    replay([CLI_PASS[0], dict(CLI_PASS[1], sleep=3)])
    _, result, _ = run_cli({"key_patterns": ["products:*"], "timeout": 0.5}, WARM_RUNS)
    scan = result["redis"]["key_scan"]
    assert scan["error"] == "unable to SCAN Redis at 127.0.0.1:6379: no answer within 0.5 s"
    assert (scan["counts"], scan["keys_visited"]) == ({"products:*": 8}, 20)


@pytest.mark.parametrize(("socket_does", "error"), [
    (TimeoutError("timed out"), "Timeout reading from socket"),
    (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
    (b"", "Connection closed by server"),
    (b"+OK\r\n$1\r\n0\r\n*0\r\n\r\n", "not a SCAN reply: b'+OK\\r\\n$1\\r\\n0\\r\\n*0\\r\\n\\r\\n'"),
])
def test_redispy_faults_mid_pass(socket_does, error):
    _, result = run_redispy({"key_patterns": ["products:*"]}, WARM_REPLIES, scan=[RESP_PASS[0], socket_does])
    scan = result["redis"]["key_scan"]
    assert scan["error"] == f"unable to SCAN Redis at 127.0.0.1:6379: {error}"
    assert (scan["counts"], scan["complete"]) == ({"products:*": 8}, False)


CLI_FAULTS = [
    # (PING run, INFO run, args, error_kind, error)
    ("refused_ping", None, {}, "server_down",
     "unable to connect to Redis at 127.0.0.1:6379: Connection refused"),
    ("nosocket_ping", None, {"unix_socket": "/run/redis/missing.sock"}, "server_down",
     "unable to connect to Redis at /run/redis/missing.sock: No such file or directory"),
    ("timeout_ping", None, {"port": 6390, "timeout": 2}, "timeout",
     "unable to connect to Redis at 127.0.0.1:6390: no answer within 2 s"),
    ("noauth_ping", None, {}, "auth_required",
     "unable to connect to Redis at 127.0.0.1:6379: NOAUTH Authentication required."),
    ("wrongpass_ping", None, {"password": PASSWORD}, "auth_failed",
     "unable to connect to Redis at 127.0.0.1:6379: "
     "WRONGPASS invalid username-password pair or user is disabled."),
    ("acl_ping", "acl_info", {"username": "baseline", "password": PASSWORD}, "permission_denied",
     "unable to read INFO from Redis at 127.0.0.1:6379: "
     "NOPERM this user has no permissions to run the 'info' command"),
]


@pytest.mark.parametrize(("ping", "info", "args", "kind", "error"), CLI_FAULTS)
def test_main_returns_each_fault_of_redis_cli_as_a_result(ping, info, args, kind, error):
    runs = {"PING": CLI_RUNS[ping]}
    if info:
        runs["INFO"] = CLI_RUNS[info]
    status, result, calls = run_cli(args, runs)
    assert status == "exit"
    facts = result["redis"]
    assert (facts["reachable"], facts["error_kind"], facts["error"]) == (False, kind, error)
    assert set(facts) == set(baseline_redis.FACT_KEYS)
    assert facts["version"] is None and facts["keyspace"] is None
    assert PASSWORD not in json.dumps(result)
    assert all(PASSWORD not in " ".join(argv) for argv, env in calls)


REDISPY_FAULTS = [
    ("refused", "PING", {}, "server_down",
     "unable to connect to Redis at 127.0.0.1:6379: Connection refused"),
    ("timeout", "PING", {"port": 6390}, "timeout",
     "unable to connect to Redis at 127.0.0.1:6390: Timeout reading from socket"),
    ("noauth", "PING", {}, "auth_required",
     "unable to connect to Redis at 127.0.0.1:6379: Authentication required."),
    ("wrongpass", "PING", {"password": PASSWORD}, "auth_failed",
     "unable to connect to Redis at 127.0.0.1:6379: "
     "WRONGPASS invalid username-password pair or user is disabled."),
    ("acl_info", "INFO", {"username": "baseline", "password": PASSWORD}, "permission_denied",
     "unable to read INFO from Redis at 127.0.0.1:6379: this user has no permissions to run the 'info' command"),
]


@pytest.mark.parametrize(("case", "command", "args", "kind", "error"), REDISPY_FAULTS)
def test_main_returns_each_fault_of_redispy_as_a_result(case, command, args, kind, error):
    status, result = run_redispy(args, {"PING": True}, {command: redispy_exception(case)})
    assert status == "exit"
    facts = result["redis"]
    assert (facts["reachable"], facts["error_kind"], facts["error"]) == (False, kind, error)
    assert PASSWORD not in json.dumps(result)


def test_auto_takes_redis_cli_without_redis_py():
    _, patches = cli_target(WARM_RUNS)
    with patches[0], patches[1], mock.patch.object(baseline_redis, "redis", None):
        status, result = run_module(redis_facts.main, {})
    assert (status, result["redis"]["client"]) == ("exit", "cli")


def test_redispy_without_redis_py_fails_naming_the_library():
    with mock.patch.object(baseline_redis, "redis", None):
        status, result = run_module(redis_facts.main, {"client": "redispy"})
    assert status == "fail"
    assert result["msg"].startswith("Failed to import the required Python library (redis) on ")


# --- the argument spec ---------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    ({"unix_socket": "/run/redis.sock", "host": "127.0.0.1"}, "parameters are mutually exclusive: unix_socket|host"),
    ({"unix_socket": "/run/redis.sock", "port": 6380}, "parameters are mutually exclusive: unix_socket|port"),
    ({"unix_socket": "/run/redis.sock", "tls": True}, "parameters are mutually exclusive: unix_socket|tls"),
    ({"username": "baseline"}, "missing parameter(s) required by 'username': password"),
    ({"client": "hiredis"}, "value of client must be one of: auto, redispy, cli, got: hiredis"),
    ({"port": "six"}, "argument 'port' is of type str and we were unable to convert to int: "
                      "\"'six'\" cannot be converted to an int"),
    ({"key_patterns": {"products": "*"}}, "argument 'key_patterns' is of type dict and we were unable to "
                                          "convert to list: <class 'dict'> cannot be converted to a list"),
    ({"timeout": 0}, "argument 'timeout' must be greater than 0, got 0"),
    ({"port": 70000}, "argument 'port' must be between 1 and 65535, got 70000"),
    ({"db": -1}, "argument 'db' must be 0 or more, got -1"),
    ({"scan_max_seconds": 0}, "argument 'scan_max_seconds' must be greater than 0, got 0"),
    ({"scan_count": -1}, "argument 'scan_count' must be greater than 0, got -1"),
])
def test_argument_errors(args, message):
    status, result = run_module(redis_facts.main, args)
    assert (status, result["msg"]) == ("fail", message)


def test_the_password_is_no_log():
    assert redis_facts.get_argument_spec()["password"]["no_log"] is True


def test_redis_cli_finds_the_empty_key_alone_in_a_page(replay):
    log = replay(raw_steps("raw_db4_empty_key.txt"))
    _, result, _ = run_cli({"key_patterns": ["*"], "db": 4}, WARM_RUNS)
    assert result["redis"]["key_scan"]["counts"] == {"*": 1}
    assert [entry.get("command") for entry in replayed(log)][1:] == ["SCAN 0 COUNT 1000", 'EXISTS ""']


def test_redis_cli_delimiters_are_new_for_each_pass(replay):
    log = replay(CLI_PASS + CLI_PASS)
    run_cli({"key_patterns": ["*"]}, WARM_RUNS)
    run_cli({"key_patterns": ["*"]}, WARM_RUNS)
    first, second = (entry["argv"] for entry in replayed(log) if "argv" in entry)
    assert first[-4:-2] == ["-d", first[-3]] and first[-3] != second[-3] and first[-1] != second[-1]
