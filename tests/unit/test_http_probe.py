"""http_probe and the helpers it shares with http_load (module_utils/baseline_http.py).

main() runs against real servers on 127.0.0.1 (see local_http.py). No assertion is on how long
anything took: the machine is shared and noisy. They check shapes, orderings, counts and kinds.
"""

import datetime
import socket
import ssl
import subprocess

import http_probe
import module_runner
import pytest
from ansible.module_utils.baseline_http import (
    HttpError,
    ProtocolError,
    ResponseParser,
    Target,
    build_request,
    classify_error,
    latency_summary,
    parse_resolve,
    parse_url,
    percentile,
    secret_header_values,
)
from ansible.module_utils.baseline_x509 import certificate_facts, parse_certificate
from ansible.module_utils.basic import remove_values
from local_http import (
    CHUNKS,
    garbage_server,
    refused_port,
    silent_listener,
)
from module_runner import run_module

# ---------------------------------------------------------------------------------------------
# Servers


def probe(*endpoints, **options):
    args = {"endpoints": list(endpoints), "warm_samples": 5, "timeout_s": 5}
    args.update(options)
    outcome, result = run_module(http_probe.main, args)
    assert outcome == "exit", result
    assert result["changed"] is False
    return result["http_probe"]


def assert_latency_order(summary):
    keys = ["min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"]
    values = [summary[key] for key in keys]
    assert values == sorted(values)
    assert summary["min_ms"] <= summary["mean_ms"] <= summary["max_ms"]


def assert_cold_order(cold):
    phases = [cold["dns_ms"], cold["connect_ms"], cold["tls_ms"] or 0.0, cold["ttfb_ms"]]
    assert all(phase >= 0 for phase in phases)
    assert sum(phases) <= cold["total_ms"] + 0.003  # each is rounded to the microsecond


# ---------------------------------------------------------------------------------------------
# Percentiles


@pytest.mark.parametrize(("values", "pct", "expected"), [
    ([], 50, None),
    ([7.0], 0, 7.0),
    ([7.0], 50, 7.0),
    ([7.0], 100, 7.0),
    ([1, 2, 3, 4], 50, 2),
    ([1, 2, 3, 4], 75, 3),
    ([1, 2, 3, 4], 76, 4),
    ([1, 2, 3, 4], 0, 1),
    (list(range(1, 101)), 50, 50),
    (list(range(1, 101)), 95, 95),
    (list(range(1, 101)), 99, 99),
    (list(range(1, 101)), 99.5, 100),
    (list(range(1, 101)), 100, 100),
    (list(range(1, 21)), 95, 19),
    (list(range(1, 21)), 99, 20),
])
def test_percentile_is_nearest_rank(values, pct, expected):
    assert percentile(values, pct) == expected


@pytest.mark.parametrize("pct", [-1, 100.1])
def test_percentile_rejects_out_of_range(pct):
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1, 2], pct)


def test_latency_summary_converts_seconds_to_rounded_milliseconds():
    summary = latency_summary([0.003, 0.001, 0.0020004, 0.004], (50, 90))
    assert summary == {"min_ms": 1.0, "p50_ms": 2.0, "p90_ms": 4.0, "max_ms": 4.0, "mean_ms": 2.5}


def test_latency_summary_of_nothing_is_all_none():
    assert latency_summary([]) == {
        "min_ms": None, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}


# ---------------------------------------------------------------------------------------------
# Response parsing


def feed_bytewise(parser, data):
    done = False
    for i in range(len(data)):
        done = parser.feed(data[i:i + 1])
        if done:
            return i + 1
    return done


def test_parser_content_length_fed_byte_by_byte():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello"
    parser = ResponseParser(keep_body=100)
    assert feed_bytewise(parser, raw) == len(raw)
    assert (parser.status, parser.reason, parser.http_version) == (200, "OK", "1.1")
    assert parser.headers["x-a"] == "1, 2"
    assert (parser.body_bytes, bytes(parser.body), parser.keep_alive) == (5, b"hello", True)


def test_parser_chunked_with_extensions_and_trailers():
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3;name=x\r\nhel\r\n8\r\nlo world\r\n0\r\nX-Checksum: abc\r\n\r\n")
    parser = ResponseParser(keep_body=4)
    assert parser.feed(raw) is True
    assert parser.body_bytes == 11
    assert bytes(parser.body) == b"hell"
    assert parser.keep_alive is True


def test_parser_chunked_split_everywhere():
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n"
    parser = ResponseParser()
    assert feed_bytewise(parser, raw) == len(raw)
    assert parser.body_bytes == 11


def test_parser_body_delimited_by_close():
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\npart one ") is False
    assert parser.feed(b"part two") is False
    assert parser.feed_eof() is True
    assert parser.body_bytes == 17
    assert parser.keep_alive is False


@pytest.mark.parametrize(("raw", "head_request"), [
    (b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", False),
    (b"HTTP/1.1 304 Not Modified\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
])
def test_parser_responses_without_body(raw, head_request):
    parser = ResponseParser(head_request=head_request)
    assert parser.feed(raw) is True
    assert parser.body_bytes == 0


def test_parser_skips_interim_responses():
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok") is True
    assert parser.status == 201
    assert parser.body_bytes == 2


@pytest.mark.parametrize(("raw", "keep_alive"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True),
])
def test_parser_keep_alive(raw, keep_alive):
    parser = ResponseParser()
    parser.feed(raw)
    assert parser.keep_alive is keep_alive


@pytest.mark.parametrize(("raw", "message"), [
    (b"-ERR unknown command 'GET'\r\n", "not an HTTP response"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "bad status line"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n", "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxYZ", "chunk not followed by CRLF"),
])
def test_parser_rejects_what_is_not_http(raw, message):
    with pytest.raises(ProtocolError, match=message):
        ResponseParser().feed(raw)


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "connection closed before any response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "in the middle of the response"),
    (b"HTTP/1.1 200 OK\r\n", "in the middle of the response"),
])
def test_parser_eof_too_early(raw, message):
    parser = ResponseParser()
    parser.feed(raw)
    with pytest.raises(ProtocolError, match=message):
        parser.feed_eof()


def test_parser_rejects_endless_head():
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError, match="longer than"):
        parser.feed(b"X-Pad: " + b"a" * 70000)


# ---------------------------------------------------------------------------------------------
# URLs, resolve rules, requests


@pytest.mark.parametrize(("url", "expected", "host_header"), [
    ("https://erp.demo.test/health", Target("https", "erp.demo.test", 443, "/health"), "erp.demo.test"),
    ("http://ERP.demo.test:8080", Target("http", "erp.demo.test", 8080, "/"), "erp.demo.test:8080"),
    ("http://127.0.0.1:8002/api/products?limit=5&offset=10",
     Target("http", "127.0.0.1", 8002, "/api/products?limit=5&offset=10"), "127.0.0.1:8002"),
    ("https://[::1]:8443/x", Target("https", "::1", 8443, "/x"), "[::1]:8443"),
    ("http://[::1]/", Target("http", "::1", 80, "/"), "[::1]"),
])
def test_parse_url(url, expected, host_header):
    target = parse_url(url)
    assert target == expected
    assert target.host_header == host_header


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://host/file", "unsupported URL scheme 'ftp'"),
    ("erp.demo.test/health", "unsupported URL scheme ''"),
    ("http:///path", "no host name"),
    ("http://host:99999/", "bad port"),
])
def test_parse_url_errors(url, message):
    with pytest.raises(ValueError, match=message):
        parse_url(url)


def test_parse_resolve_forms():
    rules = parse_resolve([
        "erp.demo.test:443:127.0.0.1",
        "ERP.demo.test:80:127.0.0.1:8001",
        "v6.test:443:[::1]",
        "v6.test:80:[::1]:8080",
    ])
    assert rules == {
        ("erp.demo.test", 443): ("127.0.0.1", 443),
        ("erp.demo.test", 80): ("127.0.0.1", 8001),
        ("v6.test", 443): ("::1", 443),
        ("v6.test", 80): ("::1", 8080),
    }


@pytest.mark.parametrize(("entry", "message"), [
    ("erp.demo.test:443", "bad resolve entry"),
    ("erp.demo.test:443:", "bad resolve entry"),
    ("erp.demo.test:https:127.0.0.1", "bad port in resolve entry"),
    ("erp.demo.test:443:[::1", "unclosed"),
    ("a:1:b:2:c", "bad resolve entry"),
])
def test_parse_resolve_errors(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_resolve([entry])


def test_build_request_adds_host_and_length_and_keeps_given_headers():
    target = parse_url("http://erp.demo.test:8080/api?q=1")
    raw = build_request("POST", target, {"User-Agent": "mine", "X-Id": "7"}, b'{"a": 1}')
    head, body = raw.split(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api?q=1 HTTP/1.1"
    assert "Host: erp.demo.test:8080" in lines
    assert "User-Agent: mine" in lines and "User-Agent: deploy-baseline" not in lines
    assert "Content-Length: 8" in lines and "X-Id: 7" in lines
    assert body == b'{"a": 1}'


def test_secret_header_values():
    headers = {"Authorization": "Bearer abc", "X-Api-Key": "k1", "Cookie": "s=1", "Accept": "text/html",
               "X-Session-Id": "", "X-Auth-Token": "t2"}
    assert sorted(secret_header_values(headers)) == ["Bearer abc", "k1", "s=1", "t2"]


# ---------------------------------------------------------------------------------------------
# Error classification (real exceptions, made locally)


def real_gaierror():
    try:
        socket.getaddrinfo("not-a-number", 80, flags=socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        return exc
    raise AssertionError("AI_NUMERICHOST accepted a name")


def real_refusal():
    with socket.socket() as sock:
        try:
            sock.connect(("127.0.0.1", refused_port()))
        except ConnectionRefusedError as exc:
            return exc
    raise AssertionError("the refused port accepted a connection")


@pytest.mark.parametrize(("make", "kind"), [
    (real_gaierror, "dns"),
    (real_refusal, "refused"),
    (lambda: TimeoutError("timed out"), "timeout"),
    (lambda: ssl.SSLCertVerificationError(1, "certificate verify failed"), "tls"),
    (lambda: ssl.SSLError(1, "wrong version number"), "tls"),
    (lambda: ConnectionResetError(104, "Connection reset by peer"), "connection"),
    (lambda: BrokenPipeError(32, "Broken pipe"), "connection"),
    (lambda: ProtocolError("bad status line"), "protocol"),
    (lambda: HttpError("http_status", "answered 500"), "http_status"),
    (lambda: UnicodeError("label too long"), "dns"),
])
def test_classify_error(make, kind):
    assert classify_error(make()) == kind


# ---------------------------------------------------------------------------------------------
# Certificates


def test_parse_certificate_matches_openssl(certificate):
    cert_path, _key = certificate
    der = ssl.PEM_cert_to_DER_cert(cert_path.read_text())
    parsed = parse_certificate(der)
    assert parsed["subject"] == "O=Probe Tests, CN=probe.test"
    assert parsed["issuer"] == parsed["subject"]
    assert parsed["subject_alt_names"] == ["DNS:probe.test", "IP:127.0.0.1"]
    end = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(cert_path)],
                         check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    expected = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.UTC)
    assert parsed["not_after"] == expected


def test_parse_certificate_agrees_with_the_ssl_module(certificate):
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        pytest.skip("this Python has no ssl._ssl._test_decode_cert to compare with")
    cert_path, _key = certificate
    reference = decode(str(cert_path))
    parsed = parse_certificate(ssl.PEM_cert_to_DER_cert(cert_path.read_text()))
    subject = ", ".join(f"{name}={value}" for rdn in reference["subject"] for name, value in rdn)
    assert parsed["subject"] == subject.replace("organizationName", "O").replace("commonName", "CN")
    assert parsed["not_after"] == datetime.datetime.fromtimestamp(
        ssl.cert_time_to_seconds(reference["notAfter"]), datetime.UTC)


def test_certificate_facts_days_left(certificate):
    der = ssl.PEM_cert_to_DER_cert(certificate[0].read_text())
    not_after = parse_certificate(der)["not_after"]
    facts = certificate_facts(der, now=not_after - datetime.timedelta(days=10, hours=1))
    assert facts["days_left"] == 10
    assert facts["not_after"] == not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert certificate_facts(der, now=not_after + datetime.timedelta(hours=1))["days_left"] == -1


# ---------------------------------------------------------------------------------------------
# main() against real servers


def test_probe_plain_http(http_server):
    url = f"http://127.0.0.1:{http_server.port}/ok"
    [result] = probe({"name": "ok", "url": url})
    assert result["ok"] is True and result["error"] is None
    assert (result["status"], result["status_ok"], result["http_version"], result["bytes"]) == (200, True, "1.1", 5)
    assert (result["address"], result["port"], result["resolved_by"]) == ("127.0.0.1", http_server.port, "dns")
    assert result["tls"] is None and result["cold"]["tls_ms"] is None
    assert_cold_order(result["cold"])
    warm = result["warm"]
    assert (warm["samples"], warm["connections"], warm["unexpected_status"], warm["error"]) == (5, 1, 0, None)
    assert_latency_order(warm)
    assert "body" not in result


def test_probe_chunked_body_and_return_body(http_server):
    [result] = probe({"url": f"http://127.0.0.1:{http_server.port}/chunked", "return_body": True})
    assert result["name"] == "/chunked"
    assert result["bytes"] == sum(len(chunk) for chunk in CHUNKS)
    assert result["body"] == "hello world"
    assert result["warm"]["connections"] == 1


def test_probe_server_closing_each_connection(http_server):
    [result] = probe({"url": f"http://127.0.0.1:{http_server.port}/close"}, warm_samples=3)
    assert result["ok"] is True and result["bytes"] == 3
    assert result["warm"]["samples"] == 3
    assert result["warm"]["connections"] == 3


def test_probe_unexpected_status_is_a_result(http_server):
    url = f"http://127.0.0.1:{http_server.port}/status/500"
    [result] = probe({"name": "broken", "url": url}, warm_samples=4)
    assert result["ok"] is False and result["status"] == 500 and result["status_ok"] is False
    assert result["error"] == {"kind": "http_status",
                               "msg": f"GET {url} answered 500 Internal Server Error, expected 200"}
    assert result["warm"]["samples"] == 4 and result["warm"]["unexpected_status"] == 4


def test_probe_accepts_listed_statuses(http_server):
    [result] = probe({"url": f"http://127.0.0.1:{http_server.port}/status/503", "status_code": [200, 503]})
    assert result["ok"] is True and result["status"] == 503


def test_probe_head_and_post(http_server):
    head, post = probe(
        {"name": "head", "url": f"http://127.0.0.1:{http_server.port}/ok", "method": "HEAD"},
        {"name": "post", "url": f"http://127.0.0.1:{http_server.port}/echo", "method": "POST",
         "body": '{"q": 1}', "headers": {"Content-Type": "application/json"}, "return_body": True},
        warm_samples=2)
    assert head["ok"] is True and head["bytes"] == 0 and head["warm"]["connections"] == 1
    assert post["ok"] is True
    assert '"method": "POST"' in post["body"] and '"body": "{\\"q\\": 1}"' in post["body"]


def test_probe_refused():
    port = refused_port()
    [result] = probe({"name": "refused", "url": f"http://127.0.0.1:{port}/"})
    assert result["ok"] is False and result["status"] is None
    assert result["error"] == {"kind": "refused", "msg": f"unable to connect to 127.0.0.1:{port}: Connection refused"}
    assert result["cold"]["dns_ms"] is not None
    assert result["cold"]["connect_ms"] is None and result["cold"]["total_ms"] is None
    assert result["warm"]["samples"] == 0


def test_probe_timeout_waiting_for_the_response():
    with silent_listener() as port:
        [result] = probe({"url": f"http://127.0.0.1:{port}/"}, timeout_s=0.3)
    assert result["error"] == {"kind": "timeout", "msg": f"unable to get a response from 127.0.0.1:{port}: timed out"}
    assert result["cold"]["connect_ms"] is not None and result["cold"]["ttfb_ms"] is None


def test_probe_timeout_in_the_tls_handshake():
    with silent_listener() as port:
        [result] = probe({"url": f"https://127.0.0.1:{port}/"}, timeout_s=0.3, validate_certs=False)
    assert result["error"] == {"kind": "timeout",
                               "msg": f"TLS handshake with 127.0.0.1 at 127.0.0.1:{port} failed: timed out"}
    assert result["cold"]["connect_ms"] is not None and result["cold"]["tls_ms"] is None


def test_probe_protocol_error():
    with garbage_server() as port:
        [result] = probe({"url": f"http://127.0.0.1:{port}/"})
    assert result["error"]["kind"] == "protocol"
    assert "not an HTTP response" in result["error"]["msg"]


def test_probe_dns_failure(invalid_names_fail):
    [result] = probe({"url": "https://no-such-host.invalid/health"})
    assert result["error"] == {"kind": "dns",
                               "msg": "unable to resolve no-such-host.invalid: Name or service not known"}
    assert result["cold"]["dns_ms"] is None and result["address"] == "no-such-host.invalid"


def test_probe_tls_verified_with_ca_file(tls_server, certificate):
    url = f"https://probe.test:{tls_server.port}/ok"
    [result] = probe({"url": url}, resolve=[f"probe.test:{tls_server.port}:127.0.0.1"],
                     ca_path=str(certificate[0]))
    assert result["ok"] is True and result["resolved_by"] == "resolve" and result["address"] == "127.0.0.1"
    tls = result["tls"]
    assert tls["verified"] is True
    assert tls["subject"] == "O=Probe Tests, CN=probe.test" and tls["issuer"] == tls["subject"]
    assert tls["subject_alt_names"] == ["DNS:probe.test", "IP:127.0.0.1"]
    assert tls["version"] in ("TLSv1.2", "TLSv1.3") and tls["cipher"] and tls["alpn"] is None
    assert 28 <= tls["days_left"] <= 30
    assert tls["not_before"] < tls["not_after"]
    assert result["cold"]["tls_ms"] is not None
    assert_cold_order(result["cold"])
    assert "probe.test" in tls_server.sni_names


def test_probe_self_signed_with_checking_on(tls_server):
    [result] = probe({"url": f"https://probe.test:{tls_server.port}/ok"},
                     resolve=[f"probe.test:{tls_server.port}:127.0.0.1"])
    assert result["ok"] is False
    assert result["error"]["kind"] == "tls"
    assert "certificate verify failed: self-signed certificate" in result["error"]["msg"]
    # The certificate that failed is still shown, read by a second, unverified handshake.
    assert result["tls"]["verified"] is False and result["tls"]["subject"] == "O=Probe Tests, CN=probe.test"


def test_probe_tls_unverified(tls_server):
    [result] = probe({"url": f"https://127.0.0.1:{tls_server.port}/chunked"}, validate_certs=False)
    assert result["ok"] is True and result["bytes"] == 11
    assert result["tls"]["verified"] is False and result["tls"]["days_left"] >= 28
    assert result["warm"]["connections"] == 1


def test_probe_wrong_host_name_is_a_tls_error(tls_server, certificate):
    [result] = probe({"url": f"https://other.test:{tls_server.port}/ok"},
                     resolve=[f"other.test:{tls_server.port}:127.0.0.1"], ca_path=str(certificate[0]))
    assert result["error"]["kind"] == "tls"
    assert "Hostname mismatch" in result["error"]["msg"]


def test_probe_resolve_to_another_port_keeps_the_host_name(http_server):
    [result] = probe({"url": "http://erp.demo.test/echo", "return_body": True},
                     resolve=[f"erp.demo.test:80:127.0.0.1:{http_server.port}"], warm_samples=1)
    assert (result["address"], result["port"], result["resolved_by"]) == ("127.0.0.1", http_server.port, "resolve")
    assert '"host": "erp.demo.test"' in result["body"]


def test_probe_check_mode_sends_only_safe_methods(http_server):
    get, post = probe({"name": "get", "url": f"http://127.0.0.1:{http_server.port}/ok"},
                      {"name": "post", "url": f"http://127.0.0.1:{http_server.port}/echo", "method": "POST"},
                      _ansible_check_mode=True)
    assert get["ok"] is True and get["skipped"] is False
    assert post["skipped"] is True and post["status"] is None and post["cold"]["total_ms"] is None


def test_probe_masks_credential_headers(http_server, monkeypatch):
    seen = {}
    real_exit = module_runner._exit

    def exit_keeping_no_log_values(self, **kwargs):
        seen["no_log_values"] = set(self.no_log_values)
        real_exit(self, **kwargs)

    monkeypatch.setattr(module_runner, "_exit", exit_keeping_no_log_values)
    args = {"endpoints": [{"url": f"http://127.0.0.1:{http_server.port}/echo", "return_body": True,
                           "headers": {"Authorization": "Bearer s3cr3t-value", "Accept": "text/plain"}}]}
    outcome, result = run_module(http_probe.main, args)
    assert outcome == "exit"
    assert "Bearer s3cr3t-value" in seen["no_log_values"]
    assert "text/plain" not in seen["no_log_values"]
    # What Ansible prints: the echoed body held the token, and the mask removes it.
    assert "s3cr3t" not in str(remove_values(result, seen["no_log_values"]))


@pytest.mark.parametrize(("args", "message"), [
    ({"endpoints": [{"url": "ftp://x/"}]},
     "unable to probe: unsupported URL scheme 'ftp' in 'ftp://x/': use http or https"),
    ({"endpoints": [{"url": "http://x/"}], "resolve": ["x:80"]},
     "unable to probe: bad resolve entry 'x:80': use HOST:PORT:ADDRESS or HOST:PORT:ADDRESS:PORT"),
    ({"endpoints": [{"url": "http://x/a"}, {"url": "http://y/a"}]},
     "unable to probe: endpoint names must be unique, repeated: /a"),
    ({"endpoints": [{"url": "https://x/"}], "ca_path": "/nonexistent/ca.pem"},
     "unable to probe: unable to load the CA file /nonexistent/ca.pem: No such file or directory"),
    ({"endpoints": [{"url": "http://x/", "headers": {"X-Price": "5 €"}}]},
     "unable to probe: header 'X-Price' holds a character HTTP/1.1 cannot send (a header is Latin-1 text);"
     " encode it, e.g. percent-encoded"),
    ({"endpoints": [{"url": "http://x/"}], "warm_samples": -1}, "warm_samples must be 0 or more, not -1"),
    ({"endpoints": [{"url": "http://x/"}], "timeout_s": 0}, "timeout_s must be more than 0, not 0.0"),
    ({"endpoints": [{"url": "http://x/", "method": "FETCH"}]},
     "value of method must be one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got: FETCH found in endpoints"),
])
def test_probe_rejects_bad_options(args, message):
    outcome, result = run_module(http_probe.main, args)
    assert outcome == "fail"
    assert result["msg"] == message


def test_probe_rejects_a_ca_file_that_holds_no_certificate(tmp_path):
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    outcome, result = run_module(http_probe.main, {"endpoints": [{"url": "https://x/"}], "ca_path": str(not_pem)})
    assert outcome == "fail"
    assert result["msg"].startswith(f"unable to probe: unable to load the CA file {not_pem}: ")
    assert "_ssl.c" not in result["msg"] and "[" not in result["msg"]


def test_probe_tls_to_a_plain_http_server_is_a_tls_error(http_server):
    [result] = probe({"url": f"https://127.0.0.1:{http_server.port}/ok"}, validate_certs=False)
    assert result["error"]["kind"] == "tls"
    assert result["tls"] is None and result["cold"]["tls_ms"] is None


def test_argument_spec_is_exposed():
    spec = http_probe.get_argument_spec()
    assert spec["endpoints"]["options"]["url"]["required"] is True
    assert spec["timeout_s"]["aliases"] == ["timeout"]
    assert spec["resolve"]["elements"] == "str"
