"""Baselines kept on the measured host: read the newest, write one atomically, prune the oldest.

The folder holds one file per baseline, named by its UTC time (20261129T181502Z.yml), so that
the names sort as the times do. Used by the baseline_history module (read and write) and by
baseline_facts (read, in the same module run that measures the host). Standard library only.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile

BASELINE_NAME = re.compile(r"^(\d{8}T\d{6}Z)\.yml$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def history_argument_spec() -> dict:
    """The read options, shared by baseline_history and baseline_facts' history option."""
    return dict(
        path=dict(type="path", required=True),
        read=dict(type="int", default=0),
    )


class HistoryError(Exception):
    pass


def baseline_names(folder: str) -> list[str]:
    """The baseline files of the folder, oldest first; [] when the folder does not exist."""
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise HistoryError(f"unable to read the baselines in {folder}: {exc.strerror or exc}") from exc
    return sorted(name for name in entries if BASELINE_NAME.match(name))


def read_history(folder: str, read: int) -> dict:
    """{folder, count, baselines: [{name, text}]}: how many baselines the folder holds, and the
    newest `read` of them (oldest first; a negative number reads them all)."""
    names = baseline_names(folder)
    chosen = names if read < 0 else names[len(names) - read:] if read else []
    baselines = []
    for name in chosen:
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as baseline:
                baselines.append({"name": name, "text": baseline.read()})
        except OSError as exc:
            raise HistoryError(f"unable to read the baseline {path}: {exc.strerror or exc}") from exc
    return {"folder": folder, "count": len(names), "baselines": baselines}


def to_prune(names: list[str], keep: int, max_age_days: float, now: datetime.datetime) -> list[str]:
    """The baselines retention removes (names oldest first): all but the newest `keep`, and those
    older than `max_age_days`; the newest one always stays. Pure."""
    if not names:
        return []
    oldest_kept = now - datetime.timedelta(days=max_age_days)
    pruned = []
    for number, name in enumerate(names[:-1]):
        stamp = datetime.datetime.strptime(BASELINE_NAME.match(name).group(1), STAMP_FORMAT).replace(
            tzinfo=datetime.timezone.utc)
        if number < len(names) - keep or stamp < oldest_kept:
            pruned.append(name)
    return pruned


def write_baseline(folder: str, name: str, text: str, keep: int, max_age_days: float,
                   now: datetime.datetime, check: bool) -> dict:
    """Write one baseline atomically (a temporary file of the folder renamed in place), then prune.

    {path, changed, pruned, count}: count is what the folder holds afterwards. An existing file of
    the same name is kept as it is (one baseline per host and second). In check mode nothing is
    written or removed; the result says what would be.
    """
    if not BASELINE_NAME.match(name):
        raise HistoryError(f"unable to write the baseline {name!r}: "
                           "its name must be a UTC time such as 20261129T181502Z.yml")
    path = os.path.join(folder, name)
    names = baseline_names(folder)
    changed = name not in names
    if changed and not check:
        try:
            os.makedirs(folder, mode=0o755, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        except OSError as exc:
            raise HistoryError(f"unable to write the baseline {path}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, 0o644)
            os.link(temporary, path)
        except FileExistsError:
            changed = False
        except OSError as exc:
            raise HistoryError(f"unable to write the baseline {path}: {exc.strerror or exc}") from exc
        finally:
            os.unlink(temporary)
    if changed:
        names = sorted([*names, name])
    pruned = to_prune(names, keep, max_age_days, now)
    for old in pruned if not check else []:
        try:
            os.unlink(os.path.join(folder, old))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise HistoryError(f"unable to remove the old baseline {os.path.join(folder, old)}: "
                               f"{exc.strerror or exc}") from exc
    return {"path": path, "changed": changed or bool(pruned), "pruned": pruned, "count": len(names) - len(pruned)}
