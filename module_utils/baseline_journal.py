"""Finding the errors of systemd units in `journalctl -o export` output, read as a stream.

Pure functions over an iterator: parse the export format's entries, join the lines of one Python
traceback back into one record as they come, and tally the error records by a fingerprint that
ignores what changes between occurrences (numbers, hex ids, UUIDs, paths), in bounded memory: a
bounded number of groups (the rest counted together as other groups) and of samples per group.
Only the standard library is used. At the bottom, read_journal_errors: the journal_errors
module's reading, which runs journalctl on the target and reads its output in one pass.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from mmap import MADV_DONTNEED
from operator import methodcaller
from typing import NamedTuple

from ansible.module_utils.baseline_systemd import (
    check_common_params,
    current_start_us,
    iso_utc,
    read_clocks,
    show_units,
    systemd_argument_spec,
    use_parsable_locale,
)

# Fields asked of journalctl (--output-fields); it adds __REALTIME_TIMESTAMP and the cursor itself.
JOURNAL_FIELDS = ("MESSAGE", "PRIORITY", "_PID", "SYSLOG_PID")
# The export format is the cheapest output that carries them: on 1M lines journalctl writes it in
# 1.2x the time of `-o cat`, where `-o json` takes 3.7x (bench/journal_scale.py measures it).
JOURNAL_OUTPUT = "export"
# A binary field's length in the export format is a 64-bit number: a corrupt one must not make
# the reader allocate without bound. journald's own limit on a line is 48 KiB (LineMax=).
MAX_FIELD_BYTES = 16 * 1024 * 1024

TRACEBACK_START = "Traceback (most recent call last):"
CHAINED_EXCEPTION_LINES = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)

# Where a traceback's header is. journald reads a program's output stream up to LineMax bytes at a
# time, stores each line as an entry of the writer's PID, and stamps every entry of one read with
# one time, its event loop's (journald-stream.c, sd_event_now): lines read together have the same
# time. Python's logging writes a record and its traceback in one write(); when a read ends inside
# it, the traceback is stamped at the next read, after journald has stored the rest of the one
# before (up to 3 ms in one measurement on 1M lines, 13.6 to 44 ms on a busier host:
# tests/fixtures/journal/*split.export, docs/production-scale.md). The journal keeps no trace of
# where a write() ended, so a traceback joins the same PID's line just before it as its header when
# that line is a record of its own and was stored within HEADER_WINDOW_US (whatever it says: the
# same read or the next), or within CONTINUATION_WINDOW_US when it announces a traceback: an error
# line by the priorities or patterns (logging's record of an exception, uvicorn's "Exception in
# ASGI application") or the line CPython itself writes before one (PYTHON_TRACEBACK_HEADERS). Not
# joined: a line that is no error, stored over 10 ms before (the demo_errors fixture's WARNING, 19
# ms before the uncaught exception's traceback). Read as one event, as the system tools' reading of
# molecule/production does: an error line and a traceback the same program wrote apart within the
# second after it (traceback.print_exc() after logging an error, or an uncaught exception).
# The traceback's own lines may come up to a second apart.
HEADER_WINDOW_US = 10_000
CONTINUATION_WINDOW_US = 1_000_000
# What CPython writes on the line before a traceback it prints itself, in a write of its own: an
# uncaught exception in a thread (threading.excepthook), an exception it cannot raise (sys.unraisablehook).
PYTHON_TRACEBACK_HEADERS = re.compile(r"Exception in thread .+:|Exception ignored in: .+")

FINGERPRINT_MAX_CHARS = 300
# Bounds of what one record and one group keep, so that no output makes the reader grow: a
# record of more lines than this ends there (the deepest traceback Python prints, with repeated
# frames folded, stays well below), and a sample is cut to this many characters.
MAX_RECORD_ENTRIES = 1_000
SAMPLE_MAX_CHARS = 20_000
# Open records (one per PID whose last line may still be continued) are swept of those no later
# line can continue when there are more than this.
OPEN_RECORDS_SWEEP = 64
# How often (in entries) the reading looks at the clock.
CLOCK_EVERY = 512
# journalctl's pipe, and each read of it: export output is 5 times the size of `-o cat`'s, and
# with the default 64 KiB pipe journalctl and the reader hand over to each other every 64 KiB,
# each handover costing a wake-up: on a busy host, most of the reading's time (measured: 316 s of
# wall time for 34 s of CPU on 1M lines). 1 MiB is the most an unprivileged process may ask
# (/proc/sys/fs/pipe-max-size).
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ from Python 3.10 on

# The last microsecond of the year 9999, the latest time Python's datetime can show.
MAX_REALTIME_US = 253_402_300_799_999_999
_DIGITS = re.compile(r"[0-9]+")

_MASKS = (
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    # An absolute path, or a relative one of three parts or more (not "status=1/FAILURE").
    (re.compile(r"(?<![\w.~-])(?:/[\w.@%+~-]+(?:/[\w.@%+~-]+)*|[\w.~-]+(?:/[\w.@%+~-]+){2,})/?"), "<path>"),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
)


class JournalEntry(NamedTuple):
    """One journal entry: one line a process wrote, or one syslog / journal message."""

    realtime_us: int
    pid: int | None
    priority: int | None
    message: str


@dataclass
class Record:
    """One message as its program wrote it: an entry, or a log line and its traceback."""

    entries: list[JournalEntry] = field(default_factory=list)
    # The record's place in the journal: the order of its first entry among the records.
    index: int = 0
    # "line": a single line so far; "frames": inside a traceback; "exception": after its last
    # line; "chained": after "The above exception was the direct cause...", before the next one.
    state: str = "line"

    @property
    def text(self) -> str:
        if len(self.entries) == 1:
            return self.entries[0].message
        return "\n".join(entry.message for entry in self.entries)

    @property
    def priority(self) -> int | None:
        if len(self.entries) == 1:
            return self.entries[0].priority
        known = [entry.priority for entry in self.entries if entry.priority is not None]
        return min(known) if known else None


def decode_message(value: bytes) -> str:
    """MESSAGE as text; bytes that are not UTF-8 are replaced."""
    return value.decode("utf-8", "replace")


def _number(value: bytes | None) -> int | None:
    # Only ASCII digits: bytes.isdigit() looks at ASCII only.
    return int(value) if value and value.isdigit() else None


def _entry(fields: dict, number: int) -> JournalEntry:
    get = fields.get
    realtime = get(b"__REALTIME_TIMESTAMP")
    if not realtime or not realtime.isdigit() or int(realtime) > MAX_REALTIME_US:
        raise ValueError(f"entry {number} is not a journal entry: __REALTIME_TIMESTAMP {realtime!r:.40} is not a time")
    pid = get(b"_PID") or get(b"SYSLOG_PID")
    priority = get(b"PRIORITY")
    return JournalEntry(int(realtime), int(pid) if pid and pid.isdigit() else None,
                        int(priority) if priority and priority.isdigit() else None,
                        get(b"MESSAGE", b"").decode("utf-8", "replace"))


_SPLIT_FIELD = methodcaller("split", b"=", 1)


class CutShort(ValueError):
    """The output ends inside an entry: journalctl was stopped while it wrote it."""


def _fields_at(buffer: bytes, pos: int, number: int) -> tuple[dict, int] | None:
    """The fields of the entry at buffer[pos:], binary ones included, and where the next entry
    starts; None when the buffer ends before the entry does."""
    fields = {}
    while True:
        eol = buffer.find(b"\n", pos)
        if eol < 0:
            return None
        if eol == pos:
            return fields, pos + 1
        line = buffer[pos:eol]
        name, sep, value = line.partition(b"=")
        if sep:
            fields[name] = value
            pos = eol + 1
            continue
        if eol + 9 > len(buffer):
            return None
        length = int.from_bytes(buffer[eol + 1:eol + 9], "little")
        if length > MAX_FIELD_BYTES:
            raise ValueError(f"entry {number} is not a journal entry: field {name!r:.40} has no length")
        start = eol + 9
        if start + length + 1 > len(buffer):
            return None
        if buffer[start + length:start + length + 1] != b"\n":
            raise ValueError(f"entry {number} is not a journal entry: field {name!r:.40} is cut short")
        fields[name] = buffer[start:start + length]
        pos = start + length + 1


def parse_export(stream, chunk_bytes: int = 1 << 16) -> Iterator[JournalEntry]:
    """The entries of `journalctl -o export` output, read from a binary stream as they come.

    The format (systemd's JOURNAL_EXPORT_FORMATS): an entry is fields, one per line, ended by an
    empty line; a field is `NAME=value`, or, when the value is not printable text (newlines,
    bytes that are not UTF-8), the name alone on its line, the value's length as a 64-bit little
    endian number, the value's bytes and a newline. Raises ValueError naming the entry that is
    not one, CutShort (a ValueError) when the output ends inside an entry.
    """
    buffer, pos, number = b"", 0, 1
    while True:
        last = buffer.rfind(b"\n\n", pos)
        # The complete entries in the buffer, split in C: in the common case, text fields only,
        # an entry is then one split and one dict.
        if last >= 0:
            for block in buffer[pos:last].split(b"\n\n"):
                try:
                    fields = dict(map(_SPLIT_FIELD, block.split(b"\n")))
                except ValueError:  # a line without "=": a binary field's name; its bytes may hold "\n\n"
                    found = _fields_at(buffer, pos, number)
                    if found is not None:
                        fields, pos = found
                        yield _entry(fields, number)
                        number += 1
                        break  # split again from where it ends
                    last = -1  # it goes on past the buffer
                    break
                pos += len(block) + 2
                yield _entry(fields, number)
                number += 1
            else:
                last = -1  # every complete entry is read
            if last >= 0:
                continue
        chunk = stream.read(chunk_bytes)
        if not chunk:
            if buffer[pos:].strip(b"\n"):
                raise CutShort(f"entry {number} is cut short: the output ends inside it")
            return
        buffer = buffer[pos:] + chunk
        pos = 0


def _never(entry: JournalEntry) -> bool:
    return False


def heads(header: JournalEntry, traceback_us: int, announces=_never) -> bool:
    """Whether `header`, a line that is a record of its own, is the header of the traceback that
    starts at `traceback_us` in the same PID's next line: stored within HEADER_WINDOW_US of it, or
    within CONTINUATION_WINDOW_US when announces(header) (see HEADER_WINDOW_US)."""
    gap_us = traceback_us - header.realtime_us
    return gap_us <= HEADER_WINDOW_US or (gap_us <= CONTINUATION_WINDOW_US and announces(header))


def _continues(record: Record, entry: JournalEntry, announces=_never) -> bool:
    """Whether `entry` is the next line of `record`; updates the record's state when it is.
    announces(line): whether a line says a traceback follows it (ErrorTally.announces)."""
    gap_us = entry.realtime_us - record.entries[-1].realtime_us
    message = entry.message
    if record.state == "line":
        if message.startswith(TRACEBACK_START) and heads(record.entries[0], entry.realtime_us, announces):
            record.state = "frames"
            return True
        return False
    if gap_us > CONTINUATION_WINDOW_US:
        return False
    if record.state == "frames":
        # Frames and source lines are indented; the first line that is not ends the traceback.
        if message[:1] not in (" ", "\t") and message.strip():
            record.state = "exception"
        return True
    if record.state == "exception":
        # A chained traceback follows, or an indented continuation of the exception's message.
        if message in CHAINED_EXCEPTION_LINES:
            record.state = "chained"
            return True
        return message[:1] in (" ", "\t") or not message.strip()
    # "chained": the next traceback of the chain.
    if message.startswith(TRACEBACK_START):
        record.state = "frames"
        return True
    return not message.strip()


def _stale(record: Record, now_us: int) -> bool:
    """Whether no line from `now_us` on can continue the record any more."""
    return now_us - record.entries[-1].realtime_us > CONTINUATION_WINDOW_US


def join_tracebacks(entries: Iterable[JournalEntry], announces=_never) -> Iterator[Record]:
    """Group entries into records, yielding each when it is complete: a Python traceback written
    one line per entry comes back as one record with the log line before it (see HEADER_WINDOW_US;
    announces(line): whether a line says a traceback follows it), its frames, chained tracebacks
    and exception lines. Records come in the order they end; `index` is their order of start.
    Holds one open record per PID that logged within the last second; an entry without a PID is a
    record of its own."""
    open_records: dict[int | None, Record] = {}  # by PID: programs of one unit may interleave
    sweep_at = OPEN_RECORDS_SWEEP
    index = 0
    for entry in entries:
        if entry.pid is None:  # no PID to tell whose lines follow it: a record of its own
            yield Record(entries=[entry], index=index)
            index += 1
            continue
        record = open_records.get(entry.pid)
        if record is not None:
            if len(record.entries) < MAX_RECORD_ENTRIES and _continues(record, entry, announces):
                record.entries.append(entry)
                continue
            yield record
        open_records[entry.pid] = Record(
            entries=[entry], index=index, state="frames" if entry.message.startswith(TRACEBACK_START) else "line")
        index += 1
        if len(open_records) > sweep_at:
            for pid in [pid for pid, held in open_records.items() if _stale(held, entry.realtime_us)]:
                yield open_records.pop(pid)
            sweep_at = max(OPEN_RECORDS_SWEEP, 2 * len(open_records))
    yield from sorted(open_records.values(), key=lambda held: held.index)


def summary(record: Record) -> str:
    """First line of a record, and for a traceback its last exception line: what identifies it."""
    lines = [entry.message for entry in record.entries]
    if record.state == "line":
        return lines[0]
    exception_lines = [
        line for line in lines[1:]
        if line.strip() and line[:1] not in (" ", "\t")
        and not line.startswith(TRACEBACK_START) and line not in CHAINED_EXCEPTION_LINES
    ]
    return " | ".join([lines[0], *exception_lines[-1:]])


def fingerprint(text: str) -> str:
    """`text` with numbers, hex ids, UUIDs and paths masked and blanks squeezed, cut to a bound."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text.strip()[:FINGERPRINT_MAX_CHARS]


# What a pattern cannot keep inside an alternation of all the patterns: back-references (their
# numbers would move) and inline flags (they would apply to every pattern, or be refused).
_UNJOINABLE = re.compile(r"\\[1-9]|\(\?P=|\(\?[aiLmsux]")


def any_of(patterns: list[re.Pattern]):
    """A function of a text, true when one of the patterns matches it: one search of all of them
    joined, or, when they cannot be joined, one search each."""
    if patterns and not any(_UNJOINABLE.search(pattern.pattern) for pattern in patterns):
        try:
            joined = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))
            return lambda text: joined.search(text) is not None
        except re.error:  # e.g. two patterns naming a group alike
            pass
    return lambda text: any(pattern.search(text) for pattern in patterns)


def is_error(record: Record, priorities: list[int], patterns: list[re.Pattern]) -> bool:
    """A record is an error when its priority is one of `priorities` or a pattern matches it."""
    if record.priority is not None and record.priority in priorities:
        return True
    text = record.text
    return any(pattern.search(text) for pattern in patterns)


@dataclass
class ErrorTally:
    """The error records of one unit counted as they come: exact counts overall, per group (by
    fingerprint) and since traffic_since_us, in bounded memory. The first max_groups groups to
    appear are kept with up to max_samples samples each; the errors of any later group are
    counted together in `other`."""

    unit: str
    priorities: list[int]
    patterns: list[re.Pattern]
    max_groups: int = 50
    max_samples: int = 3
    traffic_since_us: int | None = None
    error_count: int = 0
    since_traffic: int = 0
    groups: dict[str, dict] = field(default_factory=dict)
    other: dict | None = None
    _first_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self._matches = any_of(self.patterns)
        self._priorities = frozenset(self.priorities)

    def announces(self, line: JournalEntry) -> bool:
        """Whether a line says a traceback follows it: an error line by the priorities or patterns,
        or one CPython writes before a traceback (see HEADER_WINDOW_US)."""
        return ((line.priority is not None and line.priority in self._priorities) or self._matches(line.message)
                or PYTHON_TRACEBACK_HEADERS.fullmatch(line.message) is not None)

    def add(self, record: Record) -> None:
        priority = record.priority
        if not (priority is not None and priority in self._priorities) and not self._matches(record.text):
            return
        seen_us = record.entries[0].realtime_us
        self.error_count += 1
        if self.traffic_since_us is not None and seen_us >= self.traffic_since_us:
            self.since_traffic += 1
        key = fingerprint(summary(record))
        group = self.groups.get(key)
        if group is None and len(self.groups) >= self.max_groups:
            self._count_other(seen_us)
            return
        if group is None:
            self._first_index[key] = record.index
            self.groups[key] = group = {
                "unit": self.unit, "fingerprint": key, "count": 0, "first_seen_us": seen_us,
                "last_seen_us": seen_us, "priority": record.priority, "samples": []}
        group["count"] += 1
        group["first_seen_us"] = min(group["first_seen_us"], seen_us)
        group["last_seen_us"] = max(group["last_seen_us"], seen_us)
        if record.priority is not None and (group["priority"] is None or record.priority < group["priority"]):
            group["priority"] = record.priority
        if len(group["samples"]) < self.max_samples:
            text = record.text[:SAMPLE_MAX_CHARS]
            if text not in group["samples"]:
                group["samples"].append(text)

    def _count_other(self, seen_us: int) -> None:
        if self.other is None:
            self.other = {"unit": self.unit, "count": 0, "first_seen_us": seen_us, "last_seen_us": seen_us}
        self.other["count"] += 1
        self.other["first_seen_us"] = min(self.other["first_seen_us"], seen_us)
        self.other["last_seen_us"] = max(self.other["last_seen_us"], seen_us)

    def result_groups(self) -> list[dict]:
        """The groups as journal_errors returns them, in order of first appearance."""
        keys = sorted(self.groups, key=self._first_index.__getitem__)
        return [_shown(self.groups[key]) for key in keys]

    def result_other(self) -> dict | None:
        return _shown(self.other) if self.other else None


def _shown(group: dict) -> dict:
    """A group with its times as ISO 8601 and its first sample as `sample`."""
    shown = {key: value for key, value in group.items() if not key.endswith("_us")}
    shown.update(first_seen=iso_utc(group["first_seen_us"]), last_seen=iso_utc(group["last_seen_us"]))
    if "samples" in group:
        shown["sample"] = group["samples"][0]
    return shown


def group_errors(records: Iterable[Record], unit: str, priorities: list[int],
                 patterns: list[re.Pattern], **bounds) -> list[dict]:
    """The error records of one unit grouped by fingerprint, in order of first appearance."""
    tally = ErrorTally(unit, priorities, patterns, **bounds)
    for record in records:
        tally.add(record)
    return tally.result_groups()


# Reading through libsystemd ----------------------------------------------------------------
#
# journalctl's output costs it more than the reading: `-o export` (every field of every entry,
# then the ones asked kept) takes twice the CPU of `-o cat`, and parsing it in Python as much
# again (measured on 1M lines: 6.1 s + 4 s, where `journalctl -o cat | grep -c` takes 2.9 s). The
# journal read in the module's own process through libsystemd (sd_journal, by ctypes: no package
# to install) costs about what journalctl -o cat does, as long as each entry costs one call for
# its MESSAGE and a test of it: only the entries that may be errors (a pattern's literal, the
# first line of a traceback, a priority of `priorities`) are read whole, and the lines that join
# them into a record are read through a second view of the journal restricted to their PID.

SD_JOURNAL_LOCAL_ONLY = 1
_MESSAGE = b"MESSAGE"
_TRACEBACK_RAW = b"MESSAGE=" + TRACEBACK_START.encode()
# What journalctl -u UNIT matches (add_matches_for_unit, systemd 252): the unit's own entries,
# its coredumps, PID 1's and privileged daemons' messages about it.
_COREDUMP_MESSAGE_ID = "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1"
UNIT_SUFFIXES = (".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".timer",
                 ".path", ".slice", ".scope")
# Cursors of the records' last lines kept, to tell a traceback's header from a record's end.
RECORD_ENDS_KEPT = 4096
# libsystemd reads the journal files through mmap, and its cache keeps the windows it mapped (8
# MiB each, up to 64 per open journal) until it needs new ones: every page of a file the reading
# touched stays in the process's resident memory while its window is mapped, 560 MB on 1M lines
# for 17 MB of the process's own (docs/production-scale.md). The reading gives those pages back
# whenever they have grown by this much since the last time (MappedJournalPages).
MAPPED_PAGES_BUDGET = 16 << 20
# How a journal file's mapping ends in /proc/PID/maps, also once the file is deleted.
_JOURNAL_MAPPING_ENDINGS = (".journal", ".journal~", ".journal (deleted)", ".journal~ (deleted)")


def unit_name(name: str) -> str:
    """The unit's full name, as journalctl -u completes it: .service when it names no type."""
    return name if name.endswith(UNIT_SUFFIXES) else f"{name}.service"


def load_libsystemd():
    """libsystemd and libc through ctypes, or None when either does not load."""
    import ctypes
    import ctypes.util
    try:
        lib = ctypes.CDLL("libsystemd.so.0")
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    lib.sd_journal_get_cursor.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.sd_journal_seek_cursor.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.sd_journal_seek_realtime_usec.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    lib.sd_journal_add_match.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.sd_journal_set_data_threshold.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return ctypes, lib, libc


def journal_mappings(maps: str) -> list[tuple[int, int]]:
    """The (start, end) addresses of the shared mappings of journal files in a /proc/PID/maps
    text (a file since deleted too: journald may archive or vacuum it during the reading)."""
    ranges = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[1][3:4] == "s" and fields[5].endswith(_JOURNAL_MAPPING_ENDINGS):
            start, _, end = fields[0].partition("-")
            ranges.append((int(start, 16), int(end, 16)))
    return ranges


class MappedJournalPages:
    """The pages of the journal files libsystemd maps in this process, given back to the kernel
    each time the process's shared resident memory (/proc/self/statm: file and shmem pages) has
    grown by `budget` bytes since the last time. madvise(MADV_DONTNEED) on a shared mapping of
    a file only drops the process's page table entries: the mapping stays, the file's pages stay
    in the page cache (or tmpfs), and libsystemd's next read of one maps it again from there,
    unchanged. Closing and reopening the views would do the same at the cost of their positions
    (cursors to seek again, 4 ms a view; docs/production-scale.md); madvise leaves them as they are."""

    def __init__(self, libc, budget: int = MAPPED_PAGES_BUDGET):
        import ctypes
        self._madvise = libc.madvise
        self._madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self._budget = budget
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._statm = os.open("/proc/self/statm", os.O_RDONLY)
        self._limit = self.shared_bytes() + budget
        self.released = 0

    def shared_bytes(self) -> int:
        """The process's resident pages that map files or shared memory, in bytes."""
        return int(os.pread(self._statm, 128, 0).split()[2]) * self._page

    def check(self) -> None:
        """Give the journal's pages back if they have grown by the budget since the last time."""
        if self.shared_bytes() > self._limit:
            self.release()
            self._limit = self.shared_bytes() + self._budget

    def release(self) -> None:
        with open("/proc/self/maps") as maps:
            ranges = journal_mappings(maps.read())
        for start, end in ranges:
            # A failure leaves the pages resident, the reading unchanged: nothing to report.
            self._madvise(start, end - start, MADV_DONTNEED)
        self.released += 1

    def close(self) -> None:
        os.close(self._statm)


class SdJournal:
    """One view of the system journal through libsystemd: the entries `journalctl -u UNIT` shows,
    from `since_us` on (or all of them), optionally also matching `also` (FIELD=value strings;
    those of one field are alternatives). Iterate messages() to go through them."""

    def __init__(self, loaded, unit: str, since_us: int | None = None, also: tuple[str, ...] = ()):
        ctypes, self._lib, self._libc = loaded
        self._ctypes = ctypes
        self._j = ctypes.c_void_p()
        rc = self._lib.sd_journal_open(ctypes.byref(self._j), SD_JOURNAL_LOCAL_ONLY)
        if rc < 0:
            raise OSError(-rc, f"opening the journal: {os.strerror(-rc)}")
        self._data, self._size, self._usec = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_uint64()
        self._lib.sd_journal_set_data_threshold(self._j, 0)
        self._unit = unit
        self.restrict(also, since_us)

    def restrict(self, also: tuple[str, ...], since_us: int | None = None) -> None:
        lib, j, unit = self._lib, self._j, self._unit
        lib.sd_journal_flush_matches(j)
        groups = ((f"_SYSTEMD_UNIT={unit}",), (_COREDUMP_MESSAGE_ID, "_UID=0", f"COREDUMP_UNIT={unit}"),
                  ("_PID=1", f"UNIT={unit}"), ("_UID=0", f"OBJECT_SYSTEMD_UNIT={unit}"))
        if unit.endswith(".slice"):
            groups += ((f"_SYSTEMD_SLICE={unit}",),)
        for number, group in enumerate(groups):
            if number:
                self._check(lib.sd_journal_add_disjunction(j), "adding a match")
            for match in group:
                self._match(match)
        if also:
            self._check(lib.sd_journal_add_conjunction(j), "adding a match")
            for match in also:
                self._match(match)
        if since_us is not None:
            self._check(lib.sd_journal_seek_realtime_usec(j, since_us), "seeking the start")
        else:
            self._check(lib.sd_journal_seek_head(j), "seeking the start")

    def _match(self, match: str) -> None:
        data = match.encode()
        self._check(self._lib.sd_journal_add_match(self._j, data, len(data)), f"matching {match}")

    @staticmethod
    def _check(rc: int, action: str) -> int:
        if rc < 0:
            raise OSError(-rc, f"{action}: {os.strerror(-rc)}")
        return rc

    def messages(self) -> Iterator[bytes]:
        """Each entry's MESSAGE field as it is stored (b"MESSAGE=..."; b"" without one), the view
        standing on the entry while its message is handed out."""
        j, data, size = self._j, self._data, self._size
        next_, get_data, string_at = self._lib.sd_journal_next, self._lib.sd_journal_get_data, self._ctypes.string_at
        pointer, length = self._ctypes.byref(data), self._ctypes.byref(size)
        while True:
            rc = next_(j)
            if rc <= 0:
                self._check(rc, "reading the journal")
                return
            if get_data(j, _MESSAGE, pointer, length) >= 0:
                yield string_at(data.value, size.value)
            else:
                yield b""

    def step(self, backwards: bool = False) -> bool:
        lib = self._lib
        rc = (lib.sd_journal_previous if backwards else lib.sd_journal_next)(self._j)
        return self._check(rc, "reading the journal") > 0

    def field(self, name: bytes) -> bytes | None:
        if self._lib.sd_journal_get_data(self._j, name, self._ctypes.byref(self._data),
                                         self._ctypes.byref(self._size)) < 0:
            return None
        return self._ctypes.string_at(self._data.value, self._size.value)[len(name) + 1:]

    def realtime_us(self) -> int:
        self._check(self._lib.sd_journal_get_realtime_usec(self._j, self._ctypes.byref(self._usec)), "reading a time")
        return self._usec.value

    def entry(self) -> JournalEntry:
        """The entry the view stands on."""
        get = self.field
        return _entry({b"__REALTIME_TIMESTAMP": str(self.realtime_us()).encode(), b"_PID": get(b"_PID"),
                       b"SYSLOG_PID": get(b"SYSLOG_PID"), b"PRIORITY": get(b"PRIORITY"),
                       b"MESSAGE": get(b"MESSAGE") or b""}, 0)

    def cursor(self) -> bytes:
        pointer = self._ctypes.c_void_p()
        self._check(self._lib.sd_journal_get_cursor(self._j, self._ctypes.byref(pointer)), "reading a cursor")
        try:
            return self._ctypes.string_at(pointer.value)
        finally:
            self._libc.free(pointer)

    def seek(self, cursor: bytes) -> None:
        """Stand on the entry of `cursor`."""
        self._check(self._lib.sd_journal_seek_cursor(self._j, cursor), "seeking a cursor")
        if not self.step():
            raise OSError(0, "seeking a cursor: the entry is gone")

    def close(self) -> None:
        if self._j:
            self._lib.sd_journal_close(self._j)
            self._j = None


_REGEX_SYNTAX = frozenset(".^$*+?{}[]\\|()")


def _literal_test(patterns: list[re.Pattern]):
    """A test of an entry's stored MESSAGE (b"MESSAGE=...") that is true for every message a
    pattern matches (and may be true for others): the patterns' ASCII literals looked for in the
    bytes, or, for patterns that are not plain literals, the patterns on the decoded text."""
    literals = []
    for pattern in patterns:
        text = pattern.pattern
        if not text or not text.isascii() or pattern.flags & ~re.UNICODE or any(char in _REGEX_SYNTAX for char in text):
            literals = None
            break
        literals.append(text.encode())
    if literals is None:
        matches = any_of(patterns)
        return lambda raw: matches(raw[8:].decode("utf-8", "replace"))
    if not literals:
        return lambda raw: False
    if len(literals) <= 3:
        a, b, c = (literals + [literals[0]] * 2)[:3]
        return lambda raw: a in raw or b in raw or c in raw
    return lambda raw: any(literal in raw for literal in literals)


def scan_views(journal, pid_view, priority_view, tally: ErrorTally, deadline: float, clock=time.monotonic,
               every_clock=None) -> Scan:
    """The pass of scan_journal over a journal read through views (SdJournal, or a stand-in of
    the same methods): `journal` the unit's entries, `pid_view` one whose restrict(("_PID=N",))
    keeps one PID's, `priority_view` only the entries of tally's priorities (None without any).
    Gives the records join_tracebacks would and adds them to `tally`, reading whole only the
    entries that may be errors. every_clock(), when given, is called each time the clock is read
    (MappedJournalPages.check)."""
    scan = Scan()
    may_match = _literal_test(tally.patterns)
    priorities = tally._priorities
    consumed: set[bytes] = set()  # entries ahead, read as part of a record, that may be errors
    record_ends: dict[bytes, None] = {}
    index = 0

    pending = iter(priority_view.messages()) if priority_view is not None else iter(())
    next_priority = next(pending, None)
    priority_cursor = priority_view.cursor() if next_priority is not None else None

    def candidate(raw: bytes, priority: int | None) -> bool:
        return may_match(raw) or raw.startswith(_TRACEBACK_RAW) or (priority is not None and priority in priorities)

    def follow(record: Record, cursor: bytes) -> None:
        """Read the record's next lines through pid_view, from the entry of `cursor` on."""
        for raw in pid_view.messages():
            if len(record.entries) >= MAX_RECORD_ENTRIES:
                break
            entry = pid_view.entry()
            if not _continues(record, entry, tally.announces):
                break
            record.entries.append(entry)
            cursor = pid_view.cursor()
            if candidate(raw, entry.priority):
                consumed.add(cursor)
        record_ends[cursor] = None
        if len(record_ends) > RECORD_ENDS_KEPT:
            del record_ends[next(iter(record_ends))]

    for raw in journal.messages():
        scan.lines_read += 1
        if scan.lines_read % CLOCK_EVERY == 1:
            scan.last_us = journal.realtime_us()
            if scan.first_us is None:
                scan.first_us = scan.last_us
            if clock() > deadline:
                scan.stopped = True
                break
            if every_clock is not None:
                every_clock()
        is_priority = raw == next_priority
        if not is_priority and not may_match(raw) and not raw.startswith(_TRACEBACK_RAW):
            continue
        cursor = journal.cursor()
        if is_priority and cursor == priority_cursor:
            next_priority = next(pending, None)
            priority_cursor = priority_view.cursor() if next_priority is not None else None
        elif not may_match(raw) and not raw.startswith(_TRACEBACK_RAW):
            continue  # the message of an error of priority, but another entry
        if cursor in consumed:
            consumed.discard(cursor)
            continue
        entry = journal.entry()
        record = Record(entries=[entry], index=index)
        index += 1
        if entry.pid is None:
            tally.add(record)
            continue
        pid_view.restrict((f"_PID={entry.pid}",))
        pid_view.seek(cursor)
        if entry.message.startswith(TRACEBACK_START):
            record.state = "frames"
            if pid_view.step(backwards=True):
                before = pid_view.entry()
                if pid_view.cursor() not in record_ends and heads(before, entry.realtime_us, tally.announces):
                    record.entries.insert(0, before)
                pid_view.seek(cursor)
            follow(record, cursor)
        else:
            follow(record, cursor)
        tally.add(record)
    if scan.stopped:
        scan.last_us = journal.realtime_us()
    elif next_priority is not None and scan.last_us is not None and priority_view.realtime_us() < scan.last_us:
        raise ValueError("the entries of priority were not all met in the unit's journal: the views disagree")
    return scan


@dataclass
class Scan:
    """What one pass over a unit's journal read, and whether the time limit cut it."""

    lines_read: int = 0
    first_us: int | None = None
    last_us: int | None = None
    stopped: bool = False
    # The output ended inside an entry, which journalctl only does when it is stopped.
    cut_short: bool = False


def scan_journal(stream, tally: ErrorTally, deadline: float, clock=time.monotonic) -> Scan:
    """Read `journalctl -o export` output from `stream` into `tally` until its end or, at the
    latest, until clock() passes `deadline`. Raises ValueError as parse_export does."""
    scan = Scan()

    def counted(entries: Iterator[JournalEntry]) -> Iterator[JournalEntry]:
        for entry in entries:
            scan.lines_read += 1
            if scan.first_us is None:
                scan.first_us = entry.realtime_us
            scan.last_us = entry.realtime_us
            yield entry
            if scan.lines_read % CLOCK_EVERY == 0 and clock() > deadline:
                scan.stopped = True
                return

    try:
        for record in join_tracebacks(counted(parse_export(stream, chunk_bytes=PIPE_BYTES)), tally.announces):
            tally.add(record)
    except CutShort:
        scan.cut_short = True
    return scan


def covered_pct(scan: Scan, start_us: int | None, now_us: int) -> float:
    """The share of the time from the start (or the first entry read) to now that was read."""
    if not scan.stopped:
        return 100.0
    begin = start_us if start_us is not None else scan.first_us
    if begin is None or scan.last_us is None or now_us <= begin:
        return 0.0
    return round(min(100.0, 100 * (scan.last_us - begin) / (now_us - begin)), 1)


def journalctl_since(start_us: int) -> str:
    """A wall-clock time in microseconds as a journalctl --since value, to the microsecond."""
    return f"@{start_us // 1_000_000}.{start_us % 1_000_000:06d}"


def journal_argument_spec() -> dict:
    """The options of the journal_errors module."""
    spec = systemd_argument_spec()
    spec.update(
        since=dict(type="str"),
        priorities=dict(type="list", elements="int", choices=list(range(8)), default=[0, 1, 2, 3]),
        patterns=dict(type="list", elements="str", default=["Traceback", "ERROR", "CRITICAL"]),
        max_seconds=dict(type="float", default=30.0),
        max_groups=dict(type="int", default=50),
        max_samples=dict(type="int", default=3),
        traffic_since_us=dict(type="int"),
    )
    return spec


def journalctl_argv(journalctl: str, unit: str, since: str | None) -> list[str]:
    """The journalctl command that reads every entry of one unit (since `since`), oldest first."""
    argv = [journalctl, "--unit", unit, "--output", JOURNAL_OUTPUT, "--no-pager",
            "--output-fields", ",".join(JOURNAL_FIELDS)]
    return [*argv, "--since", since] if since else argv


# Where journald keeps the system journal: persistent, else volatile.
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")


def system_journal_files(roots=JOURNAL_DIRS) -> list[str]:
    """The system journal's files (not the users' own ones), current and archived."""
    return sorted(path for root in roots for path in glob.glob(os.path.join(root, "*", "system*.journal")))


def unreadable_journal(files: list[str], readable) -> str | None:
    """The first system journal file when the user may read none of them; None when it may read
    one, or when there are none to tell from."""
    if files and not any(readable(path) for path in files):
        return files[0]
    return None


def compile_patterns(module) -> list[re.Pattern]:
    """The patterns option compiled, or fail naming the pattern that does not compile."""
    patterns = []
    for text in module.params["patterns"]:
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            module.fail_json(msg=f"compiling the pattern {text!r}: {exc}")
    return patterns


class JournalProcess:
    """journalctl running, its standard output read as a stream (run_command would hold all of
    it in memory), its standard error in a file so that neither pipe can block the other."""

    def __init__(self, argv: list[str], env: dict):
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by finish(), after the process
        # Unbuffered: a read returns what the pipe holds, up to its size, in one system call.
        self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=self._stderr, env=env, bufsize=0)
        self.stdout = self._process.stdout
        with contextlib.suppress(OSError):  # a lower pipe-max-size: the default pipe, only slower
            fcntl.fcntl(self.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        self.killed = False

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self.killed = True

    def finish(self) -> tuple[int, str]:
        """(exit status, standard error) once journalctl has ended."""
        self.stdout.close()
        rc = self._process.wait()
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        return rc, err


def _positive(module, name: str, unit: str) -> None:
    value = module.params[name]
    if value <= 0:
        module.fail_json(msg=f"argument {name!r} must be a positive number of {unit}, not {value:g}")


def read_unit(module, argv: list[str], tally: ErrorTally, action: str) -> Scan:
    """One pass over one unit's journal into `tally`, within max_seconds; fails with "ACTION: CAUSE"."""
    max_seconds = module.params["max_seconds"]
    env = dict(os.environ, **module.run_command_environ_update)
    try:
        process = JournalProcess(argv, env)
    except OSError as exc:
        module.fail_json(msg=f"{action}: {exc}", cmd=argv)
    # journalctl may also stall without writing: then the timer ends it at the deadline.
    timer = threading.Timer(max_seconds, process.stop)
    timer.start()
    deadline = time.monotonic() + max_seconds
    try:
        scan = scan_journal(process.stdout, tally, deadline)
    except ValueError as exc:
        process.stop()
        process.finish()
        module.fail_json(msg=f"{action}: {exc}", cmd=argv)
    finally:
        timer.cancel()
    scan.stopped = scan.stopped or process.killed  # or the timer ended journalctl
    process.stop()
    rc, err = process.finish()
    if scan.cut_short and not scan.stopped:
        module.fail_json(msg=f"{action}: journalctl's output ends inside entry {scan.lines_read + 1}", cmd=argv)
    if rc != 0 and not scan.stopped:
        cause = "; ".join(line.strip() for line in err.splitlines() if line.strip()) or f"exit status {rc}"
        module.fail_json(msg=f"{action}: {cause}", cmd=argv, rc=rc, stderr=err)
    if err.strip() and not scan.stopped:
        module.warn(f"{action}: {err.strip().splitlines()[0]}")
    return scan


def read_unit_libsystemd(module, loaded, unit: str, start_us: int | None, tally: ErrorTally, action: str) -> Scan:
    """One pass over one unit's journal into `tally` through libsystemd, within max_seconds."""
    name = unit_name(unit)
    views, pages = [], None
    try:
        pages = MappedJournalPages(loaded[2])
        views.append(SdJournal(loaded, name, start_us))
        views.append(SdJournal(loaded, name))
        priorities = tuple(f"PRIORITY={priority}" for priority in tally.priorities)
        if priorities:
            views.append(SdJournal(loaded, name, start_us, also=priorities))
        deadline = time.monotonic() + module.params["max_seconds"]
        return scan_views(views[0], views[1], views[2] if priorities else None, tally, deadline,
                          every_clock=pages.check)
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"{action}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    finally:
        for view in views:
            view.close()
        if pages is not None:
            pages.close()


def read_journal_errors(module) -> dict:
    """The journal_errors module's result: the errors in the journal of module.params["units"]."""
    check_common_params(module)
    params = module.params
    _positive(module, "max_seconds", "seconds")
    _positive(module, "max_groups", "groups")
    _positive(module, "max_samples", "samples")
    traffic_since_us = params["traffic_since_us"]
    if traffic_since_us is not None and not 0 <= traffic_since_us <= MAX_REALTIME_US:
        module.fail_json(msg=f"argument 'traffic_since_us' must be a time in microseconds since the epoch, "
                             f"not {traffic_since_us}")
    patterns = compile_patterns(module)
    use_parsable_locale(module)
    units, timeout = params["units"], params["timeout"]
    journalctl = module.get_bin_path("journalctl", required=True)
    denied = unreadable_journal(system_journal_files(), lambda path: os.access(path, os.R_OK))
    if denied:
        user = pwd.getpwuid(os.geteuid()).pw_name
        module.fail_json(msg=f"reading the journal of {', '.join(units)}: user {user} may not read the system "
                             f"journal ({denied}); add it to the group systemd-journal")

    # Where each unit's part of the journal starts: the since option, or the unit's current start.
    start_of = dict.fromkeys(units)
    if params["since"] is None:
        clocks = read_clocks()
        for unit, props in show_units(module, units, timeout).items():
            start_of[unit] = current_start_us(props, clocks)

    libsystemd = load_libsystemd()
    per_unit, groups, others = {}, [], []
    for unit in units:
        start_us = start_of[unit]
        since = params["since"] if start_us is None else journalctl_since(start_us)
        tally = ErrorTally(unit, params["priorities"], patterns, max_groups=params["max_groups"],
                           max_samples=params["max_samples"], traffic_since_us=traffic_since_us)
        action = f"reading the journal of {unit}"
        # libsystemd reads from a time in microseconds; a since option in journalctl's words is
        # left to journalctl.
        if libsystemd is not None and (start_us is not None or since is None):
            scan = read_unit_libsystemd(module, libsystemd, unit, start_us, tally, action)
        else:
            scan = read_unit(module, journalctl_argv(journalctl, unit, since), tally, action)
        groups.extend(tally.result_groups())
        if tally.other:
            others.append(tally.result_other())
        per_unit[unit] = {
            "since": params["since"] if start_us is None else iso_utc(start_us),
            "lines_read": scan.lines_read,
            "exact": not scan.stopped,
            "covered_pct": covered_pct(scan, start_us, read_clocks().realtime_us),
            "read_until": iso_utc(scan.last_us) if scan.stopped and scan.last_us is not None else None,
            "error_count": tally.error_count,
            "error_events_since_traffic": tally.since_traffic if traffic_since_us is not None else None,
        }

    since_traffic = [unit["error_events_since_traffic"] for unit in per_unit.values()]
    return {
        "error_count": sum(unit["error_count"] for unit in per_unit.values()),
        "error_events_since_traffic": sum(since_traffic) if traffic_since_us is not None else None,
        "lines_read": sum(unit["lines_read"] for unit in per_unit.values()),
        "exact": all(unit["exact"] for unit in per_unit.values()),
        "max_seconds": params["max_seconds"],
        "units": per_unit,
        "groups": groups,
        "other_groups": others,
    }
