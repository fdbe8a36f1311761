"""What the benchmarks under bench/ share: demo targets, timed runs, interleaving, the table's rows.

The machines these run on are shared and noisy, so a benchmark never quotes a single absolute
time: it runs what it compares side by side, alternating the order round by round, and quotes
the ratio of the medians. Standard library only, so that bench/run can use it with any python3.
"""

import contextlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT / ".venv" / "bin"
TARGET_SCRIPT = PROJECT / "testbed" / "target"
DEMO_GROUP_VARS = PROJECT / "inventory" / "demo" / "group_vars" / "erp.yml"
CALLBACK_PLUGINS = PROJECT / "bench" / "callback_plugins"
CONTAINERS_CONF = str(PROJECT / "testbed" / "containers.conf")
TARGET_PYTHON = "/usr/bin/python3"  # the demo image's Python, which the bench scripts wrap on the target
# testbed/target names the container of target NAME with this prefix (DEMO_CONTAINER_PREFIX there too).
CONTAINER_PREFIX = os.environ.get("DEMO_CONTAINER_PREFIX", "deploy-baseline-")


def tool(name: str) -> str:
    """The project's virtual environment's copy of a command when there is one, else PATH's."""
    path = VENV_BIN / name
    return str(path) if path.exists() else name


def ansible_env(home: Path, task_times: Path | None = None, project: Path = PROJECT) -> dict:
    """Environment for an Ansible run with the project's configuration and its state kept in `home`.

    With `task_times`, the task_times callback records each task's start and end there. `project`
    is another copy of the project whose configuration to use (bench/fleet_cost.py --compare).
    """
    env = dict(os.environ, ANSIBLE_CONFIG=str(project / "ansible.cfg"), ANSIBLE_HOME=str(home),
               ANSIBLE_NOCOLOR="1")
    if task_times is not None:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_PLUGINS), ANSIBLE_CALLBACKS_ENABLED="task_times",
                   BENCH_TASK_TIMES=str(task_times))
    return env


# Timed runs ---------------------------------------------------------------------------------

@dataclass
class Timing:
    wall_s: float
    cpu_s: float  # user + system seconds of the command and the children it waited for
    started: float  # time.monotonic() when the command was started


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict | None = None, log: Path | None = None) -> Timing:
    """Run a command to its end, timing it; on failure show the end of its output and stop."""
    cpu, started = children_cpu_s(), time.monotonic()
    run = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timing = Timing(wall_s=time.monotonic() - started, cpu_s=children_cpu_s() - cpu, started=started)
    if log is not None:
        log.write_text(run.stdout)
    if run.returncode != 0:
        tail = "\n".join(run.stdout.splitlines()[-25:])
        raise SystemExit(f"{' '.join(command[:3])} ... failed (exit {run.returncode}):\n{tail}")
    return timing


def ignored_failures(log: Path) -> int:
    """Failures an ignore_errors let pass, from a playbook's recap: a module that failed is no measure."""
    return sum(int(n) for n in re.findall(r"\bignored=(\d+)", log.read_text()))


def interleaved(variants: dict[str, Callable[[], object]], runs: int, warmup: bool | list[str] = True,
                report: Callable[[int, str, object], None] | None = None) -> dict[str, list]:
    """Each variant once per round, the order rotating round by round (A B, B A, ...).

    A warm-up round (not kept; of every variant, or of those named) comes first, so that SSH
    connections and the page cache are in the same state for every kept round.
    `report(round, name, result)` is called after each kept measurement.
    """
    names = list(variants)
    results: dict[str, list] = {name: [] for name in names}
    for name in names if warmup is True else (warmup or []):
        variants[name]()
    for number in range(runs):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            result = variants[name]()
            results[name].append(result)
            if report is not None:
                report(number + 1, name, result)
    return results


def median(values) -> float:
    return statistics.median(values)


# The table's rows ---------------------------------------------------------------------------

@dataclass
class Row:
    """One line of bench/run's table: a figure, ours against the reference, the goal."""
    figure: str
    ours: str
    reference: str
    ratio: str
    goal: str
    met: str  # "yes", "no", or "-" where there is no goal to meet (a figure shown for context)


def verdict(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "no")


def write_rows(path: str | None, rows: list[Row]) -> None:
    """Print the rows; with a path (bench/run's --rows), also write them there as JSON."""
    print_table(rows)
    if path:
        Path(path).write_text(json.dumps([asdict(row) for row in rows], indent=1))


def read_rows(path: Path) -> list[Row]:
    return [Row(**row) for row in json.loads(path.read_text())]


def print_table(rows: list[Row], out=sys.stdout) -> None:
    header = Row("figure", "ours", "reference", "ratio", "goal", "met?")
    fields = list(asdict(header))
    widths = {f: max(len(getattr(row, f)) for row in [header, *rows]) for f in fields}

    def line(row: Row) -> str:
        return "| " + " | ".join(getattr(row, f).ljust(widths[f]) for f in fields) + " |"

    print(line(header), file=out)
    print("|" + "|".join("-" * (widths[f] + 2) for f in fields) + "|", file=out)
    for row in rows:
        print(line(row), file=out)


# Demo targets ---------------------------------------------------------------------------------

def inventory_hosts(inventory: Path) -> list[str]:
    """The targets of an inventory DemoTargets wrote, in the order they were named."""
    return json.loads((inventory / "targets.json").read_text())


def host_vars(inventory: Path, host: str) -> dict:
    """The connection variables testbed/target wrote for a host (flat "key: value" lines)."""
    values = {}
    for line in (inventory / "host_vars" / f"{host}.yml").read_text().splitlines():
        key, sep, value = line.partition(": ")
        if sep and not line.startswith("#"):
            values[key] = value
    return values


def container_name(host: str) -> str:
    return CONTAINER_PREFIX + host


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM and SIGHUP end the benchmark as CTRL-C does: through `finally`, which cleans up."""
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class DemoTargets:
    """Demo targets started with testbed/target, configured over SSH by playbooks/demo_target.yml.

    One target is configured as a user would; for several, that target is then stopped and saved
    as an image, from which all of them start already configured (configuring 20 at once on two
    cores takes about 7 minutes, this about 1.5). The inventory (the targets in the group erp,
    the demo inventory's group variables, then `group_vars`) is `self.inventory`. The targets,
    and the image, are removed on leaving the `with` block, whatever ends it (an error, CTRL-C,
    SIGTERM).
    """

    def __init__(self, names: list[str], parallel: int = 10, group_vars: dict | None = None):
        self.names = names
        self.parallel = parallel
        self.group_vars = group_vars or {}  # over the demo inventory's, e.g. {"demo_target_size": "production"}
        self._workdir = Path(tempfile.mkdtemp(prefix="bench-targets-"))
        self.inventory = self._workdir / "inventory"
        self._env = dict(os.environ, CONTAINERS_CONF=str(PROJECT / "testbed" / "containers.conf"),
                         DEMO_STATE_DIR=str(self._workdir / "state"))
        # Named after the containers (DEMO_CONTAINER_PREFIX), so that two work trees' images stay apart.
        self._image = f"localhost/{CONTAINER_PREFIX}bench-{os.getpid()}"
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "DemoTargets":
        self._stack.enter_context(terminate_as_exit())
        self._stack.callback(shutil.rmtree, self._workdir, ignore_errors=True)
        try:
            if len(self.names) == 1:
                self._stack.callback(self._remove, self.names)
                self._start(self.inventory, self.names)
                self._configure(self.inventory)
            else:
                self._start_from_configured_image()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _podman(self, *args: str) -> None:
        subprocess.run(["podman", *args], env=self._env, check=True, capture_output=True)

    def _start(self, inventory: Path, names: list[str], image: str | None = None) -> None:
        started = time.monotonic()
        (inventory / "group_vars").mkdir(parents=True)
        extra = "".join(f"{name}: {json.dumps(value)}\n" for name, value in self.group_vars.items())
        (inventory / "group_vars" / "erp.yml").write_text(DEMO_GROUP_VARS.read_text() + extra)
        hosts = ", ".join(f"{name}: {{}}" for name in names)
        (inventory / "hosts.yml").write_text(f"all: {{children: {{erp: {{hosts: {{{hosts}}}}}}}}}\n")
        (inventory / "targets.json").write_text(json.dumps(names))
        env = dict(self._env, DEMO_IMAGE=image) if image else self._env

        def up(name: str) -> None:
            vars_file = inventory / "host_vars" / f"{name}.yml"
            run = subprocess.run([str(TARGET_SCRIPT), "up", name, "--inventory", str(vars_file)], env=env,
                                 capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"testbed/target up {name} failed: {run.stderr.strip()}")

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            list(pool.map(up, names))
        print(f"targets: {len(names)} started in {time.monotonic() - started:.0f} s", flush=True)

    def _configure(self, inventory: Path) -> None:
        started = time.monotonic()
        timed([tool("ansible-playbook"), "-i", str(inventory), str(PROJECT / "playbooks" / "demo_target.yml")],
              env=ansible_env(self._workdir / "ansible-home"), log=self._workdir / "demo_target.log")
        print(f"targets: configured by playbooks/demo_target.yml in {time.monotonic() - started:.0f} s", flush=True)

    def _start_from_configured_image(self) -> None:
        template = f"{self.names[0]}-template"
        self._stack.callback(subprocess.run, ["podman", "image", "rm", "--force", self._image], env=self._env,
                             capture_output=True)
        self._stack.callback(self._remove, [template])
        self._start(self._workdir / "template", [template])
        self._configure(self._workdir / "template")
        started = time.monotonic()
        # Each clone gets a machine id of its own at boot; a clean stop flushes PostgreSQL to disk.
        self._podman("exec", container_name(template), "truncate", "-s", "0", "/etc/machine-id")
        self._podman("stop", "--time", "60", container_name(template))
        self._podman("commit", "--quiet", container_name(template), self._image)
        self._remove([template])
        print(f"targets: saved as the image {self._image} in {time.monotonic() - started:.0f} s", flush=True)
        self._stack.callback(self._remove, self.names)
        self._start(self.inventory, self.names, image=self._image)

    def _remove(self, names: list[str]) -> None:
        def down(name: str) -> None:
            subprocess.run([str(TARGET_SCRIPT), "down", name], env=self._env, capture_output=True)

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            list(pool.map(down, names))
        print(f"targets: {len(names)} removed", flush=True)


@contextlib.contextmanager
def single_target(inventory: str | None, name: str = "bench-one") -> Iterator[tuple[Path, str]]:
    """(inventory, host) of one configured demo target: the given inventory's first, or a new one."""
    if inventory:
        yield Path(inventory), inventory_hosts(Path(inventory))[0]
        return
    with DemoTargets([name]) as targets:
        yield targets.inventory, name


# Resource usage of the interpreter's processes ---------------------------------------------

WRAPPER_TEMPLATE = '''#!{real}
# Written by deploy-baseline's bench/: Ansible runs this as the Python interpreter; it runs the
# real one on the same module (piped on stdin, or a file), then appends the module's CPU time and
# memory to a log, one JSON line per module: max_rss_kib, the process's peak RSS (VmHWM, from
# wait4; with the commands it waited for, the largest of their peaks), which counts the pages of
# the files it maps; max_anon_kib, the peak of its anonymous memory (RssAnon, read every 20 ms),
# what it holds itself.
import json, os, re, subprocess, sys, threading, time

args = sys.argv[1:]
if args:
    with open(args[0], "rb") as module_file:
        code = module_file.read()
    payload = None
else:
    code = payload = sys.stdin.buffer.read()
found = re.search(rb"ansible_module='([^']+)'", code)
started = time.monotonic()
child = subprocess.Popen([{real!r}, *args], stdin=subprocess.PIPE if payload is not None else None)
anon_kib = [0]


def watch_anonymous_memory():
    while True:
        try:
            with open(f"/proc/{{child.pid}}/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        anon_kib[0] = max(anon_kib[0], int(line.split()[1]))
        except (OSError, ValueError):
            return
        time.sleep(0.02)


threading.Thread(target=watch_anonymous_memory, daemon=True).start()
if payload is not None:
    child.stdin.write(payload)
    child.stdin.close()
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
record = {{"module": found.group(1).decode() if found else "other", "uid": os.getuid(),
          "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_kib": usage.ru_maxrss, "max_anon_kib": anon_kib[0],
          "wall_s": time.monotonic() - started}}
log = os.open({log!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
os.write(log, (json.dumps(record) + "\\n").encode())
os.close(log)
sys.exit(child.returncode)
'''


def interpreter_wrapper(real_python: str, log: str) -> str:
    """Text of a Python "interpreter" that runs `real_python` and logs each module's resource usage."""
    return WRAPPER_TEMPLATE.format(real=real_python, log=log)


def instrumented_inventory(inventory: Path, host: str, copy: Path, python: str) -> Path:
    """A copy (at `copy`) of a DemoTargets inventory whose `host` runs its modules with `python`
    (a wrapper of interpreter_wrapper's): hosts.yml and group_vars as they are."""
    (copy / "host_vars").mkdir(parents=True)
    (copy / "hosts.yml").write_text((inventory / "hosts.yml").read_text())
    if (inventory / "targets.json").exists():
        (copy / "targets.json").write_text((inventory / "targets.json").read_text())
    if (inventory / "group_vars").exists():
        (copy / "group_vars").symlink_to((inventory / "group_vars").resolve())
    text = (inventory / "host_vars" / f"{host}.yml").read_text()
    (copy / "host_vars" / f"{host}.yml").write_text(text + f"ansible_python_interpreter: {python}\n")
    return copy


def read_module_log(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
