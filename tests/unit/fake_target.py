"""A stand-in for the target's commands, for running a module's main() on captured output."""

import contextlib
import io
from unittest import mock

import yaml
from ansible.module_utils import baseline_journal, basic
from conftest import FIXTURES


class FakeCommands:
    """Answers run_command from a list of (predicate on argv, (rc, stdout, stderr)); records argv."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, module, args, **kwargs):
        if args[0].endswith("/locale"):
            return 0, "C\nC.utf8\nPOSIX\n", ""
        self.calls.append(args)
        for matches, answer in self.answers:
            if matches(args):
                return answer
        raise AssertionError(f"unexpected command: {args}")


class FakeJournalProcess:
    """What baseline_journal.JournalProcess gives (a stream of journalctl's output, its end), from
    the answer of `commands` to its argv; an answer's stdout may be text or bytes."""

    def __init__(self, commands, argv, env):
        rc, out, err = commands(None, argv)
        self.stdout = io.BytesIO(out.encode() if isinstance(out, str) else out)
        self.killed = False
        self._end = rc, err

    def stop(self):
        pass

    def finish(self):
        return self._end


@contextlib.contextmanager
def fake_target(commands):
    """Patch run_command and journalctl's stream with `commands` (libsystemd left out, so that
    journalctl is what reads), and find every binary in /usr/bin."""
    def run_command(module, args, **kwargs):
        return commands(module, args, **kwargs)

    with mock.patch.object(basic.AnsibleModule, "run_command", run_command), \
         mock.patch.object(baseline_journal, "JournalProcess",
                           lambda argv, env: FakeJournalProcess(commands, argv, env)), \
         mock.patch.object(baseline_journal, "load_libsystemd", lambda: None), \
         mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: f"/usr/bin/{name}"):
        yield commands


def command_is(name, *words):
    """A predicate: argv runs `name` (under timeout) with all of `words` among its arguments."""
    def matches(args):
        return f"/usr/bin/{name}" in args and all(word in args for word in words)
    return matches


def fixture_text(relative):
    return (FIXTURES / relative).read_text(encoding="utf-8")


def fixture_bytes(relative):
    return (FIXTURES / relative).read_bytes()


def doc_of(module, name):
    return yaml.safe_load(getattr(module, name))


def check_against_return(value, doc, path):
    """Assert that `value` is exactly what the RETURN entry `doc` describes; return the paths checked.

    A dict whose `contains` holds one key that the dict does not have (`<unit>`) is keyed by
    names: that one key describes each of its values.
    """
    for field in ("description", "returned", "type", "sample"):
        assert field in doc, f"RETURN of {path} lacks {field}"
    if value is None:
        return [path]
    types = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "list": list}
    assert isinstance(value, types[doc["type"]]), f"{path}: {value!r} is not a {doc['type']}"
    assert doc["type"] != "int" or not isinstance(value, bool), path
    checked = [path]
    contains = doc.get("contains")
    if contains is None:
        return checked
    if doc["type"] == "list":
        return checked + [p for item in value for p in check_against_return(item, {**doc, "type": "dict"}, path)]
    if len(contains) == 1 and not set(value) & set(contains):
        (placeholder, each), = contains.items()
        each_path = f"{path}.{placeholder}"
        return checked + [p for item in value.values() for p in check_against_return(item, each, each_path)]
    assert set(value) == set(contains), f"{path}: returns {sorted(value)}, RETURN says {sorted(contains)}"
    for key, sub_doc in contains.items():
        checked += check_against_return(value[key], sub_doc, f"{path}.{key}")
    return checked
