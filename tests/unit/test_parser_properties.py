"""Property tests: the parsers of what targets print never crash, whatever they are fed.

Each parser reads text a target or a server produced: `systemctl show`, /proc files, Redis INFO
and SCAN replies, redis-cli's streams, psql's output and errors, `journalctl -o export`, an HTTP
response, a certificate. Fed arbitrary input, truncations of the real captures in
tests/fixtures/, and captures with fields replaced by arbitrary values, each returns a result or
raises the one error its docstring names (which its module turns into a message); any other
exception would reach the operator as a traceback.
"""

import io
import json
import re
import ssl
from pathlib import Path

import pytest
from ansible.module_utils.baseline_http import ProtocolError, ResponseParser
from ansible.module_utils.baseline_journal import ErrorTally, fingerprint, join_tracebacks, parse_export, summary
from ansible.module_utils.baseline_postgres import (
    FACT_KEYS,
    PsqlRun,
    classify_psql_fault,
    parse_json_documents,
    postgres_facts_from_run,
    psql_cause,
)
from ansible.module_utils.baseline_redis import (
    RedisFault,
    classify_redis_error,
    parse_info,
    parse_scan_raw,
    parse_scan_resp,
    redis_cli_fault,
    redis_facts_from_info,
    redis_glob_regex,
    redispy_cause,
)
from ansible.module_utils.baseline_systemd import (
    SHOW_PROPERTIES,
    Clocks,
    parse_cmdline,
    parse_counter,
    parse_proc_cgroup,
    parse_proc_stat,
    parse_proc_status,
    parse_show,
    unit_facts,
)
from ansible.module_utils.baseline_x509 import certificate_facts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLOCKS = Clocks(realtime_us=1_795_975_000_000_000, monotonic_us=952_000_000)
PATTERNS = [re.compile(text) for text in ("Traceback", "ERROR", "CRITICAL")]
# Deeper than Python's recursion limit: json's decoder gives up with RecursionError there.
DEEP_JSON = "[" * 100_000

settings.register_profile("parsers", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("parsers")


def fixture_text(path: str) -> str:
    with open(FIXTURES / path, encoding="utf-8", newline="") as text:
        return text.read()


def fixture_paths(folder: str, pattern: str) -> list[str]:
    return sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / folder).glob(pattern))


def truncations(paths: list[str]):
    """(fixture text, a cut position): every capture cut anywhere, as a read cut short gives it."""
    return st.sampled_from(paths).flatmap(
        lambda path: st.tuples(st.just(fixture_text(path)), st.integers(0, len(fixture_text(path)))))


# Text with the characters that matter to these parsers over-represented.
noisy_text = st.text(alphabet=st.one_of(
    st.sampled_from("=:,\n\r\t {}[]\"#()0123456789-.[not set]"), st.characters()), max_size=400)


# ---------------------------------------------------------------- systemctl show and /proc


SHOW_CAPTURES = fixture_paths("systemd", "show_*.txt")


def check_unit_facts(props: dict) -> None:
    facts = unit_facts(props, None, None, CLOCKS, 100)
    assert set(facts) >= {"exists", "active_state", "uptime_s", "memory_bytes", "restarts"}


@given(noisy_text)
@example("ActiveState=active\nActiveEnterTimestampMonotonic=18446744073709551614\n")
@example("MainPID=\u00b2\nNRestarts=\u0663\n")  # digits str.isdigit() accepts and int() refuses
def test_systemctl_show_of_any_text_gives_unit_facts(text):
    for props in parse_show(text):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in props.items())
        check_unit_facts(props)


@given(truncations(SHOW_CAPTURES))
def test_systemctl_show_cut_anywhere_gives_unit_facts(capture):
    text, cut = capture
    for props in parse_show(text[:cut]):
        check_unit_facts(props)


@given(st.dictionaries(st.sampled_from(SHOW_PROPERTIES), noisy_text))
def test_unit_facts_of_any_property_values(props):
    check_unit_facts(props)


@given(st.text(max_size=40))
@example("0\x1f")
def test_parse_counter_gives_a_count_or_none(value):
    counter = parse_counter(value)
    assert counter is None or (isinstance(counter, int) and counter >= 0)


PROC_FILES = fixture_paths("systemd", "proc_*/*/*")


@given(truncations([p for p in PROC_FILES if p.endswith("/stat")]) | st.tuples(noisy_text, st.just(400)))
def test_proc_stat_gives_figures_or_value_error(capture):
    text, cut = capture
    try:
        comm, ticks = parse_proc_stat(text[:cut])
    except ValueError:
        return
    assert isinstance(comm, str) and isinstance(ticks, int)


@given(truncations([p for p in PROC_FILES if p.endswith("/status")]) | st.tuples(noisy_text, st.just(400)))
def test_proc_status_gives_figures_or_value_error(capture):
    text, cut = capture
    try:
        status = parse_proc_status(text[:cut])
    except ValueError:
        return
    assert set(status) == {"rss_bytes", "threads"}


@given(noisy_text, st.binary(max_size=200))
def test_proc_cgroup_and_cmdline_of_anything(cgroup_text, cmdline_bytes):
    assert all(isinstance(path, str) for path in parse_proc_cgroup(cgroup_text))
    assert isinstance(parse_cmdline(cmdline_bytes), str)


# ---------------------------------------------------------------- journalctl -o export


JOURNAL_CAPTURES = fixture_paths("journal", "*.export")
# The values journalctl may put in a field, and some it never would.
journal_values = st.one_of(
    st.binary(max_size=40), noisy_text.map(lambda text: text.replace("\n", " ").encode("utf-8", "replace")),
    st.text(alphabet="0123456789\u00b2\u0663", min_size=1, max_size=25).map(str.encode),
)


def fixture_bytes(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def check_journal(data: bytes, max_groups: int = 2) -> None:
    """Parse, join tracebacks and tally as journal_errors does; ValueError is documented."""
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS, max_groups=max_groups, max_samples=1)
    try:
        for record in join_tracebacks(parse_export(io.BytesIO(data), chunk_bytes=7), tally.announces):
            assert isinstance(fingerprint(summary(record)), str)
            tally.add(record)
    except ValueError as exc:
        assert str(exc).startswith("entry ")
        return
    groups = tally.result_groups()
    assert len(groups) <= max_groups
    other = tally.result_other()
    assert sum(group["count"] for group in groups) + (other["count"] if other else 0) == tally.error_count


def export_field(name: str, value: bytes) -> bytes:
    """One field as journalctl -o export writes it: text as NAME=value, the rest with its length."""
    if b"\n" in value or not value.isascii():
        return name.encode() + b"\n" + len(value).to_bytes(8, "little") + value + b"\n"
    return name.encode() + b"=" + value + b"\n"


@given(st.binary(max_size=400) | noisy_text.map(lambda text: text.encode("utf-8", "surrogatepass")))
@example(b"__REALTIME_TIMESTAMP=99999999999999999999999\nMESSAGE=ERROR boom\n\n")
@example(b"__REALTIME_TIMESTAMP=1795975736774720\nPRIORITY=\xc2\xb2\nMESSAGE\n\xff\xff\xff\xff\xff\xff\xff\xff\n")
def test_journal_of_any_bytes(data):
    check_journal(data)


@given(st.sampled_from(JOURNAL_CAPTURES).flatmap(
    lambda path: st.tuples(st.just(fixture_bytes(path)), st.integers(0, len(fixture_bytes(path))))))
def test_journal_cut_anywhere(capture):
    data, cut = capture
    check_journal(data[:cut])


@given(st.sampled_from(JOURNAL_CAPTURES), st.data())
def test_journal_entries_with_any_field_values(path, data):
    entries = []
    for block in fixture_bytes(path).split(b"\n\n"):
        if not block or b"MESSAGE=" not in block:  # binary fields are left as they are
            continue
        fields = dict(line.split(b"=", 1) for line in block.split(b"\n"))
        for key in data.draw(st.sets(st.sampled_from(
                ["MESSAGE", "PRIORITY", "_PID", "SYSLOG_PID", "__REALTIME_TIMESTAMP"]), max_size=2)):
            fields[key.encode()] = data.draw(journal_values)
        entries.append(b"".join(export_field(name.decode(), value) for name, value in fields.items()) + b"\n")
    check_journal(b"".join(entries))


# ---------------------------------------------------------------- Redis INFO, SCAN, redis-cli


INFO_CAPTURES = fixture_paths("redis", "info_*.txt")
info_lines = st.lists(st.tuples(
    st.sampled_from(["db0", "db15", "keyspace_hits", "keyspace_misses", "redis_version", "used_memory",
                     "maxmemory", "tcp_port", "cmdstat_ping", "x"]),
    st.one_of(noisy_text, st.just("keys=abc,expires=1"), st.just("keys=1,expires=x,avg_ttl=-"),
              st.from_regex(r"-?\d{1,25}(\.\d{1,5})?", fullmatch=True))), max_size=20)


def check_info(text: str) -> None:
    facts = redis_facts_from_info(parse_info(text))
    assert isinstance(facts["total_keys"], int)
    assert facts["hit_rate_pct"] is None or isinstance(facts["hit_rate_pct"], float)


@given(noisy_text)
@example("db0:keys=abc,expires=1,avg_ttl=0\r\nkeyspace_hits:x\r\nkeyspace_misses:y\r\n")
def test_redis_info_of_any_text(text):
    check_info(text)


@given(truncations(INFO_CAPTURES))
def test_redis_info_cut_anywhere(capture):
    text, cut = capture
    check_info(text[:cut])


@given(info_lines)
def test_redis_info_with_any_field_values(lines):
    check_info("\r\n".join(f"{name}:{value}" for name, value in lines))


noisy_bytes = st.binary(max_size=300) | st.lists(st.sampled_from(
    [b"*2", b"*1", b"*0", b"$1", b"$3", b"$-1", b"0", b"17", b"abc", b"-ERR x", b'"0"', b'","', b"\\", b""]),
    max_size=12).map(b"\r\n".join)
keys = st.lists(st.binary(max_size=12) | st.sampled_from([b"\r\n", b"\n", b'"', b"\\", b"$3\r\nab", b""]), max_size=8)


def check_scan(parse, data):
    try:
        reply = parse(data)
    except (ValueError, RedisFault):
        return
    assert reply is None or (isinstance(reply[0], int) and all(isinstance(key, bytes) for key in reply[1]))


@given(noisy_bytes)
def test_redis_scan_replies_of_any_bytes(data):
    check_scan(parse_scan_resp, data)
    check_scan(lambda reply: parse_scan_raw(reply, b"<D>")[:2], data)


@given(st.sampled_from(fixture_paths("redis/scan", "*.bin") + fixture_paths("redis/scan", "raw_*.txt")),
       st.integers(0, 2000))
def test_redis_scan_replies_cut_anywhere(path, cut):
    data = (FIXTURES / path).read_bytes()[:cut]
    check_scan(parse_scan_resp, data)
    check_scan(lambda reply: parse_scan_raw(reply, b"<D>")[:2], data)


def resp_page(cursor: int, page: list) -> bytes:
    """A SCAN reply as a Redis server writes it."""
    return b"*2\r\n$%d\r\n%d\r\n*%d\r\n" % (len(b"%d" % cursor), cursor, len(page)) + b"".join(
        b"$%d\r\n%s\r\n" % (len(key), key) for key in page)


def raw_page(cursor: int, page: list, field: bytes) -> bytes:
    """A SCAN reply as redis-cli --raw -d FIELD prints it."""
    return field.join([b"%d" % cursor, *page]) if page else b"%d" % cursor + field


@given(st.integers(0, 2**64 - 1), keys)
def test_both_readers_read_any_keys_back(cursor, page):
    assert parse_scan_resp(resp_page(cursor, page)) == (cursor, page)
    field = b"\x1f" + b"0123456789abcdef" * 2
    # a page of the one key "" prints as an empty page: the session asks EXISTS "" at the end of the pass
    empty = page in ([], [b""])
    assert parse_scan_raw(raw_page(cursor, page, field), field) == (cursor, [] if empty else page, empty)


@given(st.integers(-1, 255), noisy_text, noisy_text, st.sampled_from(["connection_failed", "command_failed"]))
def test_redis_cli_streams_give_a_fault_or_none(rc, stdout, stderr, kind):
    fault = redis_cli_fault(rc, stdout, stderr, 5.0, kind)
    assert fault is None or (isinstance(fault, RedisFault) and fault.kind and isinstance(fault.cause, str))
    assert classify_redis_error(stderr) is None or isinstance(classify_redis_error(stderr), str)
    assert isinstance(redispy_cause(stderr), str)


@given(st.text(max_size=30))
def test_redis_glob_always_compiles(pattern):
    assert isinstance(redis_glob_regex(pattern), re.Pattern)


# ---------------------------------------------------------------- psql


PSQL_CAPTURES = fixture_paths("postgres", "*.json")
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=15)


def check_psql(rc: int, stdout: str, stderr: str) -> None:
    facts, warnings = postgres_facts_from_run(PsqlRun(rc, stdout, stderr), "tsh_erp", 10, 5)
    assert list(facts) == list(FACT_KEYS)
    assert isinstance(facts["reachable"], bool) and isinstance(warnings, list)
    if not facts["reachable"]:
        assert facts["error_kind"] and facts["error"].startswith("unable to ")


@given(st.sampled_from([0, 1, 2, 3, 124, 137]), noisy_text, noisy_text)
@example(0, DEEP_JSON, "")
@example(0, '{"server_version": "15.20"}', "")
@example(0, "[1, 2]", "")
def test_psql_of_any_output(rc, stdout, stderr):
    check_psql(rc, stdout, stderr)
    assert isinstance(psql_cause(stderr), str)
    kind, cause = classify_psql_fault(PsqlRun(rc, stdout, stderr), 10)
    assert kind and isinstance(cause, str)


@given(truncations(PSQL_CAPTURES), st.sampled_from(["stdout", "stderr"]))
def test_psql_output_cut_anywhere(capture, stream):
    text, cut = capture
    run = json.loads(text)
    run[stream] = run[stream][:cut * len(run[stream]) // max(len(text), 1)]
    check_psql(run["rc"], run["stdout"], run["stderr"])


@given(st.lists(json_values, max_size=3), st.sampled_from([0, 3]))
def test_psql_any_json_documents(documents, rc):
    check_psql(rc, "\n".join(json.dumps(d) for d in documents), "")


@given(noisy_text)
@example(DEEP_JSON)
def test_json_documents_or_value_error(text):
    try:
        documents = parse_json_documents(text)
    except ValueError:
        return
    assert isinstance(documents, list)


# ---------------------------------------------------------------- HTTP responses, certificates


RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n")


def check_response(chunks: list[bytes]) -> None:
    parser = ResponseParser(keep_body=16)
    try:
        for chunk in chunks:
            if parser.feed(chunk):
                return
        parser.feed_eof()
    except ProtocolError:
        return


@given(st.lists(st.binary(max_size=60), max_size=6))
def test_http_response_of_any_bytes(chunks):
    check_response(chunks)


@pytest.mark.parametrize("response", [
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc",
])
def test_http_response_with_a_negative_length_is_refused_at_once(response):
    # int() takes "-5": the parser would wait for the connection's end instead of saying why.
    with pytest.raises(ProtocolError, match=r"bad (Content-Length|chunk size)"):
        ResponseParser().feed(response)


@given(st.integers(0, len(RESPONSE)), st.integers(1, 7))
def test_http_response_cut_anywhere(cut, size):
    data = RESPONSE[:cut]
    check_response([data[i:i + size] for i in range(0, len(data), size)])


@pytest.fixture(scope="module")
def der(certificate):
    return ssl.PEM_cert_to_DER_cert(certificate[0].read_text())


@settings(max_examples=300)
@given(st.data())
def test_certificate_of_any_bytes(der, data):
    """read_certificate turns ValueError and IndexError into 'no certificate facts'."""
    cut = data.draw(st.integers(0, len(der)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(der) - 1), st.integers(0, 255)), max_size=3))
    mangled = bytearray(der[:cut] if data.draw(st.booleans()) else der)
    for position, value in flips:
        if position < len(mangled):
            mangled[position] = value
    try:
        facts = certificate_facts(bytes(mangled))
    except (ValueError, IndexError):
        return
    assert isinstance(facts["subject"], str)
