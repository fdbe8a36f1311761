"""HTTP client code shared by the http_probe and http_load modules.

Both modules run on the target, where only the Python 3 standard library can be counted on, so
this file speaks HTTP/1.1 itself over ``socket`` and ``ssl``: it must see each phase of a request
(name resolution, TCP connect, TLS handshake, first byte, last byte) to time it, which
``http.client`` and ``urllib`` hide.

What is here:

- the options both modules share (``request_argument_spec``, ``connection_argument_spec``),
  the masking of credential-like headers and the message of an unexpected status;
- URL parsing and the ``resolve`` rules that send a URL's request to a chosen address and port
  while keeping its host name for SNI and the Host header (curl's ``--resolve`` and
  ``--connect-to``);
- an incremental HTTP/1.1 response parser (Content-Length, chunked, read-until-close);
- ``Connection``: one blocking connection that records each phase as it completes (the probe's);
- the peer certificate's facts, read by ``baseline_x509``;
- error classification into the kinds the reports count;
- percentiles (nearest-rank) and latency summaries.

All timing is monotonic (``time.perf_counter``), in milliseconds rounded to 3 decimals.
"""

from __future__ import annotations

import math
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible.module_utils.baseline_x509 import certificate_facts

# The kinds of failure both modules count; a failed request is a result, not a failed task.
ERROR_KINDS = ("dns", "refused", "timeout", "tls", "connection", "protocol", "http_status")

# Header names whose values may hold credentials: their values are masked in module output.
SECRET_HEADER_NAMES = frozenset(("authorization", "proxy-authorization", "cookie", "set-cookie"))
SECRET_HEADER_WORDS = ("token", "key", "secret", "password", "auth", "session")

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))

USER_AGENT = "deploy-baseline"
MAX_HEAD_BYTES = 65536
RECV_BYTES = 65536
_DIGITS = re.compile(r"[0-9]+")
_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]+")


def request_argument_spec() -> dict:
    """Options of one request: what to send and which statuses count as success."""
    return dict(
        url=dict(type="str", required=True),
        method=dict(type="str", default="GET", choices=list(METHODS)),
        status_code=dict(type="list", elements="int", default=[200]),
        headers=dict(type="dict", default={}, no_log=False),  # masked by name: see hide_secret_headers
        body=dict(type="str"),
    )


def connection_argument_spec() -> dict:
    """Options of every module that sends HTTP requests: how to reach and trust the server."""
    return dict(
        timeout_s=dict(type="float", default=10.0, aliases=["timeout"]),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        resolve=dict(type="list", elements="str", default=[]),
    )


def secret_header_values(headers: dict | None) -> list[str]:
    """Values of the headers that may hold credentials, to add to a module's no_log values."""
    secrets = []
    for name, value in (headers or {}).items():
        lowered = str(name).lower()
        secret = lowered in SECRET_HEADER_NAMES or any(word in lowered for word in SECRET_HEADER_WORDS)
        if secret and value not in (None, ""):
            secrets.append(str(value))
    return secrets


def hide_secret_headers(module, headers: dict | None) -> None:
    """Mask the values of credential-like headers in the module's output, as for a no_log option."""
    module.no_log_values.update(secret_header_values(headers))


def status_error_msg(method: str, url: str, status: int, reason: str, expected) -> str:
    """Why a response with an unexpected status failed: "GET URL answered 503 Busy, expected 200"."""
    answer = f"{status} {reason}".strip()
    return f"{method} {url} answered {answer}, expected {', '.join(str(code) for code in expected)}"


def ms(seconds: float) -> float:
    """Seconds to milliseconds, rounded to the microsecond."""
    return round(seconds * 1000.0, 3)


# ---------------------------------------------------------------------------------------------
# Errors


class HttpError(Exception):
    """A request failed; ``kind`` is one of ERROR_KINDS."""

    def __init__(self, kind: str, msg: str):
        super().__init__(msg)
        self.kind = kind
        self.msg = msg


class ProtocolError(Exception):
    """The peer's answer is not HTTP/1.x as this parser understands it."""


def classify_error(exc: BaseException) -> str:
    """The kind (one of ERROR_KINDS) of an exception raised while making a request.

    Order matters: ``ssl.SSLError`` and ``socket.gaierror`` are ``OSError`` subclasses, and the
    TLS layer reports a handshake timeout as a timeout, not as a TLS error.
    """
    if isinstance(exc, HttpError):
        return exc.kind
    if isinstance(exc, ProtocolError):
        return "protocol"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, UnicodeError):  # a host name that IDNA cannot encode never reaches DNS
        return "dns"
    if isinstance(exc, OSError):
        return "connection"
    return "protocol"


def describe_error(exc: BaseException) -> str:
    """A one-line cause: the library's words, without Python's class names."""
    if isinstance(exc, HttpError):
        return exc.msg
    if isinstance(exc, (TimeoutError, socket.timeout)):  # "_ssl.c:1114: The handshake ..." on 3.8
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        # "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:992)" -> "wrong version number"
        text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", re.sub(r"^\[[^\]]*\]\s*", "", text)) or str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, socket.gaierror) and exc.errno:
        return os.strerror(exc.errno)  # asyncio words its errors "Connect call failed (address)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return text or type(exc).__name__


def as_http_error(exc: BaseException, action: str) -> HttpError:
    """Wrap any request failure as an HttpError whose message names the action, then the cause."""
    if isinstance(exc, HttpError):
        return exc
    return HttpError(classify_error(exc), f"{action}: {describe_error(exc)}")


# ---------------------------------------------------------------------------------------------
# URLs and where to send them


@dataclass(frozen=True)
class Target:
    """Where a URL points: the names sent to the server and the path asked for."""

    scheme: str
    host: str  # without brackets, lower case
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


def parse_url(url: str) -> Target:
    """Split an http(s) URL; raise ValueError naming what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} in {url!r}: use http or https")
    if not parts.hostname:
        raise ValueError(f"no host name in URL {url!r}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"bad port in URL {url!r}: {exc}") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=parts.hostname.lower(), port=port, path=path)


@dataclass(frozen=True)
class Route:
    """The address and port a request is sent to, and how they were chosen."""

    address: str
    port: int
    resolved_by: str  # "resolve" (a rule) or "dns"


def _split_resolve_entry(entry: str) -> list[str]:
    """Split HOST:PORT:ADDRESS[:PORT] where ADDRESS may be a bracketed IPv6 address."""
    fields = []
    rest = entry.strip()
    while rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise ValueError(f"unclosed '[' in resolve entry {entry!r}")
            fields.append(rest[1:end])
            rest = rest[end + 1:]
            if rest.startswith(":"):
                rest = rest[1:]
                if not rest:
                    fields.append("")
        else:
            head, sep, rest = rest.partition(":")
            fields.append(head)
            if sep and not rest:
                fields.append("")
    return fields


def parse_resolve(entries: list[str] | None) -> dict[tuple[str, int], tuple[str, int]]:
    """Parse resolve rules into {(host, port): (address, port)}.

    ``HOST:PORT:ADDRESS`` sends requests for HOST:PORT to ADDRESS on the same port (curl
    ``--resolve``); ``HOST:PORT:ADDRESS:PORT2`` sends them to ADDRESS:PORT2 (curl
    ``--connect-to``). The URL's host name is still the one sent in SNI and the Host header.
    """
    rules: dict[tuple[str, int], tuple[str, int]] = {}
    for entry in entries or []:
        fields = _split_resolve_entry(entry)
        if len(fields) not in (3, 4) or not all(fields):
            raise ValueError(f"bad resolve entry {entry!r}: use HOST:PORT:ADDRESS or HOST:PORT:ADDRESS:PORT")
        host, port, address = fields[0].lower(), fields[1], fields[2]
        to_port = fields[3] if len(fields) == 4 else port
        try:
            port_number, to_port_number = int(port), int(to_port)
        except ValueError:
            raise ValueError(f"bad port in resolve entry {entry!r}") from None
        rules[(host, port_number)] = (address, to_port_number)
    return rules


def route_for(target: Target, rules: dict[tuple[str, int], tuple[str, int]]) -> Route:
    """Where to connect for a target: a resolve rule's address, else the URL's own host."""
    rule = rules.get((target.host, target.port))
    if rule:
        return Route(address=rule[0], port=rule[1], resolved_by="resolve")
    return Route(address=target.host, port=target.port, resolved_by="dns")


# ---------------------------------------------------------------------------------------------
# TLS


def tls_context(validate_certs: bool, ca_path: str | None = None) -> ssl.SSLContext:
    """A client context: verify against ca_path (only) or the system store, or verify nothing.

    ValueError names the CA file when it cannot be read.

    ALPN offers only http/1.1: the parser speaks HTTP/1.x, and nginx would otherwise pick h2
    for clients that offer it.
    """
    if validate_certs:
        try:
            context = ssl.create_default_context(cafile=ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"unable to load the CA file {ca_path}: {describe_error(exc)}") from None
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_context(params: dict, targets) -> ssl.SSLContext | None:
    """The TLS context of connection_argument_spec's options, or None when no target is https."""
    if not any(target.scheme == "https" for target in targets):
        return None
    return tls_context(params["validate_certs"], params.get("ca_path"))


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 messages


def build_request(method: str, target: Target, headers: dict | None = None, body: bytes | None = None) -> bytes:
    """The bytes of one HTTP/1.1 request that keeps its connection open.

    ValueError names a header that HTTP/1.1 cannot carry (its text is Latin-1), never its value.
    """
    lines = [f"{method} {target.path} HTTP/1.1"]
    given = {str(name).lower() for name in (headers or {})}
    if "host" not in given:
        lines.append(f"Host: {target.host_header}")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in given:
        lines.append("Accept: */*")
    for name, value in (headers or {}).items():
        try:
            f"{name}: {value}".encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"header {name!r} holds a character HTTP/1.1 cannot send (a header is Latin-1 text);"
                             " encode it, e.g. percent-encoded") from None
        lines.append(f"{name}: {value}")
    if body is not None and "content-length" not in given:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


@dataclass(frozen=True)
class Request:
    """One request ready to send: its target, where it goes and its bytes."""

    target: Target
    route: Route
    data: bytes
    head_request: bool  # a response to HEAD has no body, whatever its headers say


def prepare_request(options: dict, rules: dict[tuple[str, int], tuple[str, int]]) -> Request:
    """The request that options of request_argument_spec describe, routed by the resolve rules.

    ValueError names what is wrong with the URL.
    """
    target = parse_url(options["url"])
    body = options["body"].encode("utf-8") if options.get("body") is not None else None
    return Request(target=target, route=route_for(target, rules),
                   data=build_request(options["method"], target, options["headers"], body),
                   head_request=options["method"] == "HEAD")


class ResponseParser:
    """Incremental HTTP/1.x response parser: feed() bytes until it returns True.

    Bodies are counted, not kept, unless ``keep_body`` bytes of them are asked for. Handles
    Content-Length, chunked transfer coding (with trailers), bodies delimited by the connection's
    close, and responses without a body (HEAD, 1xx, 204, 304). Interim 1xx responses are skipped.
    """

    def __init__(self, head_request: bool = False, keep_body: int = 0):
        self.head_request = head_request
        self.keep_body = keep_body
        self.buffer = b""
        self.state = "head"
        self.status = 0
        self.reason = ""
        self.http_version = ""
        self.headers: dict[str, str] = {}
        self.body_bytes = 0
        self.body = bytearray()
        self._remaining = 0
        self.complete = False

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another request after this response."""
        connection = self.headers.get("connection", "").lower()
        if self.state == "close_delimited" or "close" in connection:
            return False
        return self.http_version != "1.0" or "keep-alive" in connection

    def _count(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        if len(self.body) < self.keep_body:
            self.body += chunk[:self.keep_body - len(self.body)]

    def _parse_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise ProtocolError(f"response head longer than {MAX_HEAD_BYTES} bytes")
            if self.buffer and not b"HTTP/".startswith(self.buffer[:5]):
                raise ProtocolError(f"not an HTTP response: {self.buffer[:40]!r}")
            return False
        head = self.buffer[:end].decode("latin-1")
        self.buffer = self.buffer[end + 4:]
        status_line, *header_lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"bad status line: {status_line[:80]!r}")
        self.http_version = version[5:]
        self.status = int(code)
        self.reason = reason
        headers = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError(f"bad header line: {line[:80]!r}")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers
        if 100 <= self.status < 200 and self.status != 101:
            self.headers = {}
            return True  # an interim response: parse the next head
        if self.head_request or self.status in (101, 204, 304) or 100 <= self.status < 200:
            self.state = "done"
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self.state = "chunk_size"
        elif "content-length" in headers:
            length = headers["content-length"]
            if not _DIGITS.fullmatch(length):  # int() would take "-5", " 5" and "5_0"
                raise ProtocolError(f"bad Content-Length: {length[:20]!r}")
            self._remaining = int(length)
            self.state = "length" if self._remaining else "done"
        else:
            self.state = "close_delimited"
        return True

    def feed(self, data: bytes) -> bool:
        """Add bytes from the connection; True once the response is complete."""
        self.buffer = self.buffer + data if self.buffer else data
        while True:
            state = self.state
            if state == "head":
                if not self._parse_head():
                    return False
            elif state == "length":
                chunk = self.buffer[:self._remaining]
                self.buffer = self.buffer[len(chunk):]
                self._remaining -= len(chunk)
                self._count(chunk)
                if self._remaining:
                    return False
                self.state = "done"
            elif state == "chunk_size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return False
                size_text = self.buffer[:end].split(b";")[0].strip()
                if not _HEX_DIGITS.fullmatch(size_text):  # int(..., 16) would take "-5" and "0x5"
                    raise ProtocolError(f"bad chunk size: {size_text[:20]!r}")
                self._remaining = int(size_text, 16)
                self.buffer = self.buffer[end + 2:]
                self.state = "chunk_data" if self._remaining else "trailers"
            elif state == "chunk_data":
                chunk = self.buffer[:self._remaining]
                self.buffer = self.buffer[len(chunk):]
                self._remaining -= len(chunk)
                self._count(chunk)
                if self._remaining:
                    return False
                self.state = "chunk_end"
            elif state == "chunk_end":
                if len(self.buffer) < 2:
                    return False
                if self.buffer[:2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
                self.buffer = self.buffer[2:]
                self.state = "chunk_size"
            elif state == "trailers":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return False
                self.buffer = self.buffer[end + 2:]
                if end == 0:
                    self.state = "done"
            elif state == "close_delimited":
                self._count(self.buffer)
                self.buffer = b""
                return False
            else:  # done
                self.complete = True
                return True

    def feed_eof(self) -> bool:
        """The peer closed the connection: True if that ends the response, else ProtocolError."""
        if self.state == "close_delimited":
            self.state = "done"
            self.complete = True
            return True
        if self.complete:
            return True
        if self.state == "head" and not self.buffer:
            raise ProtocolError("connection closed before any response")
        raise ProtocolError("connection closed in the middle of the response")


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(sorted_values, pct: float) -> float | None:
    """Nearest-rank percentile of values sorted ascending: the smallest value that pct % of the
    values are at or below (rank ceil(pct/100 * n)); None when there are no values.

    Nearest-rank always answers with an observed latency, never an interpolation between two,
    and p100 is the maximum.
    """
    n = len(sorted_values)
    if n == 0:
        return None
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {pct}")
    rank = max(1, math.ceil(pct / 100.0 * n))
    return sorted_values[rank - 1]


def latency_summary(seconds, percentiles=(50, 95, 99)) -> dict:
    """min / pNN / max / mean of latencies given in seconds, as *_ms keys (None when empty)."""
    ordered = sorted(seconds)
    summary = {"min_ms": ms(ordered[0]) if ordered else None}
    for pct in percentiles:
        value = percentile(ordered, pct)
        summary[f"p{pct}_ms"] = ms(value) if value is not None else None
    summary["max_ms"] = ms(ordered[-1]) if ordered else None
    summary["mean_ms"] = ms(math.fsum(ordered) / len(ordered)) if ordered else None
    return summary


# ---------------------------------------------------------------------------------------------
# One blocking connection, timed phase by phase


def _time_left(deadline: float, action: str) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise HttpError("timeout", f"{action}: timed out")
    return left


@dataclass
class Exchange:
    """One request and its response on an open connection; times in seconds."""

    status: int
    reason: str
    http_version: str
    headers: dict
    body_bytes: int
    body: bytes
    keep_alive: bool
    ttfb_s: float  # from the first byte of the request written to the first byte read
    total_s: float  # from the first byte of the request written to the last byte read


@dataclass
class TlsSession:
    """What the handshake established; ``certificate`` holds certificate_facts() or None."""

    version: str | None
    cipher: str | None
    alpn: str | None
    verified: bool
    certificate: dict | None


class Connection:
    """A blocking HTTP/1.1 connection to one route, timed with perf_counter.

    ``open()`` resolves, connects and does the TLS handshake, recording each phase in
    ``phases`` (seconds) as it completes, so a failure still shows how far it got. Each of
    ``open()`` and ``exchange()`` is bounded by ``timeout_s`` as a whole, not per system call.
    """

    def __init__(self, target: Target, route: Route, context: ssl.SSLContext | None, timeout_s: float):
        self.target = target
        self.route = route
        self.context = context
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.phases: dict[str, float] = {}
        self.peer: str | None = None
        self.tls: TlsSession | None = None

    @property
    def where(self) -> str:
        return f"{self.route.address}:{self.route.port}"

    def open(self) -> None:
        deadline = time.perf_counter() + self.timeout_s
        self.phases = {}
        started = time.perf_counter()
        try:
            addresses = socket.getaddrinfo(self.route.address, self.route.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise as_http_error(exc, f"unable to resolve {self.route.address}") from None
        resolved = time.perf_counter()
        self.phases["dns_s"] = resolved - started
        sock = self._connect(addresses, deadline)
        connected = time.perf_counter()
        self.phases["connect_s"] = connected - resolved
        if self.target.scheme == "https":
            sock = self._handshake(sock, deadline)
            self.phases["tls_s"] = time.perf_counter() - connected
            self.tls = TlsSession(  # read after the clock stopped: parsing the DER is not the handshake
                version=sock.version(),
                cipher=(sock.cipher() or (None,))[0],
                alpn=sock.selected_alpn_protocol(),
                verified=self.context.verify_mode == ssl.CERT_REQUIRED,
                certificate=read_certificate(sock),
            )
        self.sock = sock

    def _connect(self, addresses, deadline: float) -> socket.socket:
        failure: BaseException | None = None
        for family, kind, proto, _name, sockaddr in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_time_left(deadline, f"unable to connect to {self.where}"))
                sock.connect(sockaddr)
            except (OSError, HttpError) as exc:
                sock.close()
                failure = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.peer = sockaddr[0]
            return sock
        raise as_http_error(failure or OSError("no address"), f"unable to connect to {self.where}")

    def _handshake(self, sock: socket.socket, deadline: float) -> ssl.SSLSocket:
        action = f"TLS handshake with {self.target.host} at {self.where} failed"
        tls = self.context.wrap_socket(sock, server_hostname=self.target.host, do_handshake_on_connect=False)
        try:
            tls.settimeout(_time_left(deadline, action))
            tls.do_handshake()
        except (OSError, HttpError) as exc:
            tls.close()
            raise as_http_error(exc, action) from None
        return tls

    def exchange(self, request: bytes, head_request: bool = False, keep_body: int = 0) -> Exchange:
        """Send one request and read its whole response."""
        if self.sock is None:
            raise HttpError("connection", f"no open connection to {self.where}")
        action = f"unable to get a response from {self.where}"
        deadline = time.perf_counter() + self.timeout_s
        parser = ResponseParser(head_request=head_request, keep_body=keep_body)
        sock = self.sock
        started = time.perf_counter()
        first_byte = None
        try:
            sock.settimeout(_time_left(deadline, action))
            sock.sendall(request)
            while True:
                sock.settimeout(_time_left(deadline, action))
                data = sock.recv(RECV_BYTES)
                if first_byte is None:
                    first_byte = time.perf_counter()
                if not data:
                    parser.feed_eof()
                    self.close()
                    break
                if parser.feed(data):
                    break
        except (OSError, HttpError, ProtocolError) as exc:
            self.close()
            raise as_http_error(exc, action) from None
        finished = time.perf_counter()
        if not parser.keep_alive:
            self.close()
        return Exchange(
            status=parser.status, reason=parser.reason, http_version=parser.http_version,
            headers=parser.headers, body_bytes=parser.body_bytes, body=bytes(parser.body),
            keep_alive=parser.keep_alive, ttfb_s=first_byte - started, total_s=finished - started,
        )

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def read_certificate(tls: ssl.SSLSocket) -> dict | None:
    """certificate_facts() of the peer's certificate, or None if there is none or it is unreadable."""
    der = tls.getpeercert(binary_form=True)
    if not der:
        return None
    try:
        return certificate_facts(der)
    except (ValueError, IndexError):
        return None


def fetch_certificate(target: Target, route: Route, timeout_s: float) -> TlsSession | None:
    """Handshake once more without verification, to show a certificate that failed it."""
    connection = Connection(target, route, tls_context(validate_certs=False), timeout_s)
    try:
        connection.open()
    except HttpError:
        return None
    finally:
        connection.close()
    return connection.tls
