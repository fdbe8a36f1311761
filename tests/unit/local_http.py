"""Real servers on 127.0.0.1 for the HTTP module tests: plain, TLS, silent, refusing and garbled.

Nothing here is mocked: the modules under test open real sockets to these servers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNKS = (b"hel", b"lo ", b"world")
CERT_NAME = "probe.test"


class Handler(BaseHTTPRequestHandler):
    """Routes: /ok, /chunked, /close, /status/NNN, /echo (method, Host, headers and body as JSON)."""

    protocol_version = "HTTP/1.1"
    timeout = 5
    disable_nagle_algorithm = True  # else headers and body, written apart, wait for a delayed ACK

    def log_message(self, format, *args):  # keep pytest's output clean
        pass

    def _reply(self, status: int, body: bytes, headers: dict | None = None, head: bool = False) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Length": str(len(body))}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head: bool = False) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/ok":
            self._reply(200, b"hello", head=head)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not head:
                for chunk in CHUNKS:
                    self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif self.path == "/close":
            self.close_connection = True
            self._reply(200, b"bye", headers={"Connection": "close"}, head=head)
        elif self.path.startswith("/status/"):
            status = int(self.path.rsplit("/", 1)[1])
            self._reply(status, f"status {status}".encode(), head=head)
        elif self.path == "/echo":
            echo = {"method": self.command, "host": self.headers.get("Host"),
                    "headers": dict(self.headers.items()), "body": body.decode()}
            self._reply(200, json.dumps(echo).encode(), head=head)
        else:
            self._reply(404, b"not found", head=head)

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_HEAD(self):
        self._route(head=True)


class LocalServer(ThreadingHTTPServer):
    """An HTTP/1.1 server on a free loopback port; with a context, TLS done in each handler thread."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None = None):
        self.context = context
        self.sni_names: list[str | None] = []
        self.connections = 0  # accepted so far (a probe's cold request opens one, its warm ones reuse it)
        self._counting = threading.Lock()
        if context is not None:
            context.sni_callback = lambda _sock, name, _ctx: self.sni_names.append(name)
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def finish_request(self, request, client_address):
        with self._counting:
            self.connections += 1
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.RequestHandlerClass(request, client_address, self)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def generate_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for probe.test (and 127.0.0.1), made by openssl."""
    cert, key = directory / "probe.test.pem", directory / "probe.test.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "30", "-subj", f"/O=Probe Tests/CN={CERT_NAME}",
         "-addext", f"subjectAltName=DNS:{CERT_NAME},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def silent_listener():
    """A port that completes TCP connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@contextlib.contextmanager
def garbage_server(answer: bytes = b"-ERR unknown command\r\n"):
    """A port that answers every connection with bytes that are not HTTP, then closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve():
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(4096)
                    conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()
