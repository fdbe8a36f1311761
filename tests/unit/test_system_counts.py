"""The production scenario's independent reading (molecule/production/files/system_counts.py) and
journal_errors count the same error events on every capture of tests/fixtures/journal, the shapes
of Python's errors and the traceback a busy journald stored apart from its error line among them:
the scenario's strict check of one against the other rests on it."""

import runpy

import pytest
from conftest import PROJECT
from test_journal_errors_stream import SHAPES, delayed
from test_journal_views import CAPTURES, by_stream, fixture_entries

READING = runpy.run_path(str(PROJECT / "molecule" / "production" / "files" / "system_counts.py"))


def reading_of(entries):
    return READING["count_errors"](
        (entry.realtime_us, str(entry.pid), entry.message, None if entry.priority is None else str(entry.priority))
        for entry in entries)


@pytest.mark.parametrize("name", CAPTURES)
def test_the_reading_counts_the_error_events_journal_errors_counts(name):
    entries = fixture_entries(name)
    reading = reading_of(entries)
    assert reading["lines"] == len(entries)
    assert reading["error_events"] == by_stream(entries).error_count


def test_the_reading_counts_the_traceback_stored_apart_once_and_says_so():
    reading = reading_of(fixture_entries("shapes_split"))
    assert (reading["error_events"], reading["stored_apart"], reading["longest_apart_ms"]) == (1, 1, 44.4)


@pytest.mark.parametrize("shape", range(len(SHAPES) - 1))
def test_the_reading_and_journal_errors_agree_on_each_shape_stored_apart(shape):
    shapes = fixture_entries("shapes")
    starts = [number for number, entry in enumerate(shapes) if entry.message.startswith("Traceback")]
    entries = delayed(shapes, starts[shape], 300_000)
    assert reading_of(entries)["error_events"] == by_stream(entries).error_count == len(SHAPES)
