"""journal_errors' streaming reading: the export parser, joins and tallies across chunks, bounds,
the time limit, on real `journalctl -o export` captures (tests/fixtures/journal/*.export)."""

import io
import re
import sys
from unittest import mock

import pytest
from ansible.module_utils import baseline_journal
from ansible.module_utils.baseline_journal import (
    CutShort,
    ErrorTally,
    JournalEntry,
    Scan,
    covered_pct,
    join_tracebacks,
    parse_export,
    read_unit,
    scan_journal,
)
from fake_target import fixture_bytes

PATTERNS = [re.compile(text) for text in ("Traceback", "ERROR", "CRITICAL")]
NEVER = float("inf")


def export(name):
    return fixture_bytes(f"journal/{name}.export")


def entries(name, chunk_bytes=1 << 16):
    return list(parse_export(io.BytesIO(export(name)), chunk_bytes=chunk_bytes))


def tally_of(data, chunk_bytes=1 << 16, **bounds):
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS, **bounds)
    for record in join_tracebacks(parse_export(io.BytesIO(data), chunk_bytes=chunk_bytes), tally.announces):
        tally.add(record)
    return tally


# ---------------------------------------------------------------- the export format


def test_parse_export_reads_text_and_binary_fields():
    demo = entries("demo_errors")
    assert len(demo) == export("demo_errors").count(b"\n__CURSOR=") + 1 == 32
    # not UTF-8: journalctl writes MESSAGE as a binary field (name, 64-bit length, bytes)
    assert b"\nMESSAGE\n/\0\0\0\0\0\0\0ERROR: invalid byte \xff\xfe" in export("demo_errors")
    assert demo[2] == JournalEntry(realtime_us=1796184602864287, pid=195, priority=6,
                                   message="ERROR: invalid byte \ufffd\ufffd in request from 10.0.0.7")
    assert demo[16] == JournalEntry(realtime_us=1796184602886514, pid=196, priority=3, message=(
        "disk quota exceeded for /var/lib/app/tenants/42 (request 3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b)"))
    # a newline in MESSAGE (sent over journald's native protocol) makes it binary too
    assert entries("native_multiline")[2].message == "ERROR: report job failed:\nquota exceeded for tenant 42"


def test_parse_export_of_no_entries():
    assert export("no_entries") == b""  # journalctl -u nosuch -o export prints nothing
    assert entries("no_entries") == []


@pytest.mark.parametrize("name", ["demo_errors", "native_multiline", "seed_small"])
def test_parse_export_gives_the_same_entries_whatever_the_chunks(name):
    whole = entries(name)
    for chunk_bytes in (1, 2, 3, 7, 64, 333, 4096):
        assert entries(name, chunk_bytes) == whole, chunk_bytes


@pytest.mark.parametrize(("data", "error", "message"), [
    (b"MESSAGE=x\n\n", ValueError, "entry 1 is not a journal entry: __REALTIME_TIMESTAMP None is not a time"),
    (b"__REALTIME_TIMESTAMP=1\n\n__REALTIME_TIMESTAMP=12x\n\n", ValueError,
     "entry 2 is not a journal entry: __REALTIME_TIMESTAMP b'12x' is not a time"),
    (b"__REALTIME_TIMESTAMP=1\nMESSAGE\n" + (2**40).to_bytes(8, "little") + b"x\n\n", ValueError,
     "entry 1 is not a journal entry: field b'MESSAGE' has no length"),
    (b"__REALTIME_TIMESTAMP=1\nMESSAGE\n" + (2).to_bytes(8, "little") + b"abc\n\n", ValueError,
     "entry 1 is not a journal entry: field b'MESSAGE' is cut short"),
    (b"__REALTIME_TIMESTAMP=1\nMESSAGE=x\n", CutShort, "entry 1 is cut short: the output ends inside it"),
])
def test_parse_export_names_the_bad_entry(data, error, message):
    with pytest.raises(error, match=re.escape(message)):
        list(parse_export(io.BytesIO(data)))


# ---------------------------------------------------------------- joined and counted as they come


def test_tracebacks_are_joined_across_chunk_boundaries():
    whole = tally_of(export("seed_small"))
    # busy_app.py 120 10: 12 errors, 3 of each kind, one of them a logged exception with its traceback
    assert whole.error_count == 12
    assert [(group["fingerprint"], group["count"]) for group in whole.result_groups()] == [
        ("ERROR: payment <n> failed for order <n>", 3),
        ("ERROR:worker:order <n> failed: lookup of cache key | KeyError: 'order-<n>'", 3),
        ("database connection to <n>.<n>.<n>.<n> lost after <n> ms", 3),
        ("CRITICAL: worker <n> out of memory", 3),
    ]
    traceback = whole.result_groups()[1]["sample"]
    assert traceback.splitlines()[1] == "Traceback (most recent call last):"
    assert traceback.endswith("KeyError: 'order-19'")
    for chunk_bytes in (1, 5, 50, 301, 1000):
        assert tally_of(export("seed_small"), chunk_bytes).result_groups() == whole.result_groups(), chunk_bytes


def test_records_come_as_they_end_with_their_order_of_start():
    records = list(join_tracebacks(entries("demo_errors")))
    assert sorted(record.index for record in records) == list(range(len(records)))
    logged = sorted((record for record in records if record.entries[0].message.startswith("ERROR:worker")),
                    key=lambda record: record.index)
    assert [record.entries[-1].message for record in logged] == ["KeyError: 'order-1041'", "KeyError: 'order-1042'"]


def test_open_records_of_many_pids_are_swept_and_still_complete():
    lines = [JournalEntry(realtime_us=i * 2_000_000, pid=i, priority=6, message=f"ERROR: worker {i}")
             for i in range(1000)]
    records = list(join_tracebacks(lines))
    assert sorted(record.index for record in records) == list(range(1000))


def test_a_record_of_endless_indented_lines_ends_at_the_bound():
    lines = [JournalEntry(0, 1, 6, "Traceback (most recent call last):")]
    lines += [JournalEntry(i, 1, 6, f"  line {i}") for i in range(1, 2500)]
    sizes = [len(record.entries) for record in join_tracebacks(lines)]
    assert sizes[0] == baseline_journal.MAX_RECORD_ENTRIES and sum(sizes) == 2500


def test_groups_beyond_the_bound_are_counted_as_other_groups():
    tally = tally_of(export("seed_small"), max_groups=2)
    assert [group["count"] for group in tally.result_groups()] == [3, 3]
    assert tally.result_other() == {"unit": "unit", "count": 6, "first_seen": "2026-12-02T04:10:03+00:00",
                                    "last_seen": "2026-12-02T04:10:03+00:00"}
    assert tally.error_count == 12  # never dropped


def test_samples_per_group_are_bounded_and_distinct():
    groups = tally_of(export("seed_small"), max_samples=2).result_groups()
    assert [len(group["samples"]) for group in groups] == [2, 2, 2, 2]
    payment = groups[0]
    assert payment["samples"] == ["ERROR: payment 9 failed for order 63", "ERROR: payment 49 failed for order 343"]
    assert payment["sample"] == payment["samples"][0]
    assert [len(group["samples"]) for group in tally_of(export("seed_small"), max_samples=1).result_groups()] == [1] * 4


def test_errors_since_traffic_count_from_that_time_on():
    at = entries("seed_small")[60].realtime_us
    tally = tally_of(export("seed_small"), traffic_since_us=at)
    starts = [record.entries[0].realtime_us for record in join_tracebacks(entries("seed_small"))
              if baseline_journal.is_error(record, [0, 1, 2, 3], PATTERNS)]
    assert tally.since_traffic == sum(start >= at for start in starts) and 0 < tally.since_traffic < 12
    assert tally_of(export("seed_small"), traffic_since_us=0).since_traffic == 12


# ---------------------------------------------------------------- the shapes of Python's errors

SHAPES = [  # shapes.export: shapes.py 1 0, each error once, as the library that writes it does
    ("ERROR:worker:order <n> failed: lookup of cache key | KeyError: 'order-<n>'", 0),  # logging.exception
    ("sync of order <n> stopped | KeyError: 'order-<n>'", 0),  # the same, its message alone: no error line
    ("Exception in thread worker-<n>: | KeyError: 'order-<n>'", 0),  # threading.excepthook, two writes
    ("ERROR:worker:payment <n> failed | KeyError: 'order-<n>'", 10_278),  # log.error, then traceback.print_exc()
    ("ERROR: Exception in ASGI application | KeyError: 'route <path>'", 0),  # uvicorn
    ("Traceback (most recent call last): | KeyError: 'order-<n>'", 13_704),  # uncaught, after an info line
]


def header_gaps(found):
    """The time from each traceback's first line back to the same PID's line before it, in order."""
    last, gaps = {}, []
    for entry in found:
        if entry.message.startswith("Traceback") and entry.pid in last:
            gaps.append(entry.realtime_us - last[entry.pid].realtime_us)
        last[entry.pid] = entry
    return gaps


def test_each_shape_of_a_python_error_is_one_event_with_its_header():
    shapes = entries("shapes")
    assert header_gaps(shapes) == [gap for _, gap in SHAPES]
    tally = tally_of(export("shapes"))
    assert [(group["fingerprint"], group["count"]) for group in tally.result_groups()] == [
        (fingerprint, 1) for fingerprint, _ in SHAPES]
    assert tally.error_count == len(SHAPES)


def delayed(found, first, by_us):
    """The entries as a busy journald stores them when the one at `first` comes `by_us` later: it
    and every later one stamped at a later read."""
    return [entry._replace(realtime_us=entry.realtime_us + by_us) if number >= first else entry
            for number, entry in enumerate(found)]


@pytest.mark.parametrize("by_us", [20_000, 300_000, 980_000])
@pytest.mark.parametrize("shape", range(len(SHAPES) - 1))
def test_a_shape_stored_apart_is_still_one_event(shape, by_us):
    shapes = entries("shapes")
    starts = [number for number, entry in enumerate(shapes) if entry.message.startswith("Traceback")]
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS)
    for record in join_tracebacks(delayed(shapes, starts[shape], by_us), tally.announces):
        tally.add(record)
    assert tally.error_count == len(SHAPES)
    found = [group["fingerprint"] for group in tally.result_groups()]
    if shape == 1:  # no line says a traceback follows: past journald's next read, the traceback stands alone
        assert found[1] == "Traceback (most recent call last): | KeyError: 'order-<n>'"
    else:
        assert found == [fingerprint for fingerprint, _ in SHAPES]


def test_a_traceback_journald_stored_apart_from_its_error_line_is_one_event():
    # shapes_split.export: two reads of journald on a busy host, the error line at the end of the
    # first, the traceback traceback.print_exc() wrote after it at the start of the next, 44 ms later
    split = entries("shapes_split")
    assert header_gaps(split) == [44_415]
    tally = tally_of(export("shapes_split"))
    assert tally.error_count == 1
    assert [(group["fingerprint"], group["count"]) for group in tally.result_groups()] == [
        ("ERROR:worker:payment <n> failed | KeyError: 'order-<n>'", 1)]


def test_a_logged_exception_journald_stored_in_two_reads_is_one_event():
    # production_split.export: the production-size demo target (molecule/production) while it seeded
    # its journal, a busy journald storing a logged exception (one write) in two reads 13.6 ms apart
    split = entries("production_split")
    assert header_gaps(split) == [13_640, 0]  # the chained traceback follows "The above exception..."
    tally = tally_of(export("production_split"))
    assert tally.error_count == 1
    assert [(group["fingerprint"], group["count"]) for group in tally.result_groups()] == [
        ("ERROR: Invoice <n> could not be rendered | RuntimeError: invoice <n> has no total", 1)]
    assert tally.result_groups()[0]["sample"].count("Traceback (most recent call last):") == 2


def test_an_error_line_and_a_traceback_written_apart_within_a_second_are_one_event():
    # What the journal cannot tell apart: an error, then an uncaught exception 0.2 s later, with no
    # header of its own, reads as the error's traceback (as the system tools' reading reads it).
    shapes = entries("shapes")
    crash = next(n for n, entry in enumerate(shapes) if entry.message.startswith("Traceback")
                 and shapes[n - 1].message.startswith("INFO:     Finished server process"))
    error = shapes[crash - 1]._replace(message="ERROR:    database gone",
                                       realtime_us=shapes[crash].realtime_us - 200_000)
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS)
    for record in join_tracebacks([*shapes[:crash - 1], error, *shapes[crash:]], tally.announces):
        tally.add(record)
    assert tally.error_count == len(SHAPES)
    assert tally.result_groups()[-1]["fingerprint"] == "ERROR: database gone | KeyError: 'order-<n>'"


# ---------------------------------------------------------------- the time limit


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1
        return self.now


def test_scan_stops_at_the_deadline_and_says_what_it_read(monkeypatch):
    monkeypatch.setattr(baseline_journal, "CLOCK_EVERY", 40)
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS)
    scan = scan_journal(io.BytesIO(export("seed_small")), tally, deadline=2.5, clock=Ticks())
    whole = entries("seed_small")
    assert (scan.lines_read, scan.stopped) == (120, True)  # read at 40 (t=1), 80 (t=2), 120 (t=3 > 2.5)
    assert (scan.first_us, scan.last_us) == (whole[0].realtime_us, whole[119].realtime_us)
    assert 0 < tally.error_count < 12


def test_scan_to_the_end_is_exact():
    scan = scan_journal(io.BytesIO(export("seed_small")), ErrorTally("unit", [3], []), deadline=NEVER)
    assert (scan.lines_read, scan.stopped, scan.cut_short) == (len(entries("seed_small")), False, False)


def test_scan_of_output_cut_inside_an_entry_says_so():
    data = export("seed_small")
    scan = scan_journal(io.BytesIO(data[:len(data) // 2]), ErrorTally("unit", [3], []), deadline=NEVER)
    assert scan.cut_short and not scan.stopped


@pytest.mark.parametrize(("scan", "start_us", "now_us", "pct"), [
    (Scan(lines_read=5, first_us=150, last_us=160, stopped=False), 100, 200, 100.0),
    (Scan(lines_read=5, first_us=150, last_us=161, stopped=True), 100, 200, 61.0),
    (Scan(lines_read=5, first_us=150, last_us=175, stopped=True), None, 200, 50.0),
    (Scan(lines_read=0, stopped=True), 100, 200, 0.0),
])
def test_covered_pct_is_the_share_of_the_time_since_the_start_read(scan, start_us, now_us, pct):
    assert covered_pct(scan, start_us, now_us) == pct


class Module:
    """What read_unit uses of an AnsibleModule."""

    def __init__(self, max_seconds):
        self.params = {"max_seconds": max_seconds}
        self.run_command_environ_update = {"LC_ALL": "C.UTF-8"}
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, msg, **kwargs):
        raise AssertionError(msg)


def test_a_journalctl_that_outlives_the_limit_is_stopped_and_what_it_wrote_counts(tmp_path):
    # A real process: it writes the capture, then hangs as a journalctl on a slow disk would.
    capture = tmp_path / "seed_small.export"
    capture.write_bytes(export("seed_small"))
    argv = ["sh", "-c", f'cat "{capture}"; exec sleep 60']
    tally = ErrorTally("unit", [0, 1, 2, 3], PATTERNS)
    scan = read_unit(Module(max_seconds=1.0), argv, tally, "reading the journal of unit")
    assert (scan.stopped, scan.lines_read, tally.error_count) == (True, len(entries("seed_small")), 12)


def test_a_journalctl_that_fails_fails_with_its_message():
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('Failed to parse timestamp: garbage\\n'); sys.exit(1)"]
    with pytest.raises(AssertionError, match="reading the journal of unit: Failed to parse timestamp: garbage"):
        read_unit(Module(max_seconds=10.0), argv, ErrorTally("unit", [3], []), "reading the journal of unit")


def test_a_missing_journalctl_fails_with_the_cause():
    with mock.patch.object(baseline_journal.subprocess, "Popen", side_effect=FileNotFoundError(2, "No such file")), \
         pytest.raises(AssertionError, match=re.escape("reading the journal of unit: [Errno 2] No such file")):
        read_unit(Module(max_seconds=10.0), ["journalctl"], ErrorTally("unit", [3], []), "reading the journal of unit")


@pytest.mark.parametrize(("patterns", "text", "found"), [
    (["Traceback", "ERROR", "CRITICAL"], "x CRITICAL y", True),
    (["Traceback", "ERROR", "CRITICAL"], "error", False),
    ([r"(a)\1", "zz"], "aa", True),  # a back-reference keeps its meaning: searched alone
    ([r"(a)\1", "zz"], "ab", False),
    (["(?i)error", "x"], "an Error", True),  # an inline flag applies to its own pattern only
    (["(?i)error", "X"], "x", False),
    (["(?P<n>a)", "(?P<n>b)"], "b", True),  # a group name twice cannot be joined
    ([], "ERROR", False),
])
def test_any_of_the_patterns_matches_as_each_would(patterns, text, found):
    assert baseline_journal.any_of([re.compile(pattern) for pattern in patterns])(text) is found
