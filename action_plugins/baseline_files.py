"""Action plugin: write files on the controller, each atomically, in the task's own process.

Documented in library/baseline_files.py. The reports, baselines and metrics of a run are rendered
and written here rather than by the template lookup (which deep-copies every variable of the host
first) and the copy module (which starts a Python process for each file).
"""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

ARGUMENT_SPEC = dict(
    files=dict(type="list", elements="dict", required=True, options=dict(
        path=dict(type="path", required=True),
        content=dict(type="str", no_log=False),
        template=dict(type="str"),
        force=dict(type="bool", default=True),
    ), mutually_exclusive=[("content", "template")], required_one_of=[("content", "template")]),
    mode=dict(type="raw", default="0644"),
)


class WriteError(Exception):
    pass


def file_mode(mode) -> int:
    """The mode option as a number: an octal string ("0644") or an int. Pure."""
    try:
        return int(mode, 8) if isinstance(mode, str) else int(mode)
    except ValueError:
        raise WriteError(f"argument 'mode' must be an octal mode such as '0644', not {mode!r}") from None


def _same_content(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as existing:
            return existing.read() == data
    except FileNotFoundError:
        return False


def write_file(path: str, data: bytes, force: bool, mode: int, check: bool) -> str:
    """Write one file, atomically: what state it is in ('written', 'unchanged', 'kept').

    The data goes to a temporary file in the same folder, then takes the file's name at once: a
    reader sees the old content or the new one, never a part. Without force an existing file is
    kept (os.link fails rather than replace it, even against another writer).
    """
    if os.path.lexists(path):
        if _same_content(path, data):
            return "unchanged"
        if not force:
            return "kept"
    if check:
        return "written"
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"unable to write {path}: cannot create its folder {folder}: {exc.strerror}") from exc
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.")
    except OSError as exc:
        raise WriteError(f"unable to write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        if force:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                return "kept"
    except OSError as exc:
        raise WriteError(f"unable to write {path}: {exc.strerror or exc}") from exc
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    return "written"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        written, rendered = [], {}
        try:
            mode = file_mode(args["mode"])
            for item in args["files"]:
                if item["template"] is not None and item["template"] not in rendered:
                    rendered[item["template"]] = self._render(item["template"], task_vars)
                content = item["content"] if item["template"] is None else rendered[item["template"]]
                state = write_file(item["path"], to_bytes(content), item["force"], mode, self._task.check_mode)
                written.append(dict(path=item["path"], state=state))
        except WriteError as exc:
            return dict(result, failed=True, msg=str(exc), files=written)
        return dict(result, changed=any(item["state"] == "written" for item in written), files=written)

    def _render(self, name: str, task_vars: dict) -> str:
        """A template of the role's (or the playbook's) templates folder, rendered with the task's
        variables, as the template module renders it."""
        try:
            source = self._find_needle("templates", name)
        except AnsibleError as exc:
            raise WriteError(f"unable to find the template {name}: {exc.message}") from exc
        searchpath = [*task_vars.get("ansible_search_path", []), self._loader._basedir, os.path.dirname(source)]
        templar = self._templar.copy_with_new_env(
            searchpath=[path for folder in searchpath for path in (os.path.join(folder, "templates"), folder)],
            available_variables=task_vars)
        return templar.template(trust_as_template(self._loader.get_text_file_contents(source)),
                                escape_backslashes=False) or ""
