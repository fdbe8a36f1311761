"""Redis for the deploy-baseline fact modules: shared options, the two clients, the parsers.

Two clients reach the same server: redis-py when the target has it (Debian's python3-redis),
else the redis-cli of the redis-tools package that comes with redis-server. Both hand the
module the raw text of one INFO reply and the raw SCAN pages, so one set of pure parsers
serves both, and a fault of the server is raised by both as the same RedisFault kind.
"""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass, field

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.locale import get_best_parsable_locale

try:
    import redis
except ImportError:
    redis = None
    REDIS_IMPORT_ERROR = traceback.format_exc()
else:
    REDIS_IMPORT_ERROR = None

CLIENTS = ["auto", "redispy", "cli"]
TIMED_OUT = (124, 137)  # exit codes of coreutils' timeout (TERM, then KILL)

# Kinds of fault, first match wins. WRONGPASS comes before NOAUTH: after a failed AUTH,
# redis-cli goes on as the default user and prints both.
_FAULTS = (
    ("auth_failed", re.compile(r"WRONGPASS|invalid password|invalid username-password|"
                               r"without any password configured")),
    ("auth_required", re.compile(r"NOAUTH|Authentication required")),
    ("permission_denied", re.compile(r"NOPERM|no permissions")),
    ("timeout", re.compile(r"[Tt]imeout|timed out")),
    ("server_down", re.compile(r"Connection refused|No such file or directory")),
)


def redis_argument_spec() -> dict:
    """Options shared by the modules that read Redis."""
    return dict(
        host=dict(type="str", default="127.0.0.1"),
        port=dict(type="int", default=6379),
        unix_socket=dict(type="path"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        db=dict(type="int", default=0),
        tls=dict(type="bool", default=False),
        ca_cert=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=5.0),
        client=dict(type="str", choices=CLIENTS, default="auto"),
    )


# Pass to AnsibleModule with redis_argument_spec(). Mutual exclusion is checked before the
# defaults apply, so only what the task sets counts. AUTH with a user name always takes a
# password; a password alone authenticates the default user.
REDIS_MUTUALLY_EXCLUSIVE = [("unix_socket", "host"), ("unix_socket", "port"), ("unix_socket", "tls")]
REDIS_REQUIRED_BY = {"username": ("password",)}


def check_redis_params(module) -> None:
    """Fail on values the argument spec cannot express: ranges."""
    params = module.params
    if params["timeout"] <= 0:
        module.fail_json(msg=f"argument 'timeout' must be greater than 0, got {params['timeout']:g}")
    if not 1 <= params["port"] <= 65535:
        module.fail_json(msg=f"argument 'port' must be between 1 and 65535, got {params['port']}")
    if params["db"] < 0:
        module.fail_json(msg=f"argument 'db' must be 0 or more, got {params['db']}")


class RedisFault(Exception):
    """The server refused or did not answer: a fact of the target, reported, not raised to Ansible."""

    def __init__(self, kind: str, cause: str):
        super().__init__(cause)
        self.kind = kind
        self.cause = cause


def classify_redis_error(text: str) -> str | None:
    """Return the kind of fault a Redis error text names, None when it names none. Pure."""
    return next((kind for kind, pattern in _FAULTS if pattern.search(text)), None)


def redis_endpoint(params: dict) -> str:
    """Where the server is, as messages name it: a socket path or host:port. Pure."""
    if params["unix_socket"]:
        return params["unix_socket"]
    host = params["host"]
    return f"[{host}]:{params['port']}" if ":" in host else f"{host}:{params['port']}"


def _raw_reply(response, **options):
    return response


def redispy_cause(message: str) -> str:
    """redis-py's error text, without the endpoint that the module's message names already. Pure.

    "Error 111 connecting to 127.0.0.1:6379. Connection refused." gives "Connection refused".
    """
    match = re.match(r"Error \d+ connecting to .*?\. (.*?)\.?$", message)
    return match.group(1) if match else message


class RedisPyClient:
    """redis-py, with INFO left as the server's text so that parse_info reads it."""

    name = "redispy"

    def __init__(self, params: dict):
        kwargs = dict(db=params["db"], password=params["password"],
                      socket_timeout=params["timeout"], socket_connect_timeout=params["timeout"])
        if params["username"]:  # redis-py before 3.5 (Debian 10) has no username
            kwargs["username"] = params["username"]
        if params["unix_socket"]:
            kwargs["unix_socket_path"] = params["unix_socket"]
        else:
            kwargs.update(host=params["host"], port=params["port"])
            if params["tls"]:
                kwargs.update(ssl=True, ssl_ca_certs=params["ca_cert"],
                              ssl_cert_reqs="required" if params["validate_certs"] else "none")
        self._redis = redis.Redis(**kwargs)
        self._redis.set_response_callback("INFO", _raw_reply)

    def _call(self, *command, default_kind: str):
        try:
            return self._redis.execute_command(*command)
        except redis.RedisError as exc:
            cause = redispy_cause(str(exc))
            raise RedisFault(classify_redis_error(cause) or default_kind, cause) from exc

    def ping_ms(self) -> float:
        """Round trip of one PING on a connection already open and authenticated."""
        self._call("PING", default_kind="connection_failed")
        started = time.perf_counter()
        self._call("PING", default_kind="connection_failed")
        return (time.perf_counter() - started) * 1000

    def info(self) -> str:
        reply = self._call("INFO", default_kind="command_failed")
        return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply

    def scan(self, cursor: int, count: int) -> tuple:
        cursor, keys = self._call("SCAN", cursor, "COUNT", count, default_kind="command_failed")
        return int(cursor), [k.decode("utf-8", "surrogateescape") if isinstance(k, bytes) else k
                             for k in keys]

    def close(self) -> None:
        self._redis.connection_pool.disconnect()


def redis_cli_argv(params: dict) -> list:
    """redis-cli's connection options; the password goes through REDISCLI_AUTH. Pure."""
    if params["unix_socket"]:
        argv = ["-s", params["unix_socket"]]
    else:
        argv = ["-h", params["host"], "-p", str(params["port"])]
        if params["tls"]:
            argv.append("--tls")
            if params["ca_cert"]:
                argv += ["--cacert", params["ca_cert"]]
            if not params["validate_certs"]:
                argv.append("--insecure")
    if params["username"]:
        argv += ["--user", params["username"]]
    return [*argv, "-n", str(params["db"])]


def redis_cli_fault(rc: int, stdout: str, stderr: str, timeout: float, default_kind: str):
    """Return the RedisFault a redis-cli run shows, or None. Pure.

    redis-cli exits 0 on an error reply, and after a failed AUTH it goes on as the default
    user, so both streams are read, not only the exit code.
    """
    if rc in TIMED_OUT:
        return RedisFault("timeout", f"no answer within {timeout:g} s")
    for line in stderr.splitlines():
        if line.startswith("AUTH failed: "):
            cause = line[len("AUTH failed: "):].strip()
            return RedisFault(classify_redis_error(cause) or "auth_failed", cause)
    if rc != 0:
        text = stderr.strip() or stdout.strip() or f"redis-cli exited with {rc}"
        cause = re.sub(r"^Could not connect to Redis at .*?: ", "", text.splitlines()[0])
        return RedisFault(classify_redis_error(cause) or "connection_failed", cause)
    return None


class RedisCliClient:
    """redis-cli, one run per command, each bounded by coreutils' timeout."""

    name = "cli"

    def __init__(self, module):
        params = module.params
        locale = get_best_parsable_locale(module)
        module.run_command_environ_update = dict(LANG=locale, LC_ALL=locale, LC_MESSAGES=locale)
        self._module = module
        self._timeout = params["timeout"]
        self._argv = [module.get_bin_path("timeout", required=True), "--kill-after=1", f"{self._timeout:g}",
                      module.get_bin_path("redis-cli", required=True), *redis_cli_argv(params)]
        self._env = {"REDISCLI_AUTH": params["password"]} if params["password"] else {}

    def _run(self, *command, default_kind: str) -> str:
        rc, stdout, stderr = self._module.run_command([*self._argv, *command], environ_update=self._env,
                                                      errors="surrogate_or_replace")
        fault = redis_cli_fault(rc, stdout, stderr, self._timeout, default_kind)
        if fault:
            raise fault
        return stdout

    def ping_ms(self) -> float:
        """Time of a whole redis-cli PING run: process start, connection, AUTH and PING."""
        started = time.perf_counter()
        reply = self._run("PING", default_kind="connection_failed")
        elapsed_ms = (time.perf_counter() - started) * 1000
        if reply.strip() != "PONG":
            raise _reply_fault(reply, "connection_failed")
        return elapsed_ms

    def info(self) -> str:
        reply = self._run("INFO", default_kind="command_failed")
        if not reply.lstrip().startswith("#"):
            raise _reply_fault(reply, "command_failed")
        return reply

    def scan(self, cursor: int, count: int) -> tuple:
        reply = self._run("SCAN", str(cursor), "COUNT", str(count), default_kind="command_failed")
        try:
            return parse_scan_reply(reply)
        except ValueError:
            raise _reply_fault(reply, "command_failed") from None

    def close(self) -> None:
        """Each run closed its own connection."""


def _reply_fault(reply: str, default_kind: str) -> RedisFault:
    """An error reply that redis-cli printed in place of the answer (it still exits 0)."""
    cause = reply.strip().splitlines()[0] if reply.strip() else "empty reply"
    return RedisFault(classify_redis_error(cause) or default_kind, cause)


def redis_client(module):
    """The client the `client` option asks for; `auto` takes redis-py when it imports."""
    choice = module.params["client"]
    if choice == "redispy" or (choice == "auto" and redis is not None):
        if redis is None:
            module.fail_json(msg=missing_required_lib("redis"), exception=REDIS_IMPORT_ERROR)
        return RedisPyClient(module.params)
    return RedisCliClient(module)


_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")
_FIELDS = re.compile(r"[A-Za-z_][\w.-]*=[^,]*(,[A-Za-z_][\w.-]*=[^,]*)*")


def _typed(value: str):
    """A number when the whole value is one (a run_id such as "12e5..." stays text)."""
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


def parse_info(text: str) -> dict:
    """Parse the text of an INFO reply into {field: value}. Pure.

    Numbers become int or float. A value made of name=value pairs (db0:keys=3,expires=1,...,
    cmdstat_ping:calls=2,...) becomes a dict of its pairs. Section headers are dropped.
    """
    info = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, value = line.split(":", 1)
        if _FIELDS.fullmatch(value):
            info[name] = {k: _typed(v) for k, v in (pair.split("=", 1) for pair in value.split(","))}
        else:
            info[name] = _typed(value)
    return info


def _count(value) -> int | None:
    """A counter of INFO; None when the server gave something else than a whole number. Pure."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def hit_rate_pct(hits: int | None, misses: int | None) -> float | None:
    """Share of key lookups that found their key; None before the first lookup. Pure."""
    if _count(hits) is None or _count(misses) is None or hits + misses == 0:
        return None
    return round(100.0 * hits / (hits + misses), 2)


def redis_facts_from_info(info: dict) -> dict:
    """The baseline's figures out of a parsed INFO reply (parse_info). Pure."""
    keyspace = {
        name: {"key_count": _count(value.get("keys", 0)) or 0, "expires": _count(value.get("expires", 0)) or 0,
               "avg_ttl_ms": _count(value.get("avg_ttl", 0)) or 0}
        for name, value in sorted(info.items())
        if re.fullmatch(r"db\d+", name) and isinstance(value, dict)
    }
    return {
        "version": _text(info.get("redis_version")),
        "mode": info.get("redis_mode"),
        "role": info.get("role"),
        "uptime_s": info.get("uptime_in_seconds"),
        "port": info.get("tcp_port"),
        "connected_clients": info.get("connected_clients"),
        "total_commands_processed": info.get("total_commands_processed"),
        "used_memory_bytes": info.get("used_memory"),
        "used_memory_human": _text(info.get("used_memory_human")),
        "used_memory_peak_bytes": info.get("used_memory_peak"),
        "used_memory_peak_human": _text(info.get("used_memory_peak_human")),
        "maxmemory_bytes": info.get("maxmemory"),
        "maxmemory_human": _text(info.get("maxmemory_human")),
        "maxmemory_policy": info.get("maxmemory_policy"),
        "keyspace": keyspace,
        "total_keys": sum(db["key_count"] for db in keyspace.values()),
        "total_expires": sum(db["expires"] for db in keyspace.values()),
        "keyspace_hits": info.get("keyspace_hits"),
        "keyspace_misses": info.get("keyspace_misses"),
        "hit_rate_pct": hit_rate_pct(info.get("keyspace_hits"), info.get("keyspace_misses")),
        "evicted_keys": info.get("evicted_keys"),
        "expired_keys": info.get("expired_keys"),
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "rejected_connections": info.get("rejected_connections"),
    }


def _text(value):
    """A value that parse_info may have read as a number ("6.0" as a version) back to text."""
    return None if value is None else str(value)


def parse_scan_reply(text: str) -> tuple:
    """Parse redis-cli's raw SCAN output: the next cursor, then one key a line. Pure.

    An empty page prints an empty line, so empty lines are not keys.
    """
    lines = text.split("\n")
    cursor = int(lines[0].strip())
    return cursor, [line for line in lines[1:] if line]


def redis_glob_regex(pattern: str) -> re.Pattern:
    """Compile a Redis glob (SCAN MATCH, KEYS) into the regex that matches the same keys. Pure.

    Redis globs know *, ?, [abc], [^abc], [a-z] and \\ escapes.
    """
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            i, char_class = _glob_class(pattern, i + 1)
            out.append(char_class)
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _glob_class(pattern: str, i: int) -> tuple:
    """Read a [...] class starting after its "["; return the index of its "]" and the regex."""
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    items = []
    while i < len(pattern) and pattern[i] != "]":
        if pattern[i] == "\\" and i + 1 < len(pattern):
            i += 1
            items.append(re.escape(pattern[i]))
        elif i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            low, high = sorted((pattern[i], pattern[i + 2]))
            items.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 2
        else:
            items.append(re.escape(pattern[i]))
        i += 1
    if not items:
        return i, "[^\\s\\S]" if not negate else "[\\s\\S]"
    return i, f"[{'^' if negate else ''}{''.join(items)}]"


@dataclass
class KeyScan:
    """Keys per pattern, counted over one SCAN walk of a database, within bounds.

    SCAN may return a key twice (when the keyspace is resized during the walk): each key counts once.
    """

    counts: dict
    bound_hit: str | None = None
    elapsed_ms: float = 0.0
    matchers: dict = field(default_factory=dict, repr=False)
    seen: set = field(default_factory=set, repr=False)

    @property
    def keys_visited(self) -> int:
        return len(self.seen)

    def add(self, keys: list) -> None:
        new = [key for key in dict.fromkeys(keys) if key not in self.seen]
        self.seen.update(new)
        for pattern, matcher in self.matchers.items():
            self.counts[pattern] += sum(1 for key in new if matcher.fullmatch(key))

    def as_fact(self, db: int) -> dict:
        return {"db": db, "counts": self.counts, "keys_visited": self.keys_visited,
                "complete": self.bound_hit is None, "bound_hit": self.bound_hit,
                "elapsed_ms": round(self.elapsed_ms, 3)}


def count_keys(client, patterns: list, max_keys: int, max_seconds: float, batch: int = 1000) -> KeyScan:
    """Walk the database with SCAN (never KEYS) and count the keys of each pattern.

    Stops once max_keys keys were visited or max_seconds passed, whichever comes first, and
    records which bound it hit: the counts are then lower bounds. A SCAN page may carry a few
    keys more than asked, so keys_visited can pass max_keys by part of one page.
    """
    scan = KeyScan(counts=dict.fromkeys(patterns, 0),
                   matchers={p: redis_glob_regex(p) for p in patterns})
    started = time.monotonic()
    cursor = 0
    while True:
        cursor, keys = client.scan(cursor, min(batch, max_keys - scan.keys_visited))
        scan.add(keys)
        if cursor == 0:
            break
        if scan.keys_visited >= max_keys:
            scan.bound_hit = "scan_max_keys"
            break
        if time.monotonic() - started >= max_seconds:
            scan.bound_hit = "scan_timeout"
            break
    scan.elapsed_ms = (time.monotonic() - started) * 1000
    return scan


# Every key of the `redis` result, in the order RETURN documents them.
FACT_KEYS = (
    "reachable", "error_kind", "error", "client", "endpoint", "ping_ms", "version", "mode", "role",
    "uptime_s", "port", "connected_clients", "total_commands_processed",
    "used_memory_bytes", "used_memory_human", "used_memory_peak_bytes", "used_memory_peak_human",
    "maxmemory_bytes", "maxmemory_human", "maxmemory_policy", "keyspace", "total_keys", "total_expires",
    "keyspace_hits", "keyspace_misses", "hit_rate_pct", "evicted_keys", "expired_keys", "ops_per_sec",
    "rejected_connections", "key_scan",
)


def redis_facts_argument_spec() -> dict:
    """The options of the redis_facts module."""
    spec = redis_argument_spec()
    spec.update(
        key_patterns=dict(type="list", elements="str", default=[]),
        scan_max_keys=dict(type="int", default=100000),
        scan_timeout=dict(type="float", default=5.0),
    )
    return spec


def unreachable(facts: dict, fault: RedisFault, action: str) -> dict:
    return dict(facts, error_kind=fault.kind, error=f"{action}: {fault.cause}")


def read_redis(client, params: dict, warn) -> dict:
    """PING, INFO, then the optional SCAN walk; a fault of the server ends in the result."""
    endpoint = redis_endpoint(params)
    facts = dict.fromkeys(FACT_KEYS)
    facts.update(reachable=False, client=client.name, endpoint=endpoint)
    try:
        facts["ping_ms"] = round(client.ping_ms(), 3)
    except RedisFault as fault:
        return unreachable(facts, fault, f"unable to connect to Redis at {endpoint}")
    try:
        info = parse_info(client.info())
    except RedisFault as fault:
        return unreachable(facts, fault, f"unable to read INFO from Redis at {endpoint}")
    facts.update(redis_facts_from_info(info), reachable=True)
    if params["key_patterns"]:
        try:
            scan = count_keys(client, params["key_patterns"], params["scan_max_keys"], params["scan_timeout"])
        except RedisFault as fault:
            warn(f"unable to count keys in Redis at {endpoint}: {fault.cause}")
        else:
            facts["key_scan"] = scan.as_fact(params["db"])
    return facts


def read_redis_facts(module) -> dict:
    """The redis_facts module's result: the figures of the server module.params names."""
    check_redis_params(module)
    for name in ("scan_max_keys", "scan_timeout"):
        if module.params[name] <= 0:
            module.fail_json(msg=f"argument '{name}' must be greater than 0, got {module.params[name]:g}")

    client = redis_client(module)
    try:
        return read_redis(client, module.params, module.warn)
    finally:
        client.close()
