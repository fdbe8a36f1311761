"""journal_errors' reading through libsystemd's views (scan_views): the same records, counts and
groups as the journalctl stream's reading (join_tracebacks + ErrorTally), on the real captures of
tests/fixtures/journal, with a stand-in of SdJournal over their entries; and SdJournal itself on
the controller's own journal when libsystemd is there."""

import ctypes
import ctypes.util
import io
import mmap
import re

import pytest
from ansible.module_utils import baseline_journal
from ansible.module_utils.baseline_journal import (
    CLOCK_EVERY,
    ErrorTally,
    JournalEntry,
    MappedJournalPages,
    _literal_test,
    join_tracebacks,
    journal_mappings,
    parse_export,
    scan_views,
    unit_name,
)
from fake_target import fixture_bytes
from test_journal_errors import export_of
from test_journal_errors_stream import NEVER, PATTERNS, delayed


class MemoryJournal:
    """SdJournal's methods over a list of entries: a cursor is an entry's index."""

    def __init__(self, entries, since_us=None, also=()):
        self.all = entries
        self.restrict(also, since_us)

    def restrict(self, also, since_us=None):
        wanted = {}
        for match in also:
            name, _, value = match.partition("=")
            wanted.setdefault(name, set()).add(int(value))
        fields = {"PRIORITY": "priority", "_PID": "pid"}
        self.rows = [number for number, entry in enumerate(self.all)
                     if (since_us is None or entry.realtime_us >= since_us)
                     and all(getattr(entry, fields[name]) in values for name, values in wanted.items())]
        self.pos = -1

    def messages(self):
        while self.pos + 1 < len(self.rows):
            self.pos += 1
            yield b"MESSAGE=" + self.entry().message.encode()

    def step(self, backwards=False):
        pos = self.pos + (-1 if backwards else 1)
        if not 0 <= pos < len(self.rows):
            return False
        self.pos = pos
        return True

    def entry(self):
        return self.all[self.rows[self.pos]]

    def cursor(self):
        return str(self.rows[self.pos]).encode()

    def realtime_us(self):
        return self.entry().realtime_us

    def seek(self, cursor):
        self.pos = self.rows.index(int(cursor))


def by_stream(entries, priorities=(0, 1, 2, 3), patterns=PATTERNS, **bounds):
    tally = ErrorTally("unit", list(priorities), patterns, **bounds)
    for record in join_tracebacks(entries, tally.announces):
        tally.add(record)
    return tally


def by_views(entries, priorities=(0, 1, 2, 3), patterns=PATTERNS, deadline=NEVER, every_clock=None, **bounds):
    tally = ErrorTally("unit", list(priorities), patterns, **bounds)
    also = tuple(f"PRIORITY={priority}" for priority in priorities)
    scan = scan_views(MemoryJournal(entries), MemoryJournal(entries),
                      MemoryJournal(entries, also=also) if also else None, tally, deadline, every_clock=every_clock)
    return tally, scan


def same(tally, other):
    assert tally.error_count == other.error_count
    assert tally.since_traffic == other.since_traffic
    assert sorted(tally.result_groups(), key=str) == sorted(other.result_groups(), key=str)
    assert tally.result_other() == other.result_other()


EXPORTS = ("demo_errors", "native_multiline", "oneshot_failed", "seed_small", "no_entries", "shapes", "shapes_split",
           "production_split")


def fixture_entries(name):
    data = fixture_bytes(f"journal/{name}.export") if name in EXPORTS else export_of(name)
    return list(parse_export(io.BytesIO(data)))


CAPTURES = ["demo_errors", "native_multiline", "oneshot_failed", "seed_small", "no_entries",
            "green_since_start", "green_all_starts", "shapes", "shapes_split", "production_split"]


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize(("priorities", "patterns"), [
    ((0, 1, 2, 3), PATTERNS),
    ((0, 1, 2, 3), []),
    ((), PATTERNS),
    ((0, 1, 2, 3, 4, 5, 6), [re.compile(r"fail\w+"), re.compile("(?i)quota")]),
])
def test_views_count_and_group_as_the_stream_does(name, priorities, patterns):
    entries = fixture_entries(name)
    tally, scan = by_views(entries, priorities, patterns)
    same(tally, by_stream(entries, priorities, patterns))
    assert scan.lines_read == len(entries)
    assert not scan.stopped


def test_the_captures_hold_what_the_views_must_join():
    demo = by_views(fixture_entries("demo_errors"))[0]
    # the invalid bytes, two logged exceptions, one logger line (the other lost its unit), the crash
    assert [group["count"] for group in demo.result_groups()] == [1, 2, 1, 1]
    assert demo.error_count == 5
    seed = by_views(fixture_entries("seed_small"))[0]
    # 120 lines, one in 10 an error of four kinds (one of priority only), tracebacks counted once
    assert [group["count"] for group in seed.result_groups()] == [3, 3, 3, 3]


def line(us, pid, message, priority=6):
    return JournalEntry(realtime_us=us, pid=pid, priority=priority, message=message)


TRACEBACK = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>', "ValueError: bad"]


@pytest.mark.parametrize("entries", [
    # lines of another PID inside a traceback, and between its log line and the traceback
    [line(0, 10, "ERROR: failed"), line(5, 11, "INFO: other"), *(line(10 + i, 10, m) for i, m in enumerate(TRACEBACK)),
     line(20, 11, "ERROR: of the other")],
    # a log line that does not match heads a traceback; a traceback right after another one
    [line(0, 10, "WARNING: retrying"), *(line(1 + i, 10, m) for i, m in enumerate(TRACEBACK)),
     *(line(5 + i, 10, m) for i, m in enumerate(TRACEBACK))],
    # a header too long before its traceback; an exception line that matches a pattern
    [line(0, 10, "ERROR: failed"), *(line(50_000 + i, 10, m) for i, m in enumerate(TRACEBACK[:2])),
     line(50_003, 10, "RuntimeError: ERROR in the handler")],
    # an error of priority only, inside and outside a traceback, and two entries of one message
    [line(0, 10, "db lost", 3), line(1, 10, "db lost", 6), line(2, 12, "db lost", 3),
     *(line(3 + i, 12, m, 3 if i == 1 else 6) for i, m in enumerate(TRACEBACK))],
    # entries without a PID
    [line(0, None, "ERROR: a"), line(1, None, TRACEBACK[0]), line(2, None, "ValueError: x")],
])
def test_views_join_as_the_stream_does(entries):
    same(by_views(entries)[0], by_stream(entries))


@pytest.mark.parametrize("by_us", [20_000, 980_000, 1_500_000])
def test_views_join_shapes_stored_apart_as_the_stream_does(by_us):
    shapes = fixture_entries("shapes")
    for start in [number for number, entry in enumerate(shapes) if entry.message.startswith("Traceback")]:
        entries = delayed(shapes, start, by_us)
        same(by_views(entries)[0], by_stream(entries))


def test_a_record_of_endless_indented_lines_ends_at_the_bound_in_both():
    entries = [line(0, 1, TRACEBACK[0]), *(line(1 + i, 1, "  ERROR frame") for i in range(2500))]
    same(by_views(entries)[0], by_stream(entries))


def test_views_stop_at_the_deadline_and_say_what_they_read():
    entries = fixture_entries("seed_small")
    tally, scan = by_views(entries, deadline=-NEVER)
    assert scan.stopped and scan.lines_read == 1 and scan.last_us == entries[0].realtime_us
    assert tally.error_count == 0


def test_views_call_every_clock_each_time_they_read_the_clock_and_count_the_same():
    entries = [line(number, 1, f"INFO: {number}" if number % 100 else "ERROR: lost") for number in range(1300)]
    calls = []
    tally, scan = by_views(entries, every_clock=lambda: calls.append(None))
    same(tally, by_stream(entries))
    assert scan.lines_read == 1300
    assert len(calls) == 3  # at the 1st, 513th and 1025th line
    assert CLOCK_EVERY == 512


@pytest.mark.parametrize(("patterns", "raw", "found"), [
    (["ERROR", "CRITICAL"], b"MESSAGE=INFO: ok", False),
    (["ERROR", "CRITICAL"], b"MESSAGE=x CRITICAL y", True),
    (["Failed to start", "a-b: c#d"], b"MESSAGE=a-b: c#d", True),
    ([r"ERR\w+"], b"MESSAGE=ERRX", True),
    ([r"ERR\w+"], b"MESSAGE=ERR ", False),
    (["(?i)error"], b"MESSAGE=Error", True),
    (["\u00e9chec"], "MESSAGE=\u00e9chec".encode(), True),
    ([], b"MESSAGE=ERROR", False),
])
def test_the_test_of_stored_messages_finds_what_the_patterns_match(patterns, raw, found):
    assert _literal_test([re.compile(text) for text in patterns])(raw) is found


@pytest.mark.parametrize(("name", "full"), [("tsh_erp-green", "tsh_erp-green.service"),
                                             ("app.socket", "app.socket"), ("x.slice", "x.slice"),
                                             ("a.b", "a.b.service")])
def test_unit_names_are_completed_as_journalctl_does(name, full):
    assert unit_name(name) == full


def test_sd_journal_reads_the_controllers_journal_when_there_is_libsystemd():
    loaded = baseline_journal.load_libsystemd()
    if loaded is None:
        pytest.skip("no libsystemd.so.0 on this machine")
    journal = baseline_journal.SdJournal(loaded, unit_name("nosuch-unit-of-the-tests"))
    try:
        assert list(journal.messages()) == []
    finally:
        journal.close()


def test_the_journal_files_mappings_are_found_in_a_readers_maps():
    # /proc/PID/maps of a process reading the journal through libsystemd with three views (the
    # capture: tests/fixtures/journal/README.md): 114 windows of five journal files among the
    # interpreter's and libraries' own mappings
    maps = fixture_bytes("journal/reader.maps").decode()
    ranges = journal_mappings(maps)
    assert len(ranges) == 114 == sum("/var/log/journal/" in text for text in maps.splitlines())
    assert ranges[0] == (0x7F78DBA7F000, 0x7F78DC27F000)
    assert sum(end - start for start, end in ranges) == 99 * 8 * 2**20 + 12 * 29831168 + 5210112 + 4661248 + 5779456


def resident_kib(path):
    """The resident size of this process's mapping of `path` (/proc/self/smaps)."""
    with open("/proc/self/smaps") as smaps:
        mapping = False
        for text in smaps:
            fields = text.split(maxsplit=5)
            if "-" in fields[0] and not fields[0].endswith(":"):
                mapping = len(fields) == 6 and fields[5].strip().removesuffix(" (deleted)") == str(path)
            elif mapping and fields[0] == "Rss:":
                return int(fields[1])
    raise AssertionError(f"{path} is not mapped")


def test_the_mapped_pages_of_journal_files_are_given_back_and_read_again_unchanged(tmp_path):
    kept, deleted, private = tmp_path / "system.journal", tmp_path / "user-1000@x.journal~", tmp_path / "p.journal"
    kept.write_bytes(bytes(range(256)) * (8 * 2**20 // 256))
    deleted.write_bytes(b"j" * 2**20)
    private.write_bytes(b"p" * 2**20)
    maps = []
    for path, flags, prot in ((kept, mmap.MAP_SHARED, mmap.PROT_READ), (deleted, mmap.MAP_SHARED, mmap.PROT_READ),
                              (private, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)):
        with open(path, "rb" if flags == mmap.MAP_SHARED else "r+b") as file:
            maps.append(mmap.mmap(file.fileno(), 0, flags, prot))
    shared, other, copied = maps
    deleted.unlink()  # its mapping now ends in ".journal~ (deleted)"
    pages = MappedJournalPages(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), budget=4 * 2**20)
    try:
        before = pages.shared_bytes()
        for mapped in maps:
            for offset in range(0, len(mapped), 4096):
                mapped[offset]
        copied[0:1] = b"P"  # a private copy's page: not the file's, never to be dropped
        assert resident_kib(kept) == 8 * 1024 and resident_kib(deleted) == 1024
        assert pages.shared_bytes() - before >= 9 * 2**20
        pages.check()
        assert pages.released == 1
        assert resident_kib(kept) == 0 and resident_kib(deleted) == 0 and resident_kib(private) > 0
        assert shared[:256] == bytes(range(256)) and shared[-1] == 255 and other[-1:] == b"j"
        assert copied[:2] == b"Pp"
    finally:
        pages.close()
        for mapped in maps:
            mapped.close()
