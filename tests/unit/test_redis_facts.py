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
    hit_rate_pct,
    parse_info,
    parse_scan_reply,
    redis_cli_argv,
    redis_facts_from_info,
    redis_glob_regex,
)
from conftest import FIXTURES
from module_runner import run_module

REDIS = FIXTURES / "redis"
CLI_RUNS = json.loads((REDIS / "cli_runs.json").read_text())
REDISPY_ERRORS = json.loads((REDIS / "redispy_errors.json").read_text())
PASSWORD = "s3cret-pass"


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


# --- SCAN: pages and glob patterns ---------------------------------------------------------

@pytest.mark.parametrize(("name", "cursor", "keys"), [
    ("scan_db0_page.txt", 6, ["orders:list:10:0", "orders:list:50:0", "products:list:50:50",
                              "products:list:50:300"]),
    ("scan_db1.txt", 0, ["session:def", "session:abc"]),
    ("scan_empty.txt", 0, []),
])
def test_parse_scan_reply(name, cursor, keys):
    assert parse_scan_reply(fixture(name)) == (cursor, keys)


def test_parse_scan_reply_of_a_whole_database():
    cursor, keys = parse_scan_reply(fixture("scan_db0.txt"))
    assert (cursor, len(keys)) == (0, 11)


def test_parse_scan_reply_rejects_an_error_reply():
    with pytest.raises(ValueError):
        parse_scan_reply(CLI_RUNS["noauth_info"]["stdout"])


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
])
def test_redis_glob_regex(pattern, key, matches):
    assert bool(redis_glob_regex(pattern).fullmatch(key)) is matches


class PagedClient:
    """SCAN pages from captured output; each call advances a fake clock by `step_s`."""

    def __init__(self, pages, clock=None, step_s=0.0):
        self.pages = list(pages)
        self.counts = []
        self.clock, self.step_s = clock, step_s

    def scan(self, cursor, count):
        self.counts.append(count)
        if self.clock:
            self.clock[0] += self.step_s
        return parse_scan_reply(self.pages.pop(0))


def test_count_keys_walks_the_whole_database():
    client = PagedClient([fixture("scan_db0.txt")])
    scan = count_keys(client, ["products:*", "orders:*", "session:*"], max_keys=100000, max_seconds=5)
    assert scan.counts == {"products:*": 7, "orders:*": 4, "session:*": 0}
    assert (scan.keys_visited, scan.bound_hit) == (11, None)
    assert client.counts == [1000]


def test_count_keys_stops_at_scan_max_keys_and_says_so():
    client = PagedClient([fixture("scan_db0_page.txt"), fixture("scan_db0.txt")])
    scan = count_keys(client, ["products:*"], max_keys=4, max_seconds=5)
    assert scan.as_fact(0) == {"db": 0, "counts": {"products:*": 2}, "keys_visited": 4, "complete": False,
                               "bound_hit": "scan_max_keys", "elapsed_ms": scan.as_fact(0)["elapsed_ms"]}
    assert client.counts == [4]


def test_count_keys_counts_a_key_that_scan_returns_twice_once():
    page = fixture("scan_db0_page.txt")
    client = PagedClient([page, page.replace("6\n", "0\n", 1)])
    scan = count_keys(client, ["orders:*", "products:*"], max_keys=100000, max_seconds=5)
    assert (scan.keys_visited, scan.counts) == (4, {"orders:*": 2, "products:*": 2})


def test_count_keys_stops_at_scan_timeout_and_says_so():
    clock = [100.0]
    client = PagedClient([fixture("scan_db0_page.txt")] * 3, clock=clock, step_s=0.6)
    with mock.patch.object(baseline_redis.time, "monotonic", lambda: clock[0]):
        scan = count_keys(client, ["orders:*"], max_keys=100000, max_seconds=1.0)
    # the same page three times: its 4 keys count once
    assert (scan.bound_hit, scan.keys_visited, scan.counts) == ("scan_timeout", 4, {"orders:*": 2})
    assert scan.as_fact(0)["complete"] is False


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
])
def test_redis_cli_argv(params, argv):
    assert redis_cli_argv(module_params(**params)) == argv


def redispy_exception(case):
    captured = REDISPY_ERRORS[case]
    return getattr(baseline_redis.redis.exceptions, captured["exception"])(captured["message"])


class FakeRedis:
    """Stands for redis.Redis: answers from captured output, or raises a captured exception."""

    instances: ClassVar[list] = []

    def __init__(self, replies=None, raises=None, **kwargs):
        self.kwargs = kwargs
        self.replies = replies or {}
        self.raises = raises or {}
        self.callbacks = {}
        self.connection_pool = mock.Mock()
        FakeRedis.instances.append(self)

    def set_response_callback(self, command, callback):
        self.callbacks[command] = callback

    def execute_command(self, *command):
        if command[0] in self.raises:
            raise self.raises[command[0]]
        return self.replies[command[0]]


def fake_redis(replies=None, raises=None):
    return lambda **kwargs: FakeRedis(replies, raises, **kwargs)


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
                          "ssl_ca_certs": "/etc/ssl/ca.pem", "ssl_cert_reqs": "required"}
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
        mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: f"/usr/bin/{name}"),
    ]


def run_cli(args, runs):
    module, patches = cli_target(runs)
    with patches[0], patches[1]:
        status, result = run_module(redis_facts.main, dict(args, client="cli"))
    return status, result, module.calls


def run_redispy(args, replies=None, raises=None):
    with mock.patch.object(baseline_redis.redis, "Redis", fake_redis(replies, raises)):
        return run_module(redis_facts.main, dict(args, client="redispy"))


WARM_RUNS = {
    "PING": {"rc": 0, "stdout": fixture("ping.txt"), "stderr": ""},
    "INFO": {"rc": 0, "stdout": fixture("info_warm.txt"), "stderr": ""},
    "SCAN": {"rc": 0, "stdout": fixture("scan_db0.txt"), "stderr": ""},
}
WARM_REPLIES = {
    "PING": True,
    "INFO": fixture("info_warm.txt").encode(),
    "SCAN": parse_scan_reply(fixture("scan_db0.txt")),
}


def test_main_with_redis_cli():
    status, result, calls = run_cli({"key_patterns": ["products:*", "orders:*"]}, WARM_RUNS)
    assert status == "exit"
    assert result["changed"] is False
    facts = result["redis"]
    assert set(facts) == set(baseline_redis.FACT_KEYS)
    assert facts["client"] == "cli"
    assert facts["reachable"] is True and facts["error_kind"] is None and facts["error"] is None
    assert facts["ping_ms"] >= 0
    assert {k: facts[k] for k in ("version", "total_keys", "keyspace_hits", "hit_rate_pct")} == \
        {"version": "7.0.15", "total_keys": 13, "keyspace_hits": 5, "hit_rate_pct": 31.25}
    assert facts["key_scan"]["counts"] == {"products:*": 7, "orders:*": 4}
    assert [argv[4:] for argv, env in calls] == [
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "PING"],
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "INFO"],
        ["-h", "127.0.0.1", "-p", "6379", "-n", "0", "SCAN", "0", "COUNT", "1000"],
    ]


def test_both_clients_give_the_same_figures():
    _, by_cli, _ = run_cli({"key_patterns": ["products:*"]}, WARM_RUNS)
    _, by_redispy = run_redispy({"key_patterns": ["products:*"]}, WARM_REPLIES)
    varying = ("client", "ping_ms", "key_scan")
    assert {k: v for k, v in by_cli["redis"].items() if k not in varying} == \
        {k: v for k, v in by_redispy["redis"].items() if k not in varying}
    assert by_redispy["redis"]["client"] == "redispy"
    assert by_cli["redis"]["key_scan"]["counts"] == by_redispy["redis"]["key_scan"]["counts"] == {"products:*": 7}


def test_main_in_check_mode_reads_the_same():
    status, result, _ = run_cli({"_ansible_check_mode": True}, WARM_RUNS)
    assert status == "exit" and result["changed"] is False and result["redis"]["reachable"] is True


def test_without_key_patterns_there_is_no_scan():
    _, result, calls = run_cli({}, WARM_RUNS)
    assert result["redis"]["key_scan"] is None
    assert not any("SCAN" in argv for argv, env in calls)


def test_a_refused_scan_is_a_warning_not_a_fault():
    runs = dict(WARM_RUNS, SCAN={"rc": 0, "stdout": "NOPERM this user has no permissions to run the 'scan' command\n",
                                 "stderr": ""})
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        status, result, _ = run_cli({"key_patterns": ["products:*"]}, runs)
    assert status == "exit" and result["redis"]["reachable"] is True
    assert result["redis"]["key_scan"] is None
    warn.assert_called_once_with("unable to count keys in Redis at 127.0.0.1:6379: "
                                 "NOPERM this user has no permissions to run the 'scan' command")


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
    ({"scan_max_keys": 0}, "argument 'scan_max_keys' must be greater than 0, got 0"),
    ({"scan_timeout": -1}, "argument 'scan_timeout' must be greater than 0, got -1"),
])
def test_argument_errors(args, message):
    status, result = run_module(redis_facts.main, args)
    assert (status, result["msg"]) == ("fail", message)


def test_the_password_is_no_log():
    assert redis_facts.get_argument_spec()["password"]["no_log"] is True
