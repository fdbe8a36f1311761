"""Reading systemd units on the target: `systemctl show`, /proc, clocks, bounded commands.

Shared by the systemd_unit_facts and journal_errors modules. The parsers are pure functions over
the text of `systemctl show` and of /proc files; the few functions that run commands or read files
are at the bottom. Only the standard library is used: this code runs on the target.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible.module_utils.common.locale import get_best_parsable_locale

# The properties read by the single `systemctl show` call, for every unit.
SHOW_PROPERTIES = (
    "Id",
    "LoadState",
    "ActiveState",
    "SubState",
    "MainPID",
    "ControlGroup",
    "ActiveEnterTimestampMonotonic",
    "NRestarts",
    "MemoryCurrent",
    "CPUUsageNSec",
    "TasksCurrent",
)

# Unit states in which the unit's current run has processes (its start is the last ActiveEnter).
RUNNING_STATES = ("active", "reloading", "deactivating")

# systemd prints an unset counter as "[not set]"; versions before 236 print UINT64_MAX instead.
_UINT64_MAX = 2**64 - 1

_UTC = timezone.utc

_DIGITS = re.compile(r"[0-9]+")

# `timeout` exits with 124 when the command ran out of time, 137 when it had to be killed.
_TIMEOUT_EXIT_CODES = (124, 137)
_KILL_AFTER_S = 5


def systemd_argument_spec():
    """Options shared by the modules that read systemd units."""
    return dict(
        units=dict(type="list", elements="str", required=True),
        timeout=dict(type="float", default=10.0),
    )


@dataclass(frozen=True)
class Clocks:
    """The target's wall clock and monotonic clock, read together, in microseconds."""

    realtime_us: int
    monotonic_us: int


@dataclass(frozen=True)
class ProcessSample:
    """What /proc says about one process."""

    pid: int
    comm: str
    cmdline: str
    rss_bytes: int
    cpu_ticks: int
    threads: int
    cgroups: tuple[str, ...]


# ---------------------------------------------------------------- pure parsers


def parse_show(text: str) -> list[dict[str, str]]:
    """Split `systemctl show` output into one property dict per unit (blocks end at a blank line)."""
    blocks: list[dict[str, str]] = []
    block: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if block:
                blocks.append(block)
                block = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            block[key] = value
    if block:
        blocks.append(block)
    return blocks


def parse_counter(value: str | None) -> int | None:
    """A systemd counter as an int; None when systemd did not measure it."""
    # Only ASCII digits: str.isdigit() also accepts "²", which int() refuses.
    digits = (value or "").strip()
    if not _DIGITS.fullmatch(digits):
        return None
    number = int(digits)  # int() does not strip every character that str.strip() does ("\x1f")
    return None if number >= _UINT64_MAX else number


def parse_proc_stat(text: str) -> tuple[str, int]:
    """(comm, utime + stime in clock ticks) from the text of /proc/PID/stat.

    comm is between the first "(" and the last ")": it may itself contain spaces and parentheses.
    Raises ValueError when the text is not a stat line.
    """
    open_paren, close_paren = text.index("("), text.rindex(")")
    comm = text[open_paren + 1:close_paren]
    fields = text[close_paren + 2:].split()
    # fields[0] is field 3 (state) of proc(5); utime and stime are fields 14 and 15.
    if len(fields) < 13:
        raise ValueError(f"{len(fields) + 2} fields in a stat line, not 15 or more")
    return comm, int(fields[11]) + int(fields[12])


def parse_proc_status(text: str) -> dict[str, int]:
    """rss_bytes (VmRSS) and threads from the text of /proc/PID/status; kernel threads have no VmRSS.

    Raises ValueError when a figure is not a number.
    """
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    rss_kib = int(fields["VmRSS"][0]) if fields.get("VmRSS") else 0
    threads = int(fields["Threads"][0]) if fields.get("Threads") else 1
    return {"rss_bytes": rss_kib * 1024, "threads": threads}


def parse_proc_cgroup(text: str) -> tuple[str, ...]:
    """The cgroup paths of every hierarchy listed in /proc/PID/cgroup ("ID:CONTROLLERS:PATH")."""
    return tuple(line.split(":", 2)[2] for line in text.splitlines() if line.count(":") >= 2)


def parse_cmdline(data: bytes) -> str:
    """/proc/PID/cmdline (arguments ended by NUL bytes) as one line."""
    return " ".join(arg.decode("utf-8", "replace") for arg in data.rstrip(b"\0").split(b"\0") if arg)


def in_control_group(cgroups: tuple[str, ...], control_group: str) -> bool:
    """Whether a process whose cgroup paths are `cgroups` runs in the unit's cgroup or below it.

    Which hierarchy carries the unit's path depends on the host: the name=systemd one on a cgroup v1
    host, the unified one on v2; any of them matching is enough.
    """
    return any(path == control_group or path.startswith(control_group + "/") for path in cgroups)


def needs_proc_fallback(props: dict[str, str]) -> bool:
    """Whether systemd left one of memory / CPU / tasks unmeasured for a unit that has processes."""
    measured = (parse_counter(props.get(key)) for key in ("MemoryCurrent", "CPUUsageNSec", "TasksCurrent"))
    return bool(props.get("ControlGroup")) and any(value is None for value in measured)


def iso_utc(realtime_us: int) -> str:
    """A wall-clock time in microseconds since the epoch as ISO 8601 UTC, to the second."""
    return datetime.fromtimestamp(realtime_us // 1_000_000, tz=_UTC).isoformat()


def uptime_us(props: dict[str, str], clocks: Clocks) -> int | None:
    """How long the unit's current run has been active, in microseconds; None when not running.

    From ActiveEnterTimestampMonotonic and the monotonic clock, which no wall-clock step moves,
    rather than by parsing the wall-clock text systemd prints in the local time zone.
    """
    entered_us = parse_counter(props.get("ActiveEnterTimestampMonotonic"))
    # A start later than the clock's now is no start of this boot.
    if props.get("ActiveState") not in RUNNING_STATES or not entered_us or entered_us > clocks.monotonic_us:
        return None
    return clocks.monotonic_us - entered_us


def current_start_us(props: dict[str, str], clocks: Clocks) -> int | None:
    """Wall-clock time (microseconds since the epoch) of the unit's current start, or None."""
    running_us = uptime_us(props, clocks)
    return clocks.realtime_us - running_us if running_us is not None else None


def _measured(by_systemd, by_proc):
    """A figure from systemd when it measured it, else from /proc, and which one it came from."""
    if by_systemd is not None:
        return by_systemd, "systemd"
    return by_proc, "proc" if by_proc is not None else None


def unit_facts(props: dict[str, str], main: ProcessSample | None, members: list[ProcessSample] | None,
               clocks: Clocks, clk_tck: int) -> dict:
    """The facts of one unit from its `systemctl show` properties and, where systemd did not
    measure, from its processes in /proc (`members`; None when /proc was not read for it)."""
    start_us = current_start_us(props, clocks)
    running_us = uptime_us(props, clocks)
    uptime_s = running_us / 1e6 if running_us is not None else None

    read_proc = members is not None
    memory, memory_source = _measured(
        parse_counter(props.get("MemoryCurrent")),
        sum(p.rss_bytes for p in members) if read_proc else None)
    cpu_ns = parse_counter(props.get("CPUUsageNSec"))
    cpu_s, cpu_source = _measured(
        cpu_ns / 1e9 if cpu_ns is not None else None,
        sum(p.cpu_ticks for p in members) / clk_tck if read_proc else None)
    tasks, tasks_source = _measured(
        parse_counter(props.get("TasksCurrent")),
        sum(p.threads for p in members) if read_proc else None)

    main_pid = parse_counter(props.get("MainPID")) or None
    exists = props.get("LoadState") != "not-found"
    return {
        "id": props.get("Id"),
        "exists": exists,
        "load_state": props.get("LoadState"),
        "active_state": props.get("ActiveState"),
        "sub_state": props.get("SubState"),
        "main_pid": main_pid,
        "process": {"comm": main.comm, "cmdline": main.cmdline} if main is not None else None,
        "active_since": iso_utc(start_us) if start_us is not None else None,
        "uptime_s": round(uptime_s, 1) if uptime_s is not None else None,
        "restarts": parse_counter(props.get("NRestarts")) if exists else None,
        "memory_bytes": memory,
        "cpu_s": round(cpu_s, 2) if cpu_s is not None else None,
        "cpu_avg_pct": round(100 * cpu_s / uptime_s, 2) if cpu_s is not None and uptime_s else None,
        "tasks": tasks,
        "sources": {"memory": memory_source, "cpu": cpu_source, "tasks": tasks_source},
    }


# ---------------------------------------------------------------- commands, files, clocks


def check_common_params(module) -> None:
    """Constraints the argument spec cannot express."""
    timeout = module.params["timeout"]
    if timeout <= 0:
        module.fail_json(msg=f"argument 'timeout' must be a positive number of seconds, not {timeout:g}")
    units = module.params["units"]
    if not units:
        module.fail_json(msg="argument 'units' must name at least one unit")
    for name in units:
        if not name or any(char in name for char in "*?["):
            module.fail_json(msg=f"argument 'units' must hold unit names, not patterns or empty names: {name!r}")


def use_parsable_locale(module) -> None:
    """Make every later run_command use a locale whose output the parsers understand."""
    locale = get_best_parsable_locale(module)
    module.run_command_environ_update = dict(LANG=locale, LC_ALL=locale, LC_MESSAGES=locale)


def run_bounded(module, argv: list[str], timeout_s: float, action: str) -> tuple[str, str]:
    """Run argv under `timeout`; return (stdout, stderr), or fail with "ACTION: CAUSE"."""
    bounded = [module.get_bin_path("timeout", required=True), f"--kill-after={_KILL_AFTER_S}", f"{timeout_s:g}"]
    rc, out, err = module.run_command(bounded + argv)
    if rc in _TIMEOUT_EXIT_CODES:
        module.fail_json(msg=f"{action}: no answer within {timeout_s:g} s", cmd=argv)
    if rc != 0:
        cause = "; ".join(line.strip() for line in (err or out).splitlines() if line.strip()) or f"exit status {rc}"
        module.fail_json(msg=f"{action}: {cause}", cmd=argv, rc=rc, stdout=out, stderr=err)
    return out, err


def show_units(module, units: list[str], timeout_s: float) -> dict[str, dict[str, str]]:
    """SHOW_PROPERTIES of every unit, keyed by the names in `units`, from one `systemctl show` call."""
    systemctl = module.get_bin_path("systemctl", required=True)
    argv = [systemctl, "show", "--no-pager", "-p", ",".join(SHOW_PROPERTIES), "--", *units]
    action = "reading unit properties with systemctl show"
    out, _ = run_bounded(module, argv, timeout_s, action)
    blocks = parse_show(out)
    # systemctl prints one block per name given, in the order given (patterns are refused earlier).
    if len(blocks) != len(units):
        module.fail_json(msg=f"{action}: {len(blocks)} blocks of properties for {len(units)} units", stdout=out)
    return dict(zip(units, blocks))


def units_with_members(units: list[str], blocks: list[dict[str, str]]) -> dict[str, list[str]]:
    """Each unit's members from `systemctl show -p ConsistsOf` blocks (one per unit, in order):
    the units that are PartOf it, such as Debian's postgresql@15-main.service of postgresql. Pure."""
    return {unit: sorted(block.get("ConsistsOf", "").split()) for unit, block in zip(units, blocks)}


def read_members(module) -> dict[str, list[str]]:
    """The members (systemd's ConsistsOf) of each unit of module.params["units"], from one `systemctl show` call."""
    check_common_params(module)
    use_parsable_locale(module)
    units = module.params["units"]
    systemctl = module.get_bin_path("systemctl", required=True)
    action = "reading the units' members with systemctl show"
    out, _ = run_bounded(module, [systemctl, "show", "--no-pager", "-p", "ConsistsOf", "--", *units],
                         module.params["timeout"], action)
    blocks = parse_show(out)
    if len(blocks) != len(units):
        module.fail_json(msg=f"{action}: {len(blocks)} blocks of properties for {len(units)} units", stdout=out)
    return units_with_members(units, blocks)


def read_clocks() -> Clocks:
    """The target's wall clock and CLOCK_MONOTONIC (the clock of systemd's *Monotonic stamps)."""
    return Clocks(realtime_us=time.time_ns() // 1000, monotonic_us=time.monotonic_ns() // 1000)


def read_process(proc_root: str, pid: int) -> ProcessSample | None:
    """One process from /proc; None when it exited while being read, or left text that is not /proc's."""
    base = os.path.join(proc_root, str(pid))
    try:
        with open(os.path.join(base, "stat"), encoding="utf-8", errors="replace") as stat_file:
            comm, cpu_ticks = parse_proc_stat(stat_file.read())
        with open(os.path.join(base, "status"), encoding="utf-8", errors="replace") as status_file:
            status = parse_proc_status(status_file.read())
        with open(os.path.join(base, "cgroup"), encoding="utf-8", errors="replace") as cgroup_file:
            cgroups = parse_proc_cgroup(cgroup_file.read())
        with open(os.path.join(base, "cmdline"), "rb") as cmdline_file:
            cmdline = parse_cmdline(cmdline_file.read())
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return ProcessSample(pid=pid, comm=comm, cmdline=cmdline, cgroups=cgroups, cpu_ticks=cpu_ticks, **status)


def read_processes(proc_root: str) -> list[ProcessSample]:
    """Every process in /proc, skipping those that exit while being read."""
    pids = sorted(int(name) for name in os.listdir(proc_root) if name.isdigit())
    samples = (read_process(proc_root, pid) for pid in pids)
    return [sample for sample in samples if sample is not None]


def clock_ticks_per_second() -> int:
    """SC_CLK_TCK: the unit of utime and stime in /proc/PID/stat."""
    return os.sysconf("SC_CLK_TCK")


PROC = "/proc"


def read_unit_facts(module) -> dict[str, dict]:
    """The systemd_unit_facts module's result: the facts of each unit of module.params["units"]."""
    check_common_params(module)
    use_parsable_locale(module)
    units = module.params["units"]

    props_of = show_units(module, units, module.params["timeout"])
    clocks = read_clocks()
    # /proc is read once, and only when systemd left some figure of a running unit unmeasured.
    processes = read_processes(PROC) if any(map(needs_proc_fallback, props_of.values())) else None
    by_pid = {process.pid: process for process in processes or ()}
    clk_tck = clock_ticks_per_second()

    facts = {}
    for name, props in props_of.items():
        main_pid = parse_counter(props.get("MainPID"))
        main_process = by_pid.get(main_pid) or (read_process(PROC, main_pid) if main_pid else None)
        members = None
        if processes is not None and needs_proc_fallback(props):
            members = [process for process in processes if in_control_group(process.cgroups, props["ControlGroup"])]
        facts[name] = unit_facts(props, main_process, members, clocks, clk_tck)
    return facts
