"""redis_facts over TLS: tls_handshake against a real TLS listener on the loopback, with a CA,
a server and a client certificate made by openssl for the test, one case per TLS fault.

The listener answers what Redis answers before AUTH ("-NOAUTH ..."), so the handshake and the
first read are real; what Redis does after them is the molecule scenario `datastore`'s.
"""

import re
import shutil
import socket
import ssl
import subprocess
import threading

import pytest
from ansible.module_utils.baseline_redis import read_redis, redis_facts_argument_spec, tls_handshake

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

SERVER_NAME = "redis.test"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem, and server and client certificates it signed; other-ca.pem signed none of them."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca}",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", cwd=d)
    for name, extension in (("server", f"subjectAltName=DNS:{SERVER_NAME}"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(extension + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)
    return d


class Listener:
    """Accepts connections on 127.0.0.1 in a thread; with TLS, answers one read as Redis does before AUTH."""

    def __init__(self, context):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.context = context
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                if self.context is None:
                    conn.recv(256)
                    conn.sendall(b"-ERR plain text\r\n")
                else:
                    with self.context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(256)
                        tls.sendall(b"-NOAUTH Authentication required.\r\n")
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.sock.close()


def server_context(pki, require_client_cert):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki / "ca.pem")
    return context


@pytest.fixture(scope="module")
def listeners(pki):
    running = {"tls": Listener(server_context(pki, False)), "mtls": Listener(server_context(pki, True)),
               "plain": Listener(None)}
    yield running
    for listener in running.values():
        listener.close()


def params(port, **overrides):
    values = {name: spec.get("default") for name, spec in redis_facts_argument_spec().items()}
    values.update(host="127.0.0.1", port=port, tls=True, timeout=3.0, **overrides)
    return values


def files(pki, *names):
    return {name: str(pki / f"{stem}") for name, stem in names}


CA = ("ca_cert", "ca.pem")
CLIENT = (("client_cert", "client.pem"), ("client_key", "client.key"))


@pytest.mark.parametrize(("listener", "options", "name", "kind", "cause"), [
    ("tls", [CA], SERVER_NAME, None, None),
    ("mtls", [CA, *CLIENT], SERVER_NAME, None, None),
    ("tls", [CA], "other.test", "certificate_invalid",
     "certificate verify failed: Hostname mismatch, certificate is not valid for 'other.test'."),
    ("tls", [CA], None, "certificate_invalid",
     "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'."),
    ("tls", [("ca_cert", "other-ca.pem")], SERVER_NAME, "certificate_invalid",
     "certificate verify failed: unable to get local issuer certificate"),
    # the alert, or the connection closed before it came: which one is a race of the listener's close
    ("mtls", [CA], SERVER_NAME, "tls_failed",
     re.compile("TLS handshake refused: (tlsv13 alert certificate required|the server (closed|reset) the connection)")),
    ("plain", [CA], SERVER_NAME, "tls_failed", "TLS handshake refused: wrong version number"),
    ("tls", [("ca_cert", "missing.pem")], SERVER_NAME, "tls_failed",
     "unable to load the TLS files (ca_cert {pki}/missing.pem): No such file or directory"),
])
def test_tls_handshake(pki, listeners, listener, options, name, kind, cause):
    given = params(listeners[listener].port, **files(pki, *options), tls_server_name=name)
    fault = tls_handshake(given)
    assert (fault.kind if fault else None) == kind
    if isinstance(cause, re.Pattern):
        assert cause.fullmatch(fault.cause)
    elif cause:
        assert fault.cause == cause.format(pki=pki)


def test_without_validation_any_certificate_passes(pki, listeners):
    assert tls_handshake(params(listeners["tls"].port, validate_certs=False)) is None


def test_a_tls_fault_ends_the_reading_as_a_result_before_the_client_connects(pki, listeners):
    class NoClient:
        name = "cli"

        def ping_ms(self):
            raise AssertionError("the client must not run after a TLS fault")

    port = listeners["tls"].port
    facts = read_redis(NoClient(), params(port, ca_cert=str(pki / "ca.pem")), warn=print)
    assert (facts["reachable"], facts["error_kind"]) == (False, "certificate_invalid")
    assert facts["error"] == (f"unable to connect to Redis at 127.0.0.1:{port} with TLS: certificate verify "
                              "failed: IP address mismatch, certificate is not valid for '127.0.0.1'.")
