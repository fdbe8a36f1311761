"""Redis for the deploy-baseline fact modules: shared options, the two clients, the parsers.

Two clients reach the same server: redis-py when the target has it (Debian's python3-redis),
else the redis-cli of the redis-tools package that comes with redis-server. Both hand the
module the raw text of one INFO reply and the raw SCAN pages, so one set of pure parsers
serves both, and a fault of the server is raised by both as the same RedisFault kind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import socket
import ssl
import subprocess
import time
import traceback
from dataclasses import dataclass

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
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        tls_server_name=dict(type="str"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=5.0),
        client=dict(type="str", choices=CLIENTS, default="auto"),
    )


# Pass to AnsibleModule with redis_argument_spec(). Mutual exclusion is checked before the
# defaults apply, so only what the task sets counts. AUTH with a user name always takes a
# password; a password alone authenticates the default user.
REDIS_MUTUALLY_EXCLUSIVE = [("unix_socket", "host"), ("unix_socket", "port"), ("unix_socket", "tls")]
REDIS_REQUIRED_BY = {"username": ("password",)}
REDIS_REQUIRED_TOGETHER = [("client_cert", "client_key")]


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
                # The name check is tls_handshake's, which may check another name than host.
                kwargs.update(ssl=True, ssl_ca_certs=params["ca_cert"], ssl_check_hostname=False,
                              ssl_cert_reqs="required" if params["validate_certs"] else "none")
                if params.get("client_cert"):
                    kwargs.update(ssl_certfile=params["client_cert"], ssl_keyfile=params["client_key"])
        self._redis = redis.Redis(**kwargs)
        self._redis.set_response_callback("INFO", _raw_reply)
        self._scan_connection = None

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
        """One SCAN page, its keys as bytes. redis-py opened the connection (TLS, AUTH, SELECT);
        its reply is read raw, because redis-py's own parser, in Python, costs several times the
        whole pass for a million keys."""
        try:
            if self._scan_connection is None:
                self._scan_connection = self._redis.connection_pool.get_connection("SCAN")
            self._scan_connection.send_command("SCAN", cursor, "COUNT", count)
            return read_scan_resp(self._scan_connection._sock.recv)
        except redis.RedisError as exc:
            cause = redispy_cause(str(exc))
            raise RedisFault(classify_redis_error(cause) or "connection_failed", cause) from exc
        except socket.timeout as exc:
            raise RedisFault("timeout", "Timeout reading from socket") from exc
        except OSError as exc:
            raise RedisFault("connection_failed", exc.strerror or str(exc)) from exc
        except ValueError as exc:
            raise RedisFault("command_failed", str(exc)) from exc

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
            if params.get("client_cert"):
                argv += ["--cert", params["client_cert"], "--key", params["client_key"]]
            if params.get("tls_server_name"):
                argv += ["--sni", params["tls_server_name"]]
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
        self._scan_argv = [module.get_bin_path("redis-cli", required=True), *redis_cli_argv(params)]
        self._scan_env = dict(os.environ, LANG=locale, LC_ALL=locale, LC_MESSAGES=locale, **self._env)
        self._scan_session = None

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
        """One SCAN page, its keys as bytes, from one redis-cli that reads SCAN commands on its
        standard input for the whole pass (a process per page would cost more than the pass)."""
        if self._scan_session is None:
            self._scan_session = CliScanSession(self._scan_argv, self._scan_env, self._timeout)
        return self._scan_session.scan(cursor, count)

    def close(self) -> None:
        """Each run closed its own connection; the SCAN session ends here."""
        if self._scan_session is not None:
            self._scan_session.close()


class CliScanSession:
    """One redis-cli for a whole SCAN pass, a command a line in, a reply out.

    Replies come raw (redis-cli's fastest output, bytes as they are), the strings of a reply joined
    by a field delimiter (-d) and each reply ended by another (-D), both random for the session so
    that no key holds them but by design. Each reply is awaited at most `timeout` seconds. redis-cli
    reports a lost connection on its standard error (and would reconnect to db 0 on the next
    command), so a line there ends the pass.
    """

    def __init__(self, argv: list, env: dict, timeout: float):
        self._timeout = timeout
        self._field = "\x1f" + secrets.token_hex(16)
        self._end = "\x1e" + secrets.token_hex(16)
        self._pending = b""
        self._empty_page_met = self._empty_key_seen = False
        try:
            self._process = subprocess.Popen([*argv, "--raw", "-d", self._field, "-D", self._end],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            raise RedisFault("connection_failed", f"cannot run {argv[0]}: {exc.strerror}") from exc

    def scan(self, cursor: int, count: int) -> tuple:
        cursor, keys, empty = parse_scan_raw(self._command(b"SCAN %d COUNT %d" % (cursor, count)),
                                             self._field.encode())
        self._empty_page_met |= empty
        self._empty_key_seen |= b"" in keys
        if cursor == 0 and self._empty_page_met and not self._empty_key_seen and self._has_empty_key():
            # raw output prints a page [""] as an empty one: the empty key was in one of those
            keys.append(b"")
        return cursor, keys

    def _has_empty_key(self) -> bool:
        reply = self._command(b'EXISTS ""').strip()
        if reply not in (b"0", b"1"):
            raise _reply_fault(reply.decode("utf-8", "replace"), "command_failed")
        return reply == b"1"

    def _command(self, command: bytes) -> bytes:
        try:
            self._process.stdin.write(command + b"\n")
            self._process.stdin.flush()
        except OSError:
            raise self._ended() from None
        return self._read_reply()

    def _read_reply(self) -> bytes:
        stdout, stderr = self._process.stdout.fileno(), self._process.stderr.fileno()
        end = self._end.encode()
        deadline = time.monotonic() + self._timeout
        while end not in self._pending:
            ready, _, _ = select.select([stdout, stderr], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise RedisFault("timeout", f"no answer within {self._timeout:g} s")
            if stderr in ready:
                raise self._ended()
            chunk = os.read(stdout, 1 << 20)
            if not chunk:
                raise self._ended()
            self._pending += chunk
        reply, self._pending = self._pending.split(end, 1)
        return reply

    def _ended(self) -> RedisFault:
        """The fault redis-cli wrote on its standard error, or its exit."""
        text = b""
        if select.select([self._process.stderr.fileno()], [], [], 1.0)[0]:
            text = os.read(self._process.stderr.fileno(), 4096)
        lines = [line.strip() for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
        if not lines:
            rc = self._process.poll()
            return RedisFault("connection_failed", f"redis-cli exited with {rc}" if rc is not None
                              else "redis-cli stopped answering")
        cause = re.sub(r"^(Error: |Could not connect to Redis at .*?: )", "", lines[0])
        return RedisFault(classify_redis_error(cause) or "connection_failed", cause)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._process.stderr.close()


def _reply_fault(reply: str, default_kind: str) -> RedisFault:
    """An error reply that redis-cli printed in place of the answer (it still exits 0)."""
    cause = reply.strip().splitlines()[0] if reply.strip() else "empty reply"
    return RedisFault(classify_redis_error(cause) or default_kind, cause)


def _ssl_reason(exc: ssl.SSLError) -> str:
    """OpenSSL's words without the library tag and the source line: "tlsv13 alert certificate required". Pure."""
    text = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], str) else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", re.sub(r"^\[[^]]*\]\s*", "", text))


def tls_context(params: dict) -> ssl.SSLContext:
    """The TLS context the options ask for. OSError or ssl.SSLError for a file that cannot be read."""
    context = ssl.create_default_context(cafile=params["ca_cert"])
    if not params["validate_certs"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if params.get("client_cert"):
        context.load_cert_chain(params["client_cert"], params["client_key"])
    return context


def tls_handshake(params: dict) -> RedisFault | None:
    """Open TLS to the server as the clients will, and check its certificate, or return the fault.

    Both clients verify the certificate against the CA; neither redis-cli nor redis-py checks a
    name other than the host they connect to, so the name (tls_server_name, else host) is checked
    here, and each TLS fault gets a kind of its own. A PING without AUTH follows the handshake: a
    TLS 1.3 server refuses a missing client certificate only after it, on the first read.
    """
    timeout = params["timeout"]
    try:
        context = tls_context(params)
    except (OSError, ssl.SSLError) as exc:
        names = ", ".join(f"{name} {params[name]}" for name in ("ca_cert", "client_cert", "client_key")
                          if params.get(name))
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _ssl_reason(exc)
        return RedisFault("tls_failed", f"unable to load the TLS files ({names or 'the system CAs'}): {reason}")
    server_name = params.get("tls_server_name") or params["host"]
    try:
        with socket.create_connection((params["host"], params["port"]), timeout=timeout) as sock, \
                context.wrap_socket(sock, server_hostname=server_name) as tls:
            tls.sendall(b"*1\r\n$4\r\nPING\r\n")
            if not tls.recv(256):
                return RedisFault("tls_failed", "the server closed the connection after the TLS handshake")
    except ssl.SSLCertVerificationError as exc:
        return RedisFault("certificate_invalid", f"certificate verify failed: {exc.verify_message}")
    except ssl.SSLEOFError:
        return RedisFault("tls_failed", "TLS handshake refused: the server closed the connection")
    except ssl.SSLError as exc:
        return RedisFault("tls_failed", f"TLS handshake refused: {_ssl_reason(exc)}")
    except (socket.timeout, TimeoutError):
        return RedisFault("timeout", f"no TLS answer within {timeout:g} s")
    except ConnectionResetError:
        return RedisFault("tls_failed", "TLS handshake refused: the server reset the connection")
    except OSError as exc:
        cause = exc.strerror or str(exc)
        return RedisFault(classify_redis_error(cause) or "connection_failed", cause)
    return None


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


def parse_scan_resp(data: bytes) -> tuple | None:
    """Parse the RESP bytes of one SCAN reply into (next cursor, keys as bytes). Pure.

    None while `data` holds only part of the reply; RedisFault for an error reply; ValueError for
    anything else. Splitting on CRLF runs in C, so it comes first; the key lengths in the reply
    check it, and a reply whose keys hold a CRLF takes the exact, slower walk.
    """
    if data[:1] == b"-":
        if b"\r\n" not in data:
            return None
        cause = data[1:data.index(b"\r\n")].decode("utf-8", "replace")
        raise RedisFault(classify_redis_error(cause) or "command_failed", cause)
    parts = data.split(b"\r\n")
    if len(parts) < 5:
        return None
    if parts[0] != b"*2" or parts[3][:1] != b"*":
        raise ValueError(f"not a SCAN reply: {data[:40]!r}")
    end = 4 + 2 * int(parts[3][1:])
    if len(parts) < end + 1:
        return None
    keys = parts[5:end:2]
    try:
        lengths = list(map(int, b"".join(parts[4:end:2]).split(b"$")[1:]))
    except ValueError:
        lengths = None
    if len(parts) == end + 1 and not parts[-1] and lengths == list(map(len, keys)):
        return int(parts[2]), keys
    return _walk_scan_resp(data)


def _walk_scan_resp(data: bytes) -> tuple | None:
    """parse_scan_resp one element at a time, for keys that hold a CRLF. Pure."""
    pos = 0

    def line() -> bytes | None:
        nonlocal pos
        end = data.find(b"\r\n", pos)
        if end < 0:
            return None
        text, pos = data[pos:end], end + 2
        return text

    def bulk() -> bytes | None:
        nonlocal pos
        head = line()
        if head is None:
            return None
        if head[:1] != b"$":
            raise ValueError(f"not a bulk string: {head[:40]!r}")
        start, pos = pos, pos + int(head[1:]) + 2
        if pos > len(data):
            return None
        if data[pos - 2:pos] != b"\r\n":
            raise ValueError("a bulk string longer than its length")
        return data[start:pos - 2]

    if line() != b"*2":
        raise ValueError(f"not a SCAN reply: {data[:40]!r}")
    cursor = bulk()
    head = line()
    if cursor is None or head is None:
        return None
    keys = []
    for _ in range(int(head[1:])):
        key = bulk()
        if key is None:
            return None
        keys.append(key)
    if pos != len(data):
        raise ValueError("bytes after the SCAN reply")
    return int(cursor), keys


def read_scan_resp(recv) -> tuple:
    """Read one SCAN reply with recv (a socket's) and parse it with parse_scan_resp."""
    chunks = []
    while True:
        chunk = recv(1 << 16)
        if not chunk:
            raise RedisFault("connection_failed", "Connection closed by server")
        chunks.append(chunk)
        if chunk.endswith(b"\r\n"):
            reply = parse_scan_resp(b"".join(chunks))
            if reply is not None:
                return reply


def parse_scan_raw(reply: bytes, field: bytes) -> tuple:
    """Parse one SCAN reply as redis-cli prints it raw with `-d FIELD`: the cursor, FIELD, the
    keys joined by FIELD. Returns (cursor, keys as bytes, empty), `empty` when the page printed no
    key: raw output prints a page of the one key "" alike. Pure.

    RedisFault for an error reply (a reply without FIELD); ValueError for any other.
    """
    cursor, found, rest = reply.partition(field)
    if not found:
        cause = reply.decode("utf-8", "replace").strip() or "empty reply"
        raise RedisFault(classify_redis_error(cause) or "command_failed", cause)
    if not cursor.isdigit():
        raise ValueError(f"not a SCAN reply: {reply[:60]!r}")
    return int(cursor), rest.split(field) if rest else [], not rest


def redis_glob_regex(pattern: str) -> re.Pattern:
    """Compile a Redis glob (SCAN MATCH, KEYS) into the bytes regex that matches the same keys. Pure.

    Redis globs know *, ?, [abc], [^abc], [a-z] and \\ escapes, and match bytes: the pattern is
    taken as its UTF-8 bytes, so ? is one byte, as in Redis.
    """
    raw = pattern.encode("utf-8", "surrogateescape")
    out, i = [], 0
    while i < len(raw):
        char = raw[i:i + 1]
        if char == b"*":
            out.append(b".*")
        elif char == b"?":
            out.append(b".")
        elif char == b"\\" and i + 1 < len(raw):
            i += 1
            out.append(re.escape(raw[i:i + 1]))
        elif char == b"[":
            i, char_class = _glob_class(raw, i + 1)
            out.append(char_class)
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile(b"".join(out), re.DOTALL)


def _glob_class(pattern: bytes, i: int) -> tuple:
    """Read a [...] class starting after its "["; return the index of its "]" and the regex."""
    negate = pattern[i:i + 1] == b"^"
    if negate:
        i += 1
    items = []
    while i < len(pattern) and pattern[i:i + 1] != b"]":
        if pattern[i:i + 1] == b"\\" and i + 1 < len(pattern):
            i += 1
            items.append(re.escape(pattern[i:i + 1]))
        elif i + 2 < len(pattern) and pattern[i + 1:i + 2] == b"-" and pattern[i + 2:i + 3] != b"]":
            low, high = sorted((pattern[i:i + 1], pattern[i + 2:i + 3]))
            items.append(re.escape(low) + b"-" + re.escape(high))
            i += 2
        else:
            items.append(re.escape(pattern[i:i + 1]))
        i += 1
    if not items:
        return i, b"[\\s\\S]" if negate else b"[^\\s\\S]"
    return i, b"[" + (b"^" if negate else b"") + b"".join(items) + b"]"


@dataclass
class KeyScan:
    """Keys per pattern over one SCAN pass of a database, and how far the pass went.

    A key that SCAN returns twice (the table was resized during the pass) counts twice: telling
    would take a set of every key, memory that grows with the keyspace.
    """

    counts: dict
    keys_visited: int = 0
    complete: bool = False
    bound_hit: str | None = None
    fault: RedisFault | None = None
    elapsed_ms: float = 0.0


def glob_prefix(pattern: str) -> bytes | None:
    """The literal prefix of a glob that is a prefix and one final *, as "products:*"; else None. Pure."""
    raw = pattern.encode("utf-8", "surrogateescape")
    if raw.endswith(b"*") and not re.search(rb"[*?\[\\\n]", raw[:-1]):
        return raw[:-1]
    return None


def count_matches(keys: list, patterns: list) -> list:
    """How many of the keys (bytes) each pattern matches, as glob_matchers gives them. Pure.

    A prefix glob is counted in C, as occurrences of newline + prefix in the page's keys joined by
    newlines, when no key of the page holds a newline; any other glob, key by key with its regex.
    """
    blob = b"\n".join(keys)
    newline_free = len(keys) > 0 and blob.count(b"\n") == len(keys) - 1
    return [blob.count(b"\n" + prefix) + blob.startswith(prefix) if prefix is not None and newline_free
            else len(list(filter(fullmatch, keys)))
            for prefix, fullmatch in patterns]


def glob_matchers(patterns: list) -> list:
    """(literal prefix or None, regex fullmatch) of each glob, for count_matches. Pure."""
    return [(glob_prefix(pattern), redis_glob_regex(pattern).fullmatch) for pattern in patterns]


def count_keys(client, patterns: list, max_seconds: float, count: int) -> KeyScan:
    """One SCAN pass (never KEYS) over the database, each page matched against every pattern.

    Stops at the end of the keyspace (cursor 0), once max_seconds have passed (checked between
    pages; the counts are then lower bounds) or at a fault of the server (kept in `fault`, with
    the counts so far).
    """
    matchers = glob_matchers(patterns)
    totals = [0] * len(patterns)
    scan = KeyScan(counts={})
    started = time.monotonic()
    cursor = 0
    try:
        while True:
            cursor, keys = client.scan(cursor, count)
            scan.keys_visited += len(keys)
            totals = [total + found for total, found in zip(totals, count_matches(keys, matchers))]
            if cursor == 0:
                scan.complete = True
                break
            if time.monotonic() - started >= max_seconds:
                scan.bound_hit = "scan_max_seconds"
                break
    except RedisFault as fault:
        scan.fault = fault
    scan.elapsed_ms = (time.monotonic() - started) * 1000
    scan.counts = dict(zip(patterns, totals))
    return scan


def _db_keys(info: dict, db: int) -> int:
    """Keys in database db as INFO's keyspace section gives them; 0 when it lists none. Pure."""
    value = info.get(f"db{db}")
    return (_count(value.get("keys")) or 0) if isinstance(value, dict) else 0


def keyspace_changes(before: dict, after: dict) -> int | None:
    """Writes the server counted between two INFO replies (parse_info): changes since the last
    save, expired and evicted keys. None when a save reset the counter between them, or when
    either reply lacks a counter. Pure.
    """
    if any(before.get(name) != after.get(name) for name in ("rdb_last_save_time", "rdb_saves")):
        return None
    deltas = []
    for name in ("rdb_changes_since_last_save", "expired_keys", "evicted_keys"):
        first, last = _count(before.get(name)), _count(after.get(name))
        if first is None or last is None or last < first:
            return None
        deltas.append(last - first)
    return sum(deltas)


def key_scan_fact(scan: KeyScan, db: int, max_seconds: float, before: dict, after: dict) -> dict:
    """The key_scan result: the counts, how far the pass went, and whether they are exact. Pure.

    Exact means: the pass reached the end of the keyspace and the server counted no write from
    the INFO before the pass to the INFO after it. SCAN returns every key present for the whole
    pass at least once, and returns a key twice only when the table was resized, which only writes
    do; so with no write each key was counted exactly once.
    """
    changes = keyspace_changes(before, after) if after else None
    return {
        "db": db, "counts": scan.counts, "keys_visited": scan.keys_visited, "db_keys": _db_keys(before, db),
        "complete": scan.complete, "bound_hit": scan.bound_hit, "max_seconds": max_seconds,
        "error": None, "keyspace_changes": changes, "exact": scan.complete and changes == 0,
        "elapsed_ms": round(scan.elapsed_ms, 3),
    }


# Every key of the `redis` result, in the order RETURN documents them.
FACT_KEYS = (
    "reachable", "error_kind", "error", "client", "endpoint", "ping_ms", "version", "mode", "role",
    "uptime_s", "port", "connected_clients", "total_commands_processed",
    "used_memory_bytes", "used_memory_human", "used_memory_peak_bytes", "used_memory_peak_human",
    "maxmemory_bytes", "maxmemory_human", "maxmemory_policy", "keyspace", "total_keys", "total_expires",
    "keyspace_hits", "keyspace_misses", "hit_rate_pct", "evicted_keys", "expired_keys", "ops_per_sec",
    "rejected_connections", "key_scan",
)


SCAN_MAX_SECONDS = 30.0
SCAN_COUNT = 1000


def redis_facts_argument_spec() -> dict:
    """The options of the redis_facts module."""
    spec = redis_argument_spec()
    spec.update(
        key_patterns=dict(type="list", elements="str", default=[]),
        scan_max_seconds=dict(type="float", default=SCAN_MAX_SECONDS),
        scan_count=dict(type="int", default=SCAN_COUNT),
    )
    return spec


def unreachable(facts: dict, fault: RedisFault, action: str) -> dict:
    return dict(facts, error_kind=fault.kind, error=f"{action}: {fault.cause}")


def read_redis(client, params: dict, warn) -> dict:
    """PING, INFO, then the optional SCAN walk; a fault of the server ends in the result."""
    endpoint = redis_endpoint(params)
    facts = dict.fromkeys(FACT_KEYS)
    facts.update(reachable=False, client=client.name, endpoint=endpoint)
    fault = tls_handshake(params) if params["tls"] else None
    if fault:
        return unreachable(facts, fault, f"unable to connect to Redis at {endpoint} with TLS")
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
        scan = count_keys(client, params["key_patterns"], params["scan_max_seconds"], params["scan_count"])
        try:
            after = parse_info(client.info())
        except RedisFault:
            after = {}
        facts["key_scan"] = key_scan_fact(scan, params["db"], params["scan_max_seconds"], info, after)
        if scan.fault:
            error = f"unable to SCAN Redis at {endpoint}: {scan.fault.cause}"
            facts["key_scan"]["error"] = error
            warn(f"{error}; the key counts are those of the {scan.keys_visited:,} keys read before")
    return facts


def read_redis_facts(module) -> dict:
    """The redis_facts module's result: the figures of the server module.params names."""
    check_redis_params(module)
    for name in ("scan_max_seconds", "scan_count"):
        if module.params[name] <= 0:
            module.fail_json(msg=f"argument '{name}' must be greater than 0, got {module.params[name]:g}")

    client = redis_client(module)
    try:
        return read_redis(client, module.params, module.warn)
    finally:
        client.close()


def _human_count(value: int) -> str:
    """1000000 -> '1.0M', 12345 -> '12.3k', 950 -> '950': a size of keyspace in words. Pure."""
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def key_pattern_counts(key_scan: dict | None) -> dict | None:
    """The key patterns of a redis_facts key_scan as the report shows them, computed. Pure.

    Each pattern's count and share of the database's keys (INFO's, before the pass), and one
    `qualifier` that says why a count is not exact: a partial pass (the share of the keyspace it
    visited, and what stopped it) or a keyspace that changed during the pass. None without a scan.
    """
    if not key_scan:
        return None
    db_keys, visited = key_scan["db_keys"], key_scan["keys_visited"]
    scope = f"db{key_scan['db']}, {db_keys:,} keys"
    visited_pct = round(100.0 * visited / db_keys, 1) if db_keys else None
    of_keyspace = f"{visited_pct:.0f} % of the {_human_count(db_keys)} keys" if db_keys else f"{visited:,} keys"
    changes = key_scan["keyspace_changes"]
    if key_scan["error"]:
        qualifier = f"partial: {of_keyspace} visited before the pass stopped: {key_scan['error']}"
    elif not key_scan["complete"]:
        qualifier = f"partial: {of_keyspace} visited in the {key_scan['max_seconds']:g} s limit"
    elif changes is None:
        qualifier = ("not exact: the server's write counters could not be compared across the pass "
                     "(a save reset them, or INFO could not be read after it)")
    elif changes:
        qualifier = (f"not exact: the keyspace changed during the pass ({changes:,} writes); a key "
                     "written during it may be missed or counted twice")
    else:
        qualifier = None
    at_least = not key_scan["complete"]
    patterns = []
    for pattern, count in key_scan["counts"].items():
        share_pct = round(100.0 * count / db_keys, 1) if db_keys else None
        share = f"{share_pct:.1f} % of all keys" if share_pct is not None else "no key in the database"
        text = f"at least {count:,} (at least {share})" if at_least else f"{count:,} ({share})"
        patterns.append({"pattern": pattern, "count": count, "share_pct": share_pct, "at_least": at_least,
                         "text": f"{text}; {qualifier}" if qualifier else text})
    return {"db": key_scan["db"], "db_keys": db_keys, "keys_visited": visited, "visited_pct": visited_pct,
            "complete": key_scan["complete"], "exact": key_scan["exact"], "qualifier": qualifier,
            "scope": f"{scope}, SCAN for {_duration(key_scan['elapsed_ms'])}", "patterns": patterns}


def _duration(elapsed_ms: float) -> str:
    return f"{elapsed_ms / 1000:.1f} s" if elapsed_ms >= 1000 else f"{elapsed_ms:.1f} ms"
