"""baseline_files: atomic writes on the controller, timestamped files kept, templates rendered once."""

import os

import pytest
from conftest import load_action_plugin, run_playbook

files_plugin = load_action_plugin("baseline_files")
write_file, WriteError = files_plugin.write_file, files_plugin.WriteError


def test_writes_replaces_and_keeps(tmp_path):
    latest = tmp_path / "reports" / "erp-1" / "latest.md"
    path = str(latest)
    assert write_file(path, b"one\n", True, 0o644, False) == "written"
    assert write_file(path, b"one\n", True, 0o644, False) == "unchanged"
    assert write_file(path, b"two\n", True, 0o640, False) == "written"
    assert latest.read_bytes() == b"two\n" and os.stat(path).st_mode & 0o777 == 0o640
    assert write_file(path, b"three\n", False, 0o644, False) == "kept"
    assert latest.read_bytes() == b"two\n"
    assert os.listdir(os.path.dirname(path)) == ["latest.md"]  # no temporary file left


def test_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "new.md"
    assert write_file(str(path), b"x", True, 0o644, True) == "written"
    assert not path.exists()


def test_an_unwritable_folder_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "latest.md"
    expected = f"^unable to write {path}: cannot create its folder {path.parent}: File exists$"
    with pytest.raises(WriteError, match=expected):
        write_file(str(path), b"x", True, 0o644, False)


@pytest.mark.parametrize(("mode", "expected"), [("0644", 0o644), ("640", 0o640), (0o600, 0o600)])
def test_file_mode(mode, expected):
    assert files_plugin.file_mode(mode) == expected


def test_a_bad_mode_is_named():
    with pytest.raises(WriteError, match="must be an octal mode such as '0644', not 'rw'"):
        files_plugin.file_mode("rw")


def test_the_action_in_a_playbook(tmp_path):
    """Through ansible-playbook: a template of the playbook's templates folder, rendered with the
    task's variables; a content; a failure that names the file; check mode."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ greeting }} {{ inventory_hostname }}\n")
    out = tmp_path / "out"
    status, output = run_playbook(tmp_path, [
        {"name": "Check mode", "baseline_files": {"files": [{"path": f"{out}/a.txt", "template": "t.j2"}]},
         "vars": {"greeting": "hello"}, "check_mode": True, "register": "checked"},
        {"name": "Write", "baseline_files": {"files": [
            {"path": f"{out}/a.txt", "template": "t.j2"},
            {"path": f"{out}/b.txt", "template": "t.j2", "force": False},
            {"path": f"{out}/c.txt", "content": "plain"}]},
         "vars": {"greeting": "hello"}, "register": "written"},
        {"name": "Again", "baseline_files": {"files": [
            {"path": f"{out}/a.txt", "template": "t.j2"},
            {"path": f"{out}/b.txt", "template": "t.j2", "force": False}]},
         "vars": {"greeting": "bye"}, "register": "again"},
        {"name": "Missing template", "baseline_files": {"files": [{"path": f"{out}/d.txt", "template": "nope.j2"}]},
         "ignore_errors": True, "register": "missing"},
        {"name": "Both", "baseline_files": {"files": [{"path": f"{out}/d.txt", "content": "x", "template": "t.j2"}]},
         "ignore_errors": True, "register": "both"},
        {"name": "Check", "ansible.builtin.assert": {"that": [
            "checked is changed and checked.files[0].state == 'written'",
            "written.files | map(attribute='state') | list == ['written', 'written', 'written']",
            "again.files | map(attribute='state') | list == ['written', 'kept']",
            "missing is failed and missing.msg.startswith('unable to find the template nope.j2')",
            "both is failed and 'mutually exclusive' in both.msg",
        ]}},
    ])
    assert status == 0, output
    assert (out / "a.txt").read_text() == "bye localhost\n" and (out / "b.txt").read_text() == "hello localhost\n"
    assert (out / "c.txt").read_text() == "plain" and not (out / "d.txt").exists()
