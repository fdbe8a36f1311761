#!/usr/bin/env python3
"""Key pattern counts over a million keys: redis_facts' one SCAN pass against redis-cli --scan (issue 13).

The goal: redis_facts counts the keys of every pattern in one SCAN pass over the whole database,
exactly, in no more time than `redis-cli --scan --pattern P` takes for one pattern on the same
host (ratio <= 1.0). Each round runs, in rotating order: the module over SSH with client=redispy,
with client=cli, and `redis-cli --scan --pattern P | wc -l` for the first pattern. Both sides are
timed as whole commands on the target, from their start to their end: the reference by a
monotonic clock in a python3 there (podman's start left out), the module's process by bench's
interpreter wrapper (benchlib.interpreter_wrapper: its Python's start, Ansible's unpacking of the
module, the imports, the connection and the pass; SSH left out). The module's own
`key_scan.elapsed_ms` (the pass alone) is shown beside it, against the same reference, whose
redis-cli start is a few ms of it. The counts are checked against `redis-cli --scan --pattern P |
wc -l` for every pattern, and the module must call them exact. It prints figures; it asserts
nothing.

The keys: when the database holds fewer than --keys, the script adds them with `redis-cli
--pipe`, SET commands generated on the target, spread over --prefixes (`DEBUG POPULATE` would be
faster, but Redis 7 refuses DEBUG unless enable-debug-command is set). A target that already holds
them (the production-size demo target) is used as it is.

    .venv/bin/python bench/redis_scan.py [--runs 3] [--inventory DIR [--host NAME]]

Without --inventory it starts a demo target (testbed/target up bench-redis), configures it with
playbooks/demo_target.yml, seeds it and removes it at the end. With --inventory (hosts.yml and
host_vars/, as testbed/target up --inventory writes them) the target is the podman container of
that host, as DEMO_CONTAINER_PREFIX names it.
"""

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from benchlib import (
    TARGET_PYTHON,
    Row,
    ansible_env,
    container_name,
    instrumented_inventory,
    interleaved,
    interpreter_wrapper,
    inventory_hosts,
    median,
    read_module_log,
    single_target,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 1.0
PREFIXES = ["products:list:", "products:item:", "orders:list:", "orders:item:", "session:", "user:profile:"]
PATTERNS = ["products:*", "orders:*", "session:*", "*:list:*"]

# Run on the target: SET commands in the Redis protocol, for redis-cli --pipe.
SEED = r"""
import sys
prefixes, first, last = [p.encode() for p in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3])
out, batch = sys.stdout.buffer, []
for i in range(first, last):
    key = prefixes[i % len(prefixes)] + b"%07d" % i
    batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(key), key))
    if len(batch) == 10000:
        out.write(b"".join(batch))
        batch = []
out.write(b"".join(batch))
"""

# Run on the target: the reference, timed there; its count, wall and CPU seconds as JSON.
REFERENCE = r"""
import json, resource, subprocess, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
before, started = cpu(), time.monotonic()
run = subprocess.run(["sh", "-c", 'redis-cli -n "$1" --scan --pattern "$2" | wc -l', "sh", sys.argv[1], sys.argv[2]],
                     capture_output=True, text=True, check=True)
print(json.dumps({"count": int(run.stdout), "wall_s": time.monotonic() - started, "cpu_s": cpu() - before}))
"""


INSTRUMENT = "/tmp/deploy-baseline-bench-redis"


class Target:
    """The target's container, reached with podman exec, for what runs beside the module."""

    def __init__(self, host: str):
        self.container = container_name(host)

    def install_wrapper(self) -> str:
        """bench's interpreter wrapper on the target; its path."""
        self.run("sh", "-c", f"mkdir -p {INSTRUMENT} && cat > {INSTRUMENT}/python && chmod 755 {INSTRUMENT}/python",
                 stdin=interpreter_wrapper(TARGET_PYTHON, f"{INSTRUMENT}/modules.jsonl"))
        return f"{INSTRUMENT}/python"

    def server_cpu_s(self) -> float:
        """CPU seconds redis-server has used so far (user + system, /proc/PID/stat)."""
        fields = self.run("sh", "-c", "cat /proc/$(pidof redis-server)/stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / 100  # clock ticks: USER_HZ is 100 on Linux

    def with_server_cpu(self, measure):
        """measure() and, in its result, the CPU redis-server spent meanwhile (server_cpu_s)."""
        before = self.server_cpu_s()
        result = measure()
        return dict(result, server_cpu_s=self.server_cpu_s() - before)

    def module_run(self, module: str) -> dict:
        """The one `module` run the wrapper logged since the last call: its wall_s and cpu_s."""
        log = f"{INSTRUMENT}/modules.jsonl"
        logged = read_module_log(self.run("sh", "-c", f"cat {log} && : > {log}"))
        run, = [record for record in logged if record["module"] == module]
        return run

    def remove_wrapper(self) -> None:
        self.run("rm", "-rf", INSTRUMENT)

    def run(self, *command: str, stdin: str | None = None) -> str:
        done = subprocess.run(["podman", "exec", "-i", self.container, *command], input=stdin,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"on {self.container}: {' '.join(command)[:80]} failed: {done.stderr.strip()}")
        return done.stdout

    def db_keys(self, db: int) -> int:
        return int(self.run("redis-cli", "-n", str(db), "DBSIZE").strip())

    def seed(self, db: int, keys: int) -> None:
        have = self.db_keys(db)
        if have >= keys:
            print(f"redis: db{db} holds {have:,} keys; used as it is", flush=True)
            return
        self.run("sh", "-c", f'python3 -c "$1" "$2" {have} {keys} | redis-cli -n {db} --pipe > /dev/null',
                 "sh", SEED, ",".join(PREFIXES))
        print(f"redis: db{db} seeded from {have:,} to {self.db_keys(db):,} keys", flush=True)

    def reference(self, db: int, pattern: str) -> dict:
        return json.loads(self.run("python3", "-c", REFERENCE, str(db), pattern))


def module_pass(target: Target, inventory: Path, host: str, home: Path, client: str, patterns: list[str], db: int,
                count: int) -> dict:
    """redis_facts over SSH, as the baseline runs it; its key_scan, the wall and CPU time of its
    process on the target (wall_s, cpu_s: with redis-cli's for client=cli) and the pass's (scan_s)."""
    args = json.dumps({"client": client, "db": db, "key_patterns": patterns, "scan_count": count,
                       "scan_max_seconds": 600})
    done = subprocess.run([tool("ansible"), "-i", str(inventory), host, "-m", "redis_facts", "-a", args, "-o"],
                          env=ansible_env(home), capture_output=True, text=True)
    try:
        result = json.loads(done.stdout.split(" => ", 1)[1])
    except (IndexError, ValueError):
        raise SystemExit(f"redis_facts on {host} gave no result: {done.stdout[-500:]}{done.stderr[-500:]}") from None
    scan = (result.get("redis") or {}).get("key_scan")
    if not scan or scan["error"] or not scan["complete"]:
        raise SystemExit(f"redis_facts on {host}: no complete pass: {result.get('msg') or scan}")
    run = target.module_run("redis_facts")
    return dict(scan, wall_s=run["wall_s"], cpu_s=run["cpu_s"], scan_s=scan["elapsed_ms"] / 1000)


def measure(inventory: Path, host: str, args) -> tuple[dict, int, dict]:
    """Seed when needed, read the reference counts, then the interleaved rounds."""
    target = Target(host)
    target.seed(args.db, args.keys)
    db_keys = target.db_keys(args.db)
    expected = {pattern: target.reference(args.db, pattern)["count"] for pattern in args.patterns}
    print("redis-cli --scan --pattern P | wc -l: " + ", ".join(f"{p} {n:,}" for p, n in expected.items()), flush=True)

    def report(number, name, result):
        alone = f" (the pass {result['scan_s']:.2f} s)" if "scan_s" in result else ""
        print(f"round {number}: {name}: {result['wall_s']:.2f} s{alone}, CPU {result['cpu_s']:.2f} s, "
              f"redis-server's {result['server_cpu_s']:.2f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-redis-") as work:
        instrumented = instrumented_inventory(inventory, host, Path(work) / "inventory", target.install_wrapper())
        variants = {client: (lambda client=client: target.with_server_cpu(lambda: module_pass(
                        target, instrumented, host, Path(work) / "home", client, args.patterns, args.db, args.count)))
                    for client in ("redispy", "cli")}
        variants["reference"] = lambda: target.with_server_cpu(lambda: target.reference(args.db, args.patterns[0]))
        try:
            return interleaved(variants, args.runs, report=report), db_keys, expected
        finally:
            target.remove_wrapper()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", help="also write the table's rows there, as JSON (bench/run)")
    parser.add_argument("--inventory", help="an inventory of a running target (else one is started)")
    parser.add_argument("--host", help="the host of --inventory to use (default: its first)")
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys the database must hold (seeded when fewer)")
    parser.add_argument("--db", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000, help="redis_facts' scan_count")
    parser.add_argument("--patterns", nargs="+", default=PATTERNS)
    args = parser.parse_args()

    if args.inventory:
        inventory = Path(args.inventory)
        results, db_keys, expected = measure(inventory, args.host or inventory_hosts(inventory)[0], args)
    else:
        with single_target(None, "bench-redis") as (inventory, host):
            results, db_keys, expected = measure(inventory, host, args)

    reference_s = median(r["wall_s"] for r in results["reference"])
    reference_cpu_s = median(r["cpu_s"] for r in results["reference"])
    reference_server_s = median(r["server_cpu_s"] for r in results["reference"])
    rows = []
    reference = (f"redis-cli --scan --pattern {args.patterns[0]} | wc -l: {reference_s:.2f} s "
                 f"(its CPU {reference_cpu_s:.2f} s)")
    for client in ("redispy", "cli"):
        passes = results[client]
        ours_s = median(p["wall_s"] for p in passes)
        scan_s = median(p["scan_s"] for p in passes)
        ratio = ours_s / reference_s
        equal = [all(p["counts"][pattern] == expected[pattern] for p in passes) for pattern in args.patterns]
        exact = all(p["exact"] for p in passes)
        rows.append(Row(
            f"redis key patterns: one pass, {len(args.patterns)} patterns, {db_keys:,} keys, client={client} "
            f"(whole commands on the target)", f"{ours_s:.2f} s", reference, f"{ratio:.2f}x",
            f"<= {GOAL_RATIO:.1f}x", verdict(ratio <= GOAL_RATIO)))
        rows.append(Row(
            f"redis key patterns: the pass alone (key_scan.elapsed_ms), client={client}", f"{scan_s:.2f} s",
            reference, f"{scan_s / reference_s:.2f}x", "-", "-"))
        cpu_s = median(p["cpu_s"] for p in passes)
        server_s = median(p["server_cpu_s"] for p in passes)
        rows.append(Row(
            f"redis key patterns: CPU of the command's processes (redis-server's apart), client={client}",
            f"{cpu_s:.2f} s (redis-server {server_s:.2f} s)",
            f"{reference_cpu_s:.2f} s (redis-server {reference_server_s:.2f} s)", f"{cpu_s / reference_cpu_s:.2f}x",
            "-", "-"))
        rows.append(Row(
            f"redis key patterns: counts = redis-cli --scan | wc -l, client={client}",
            f"{sum(equal)}/{len(equal)} equal, exact={exact}",
            ", ".join(f"{p} {n:,}" for p, n in expected.items()), "-", "all equal, exact",
            verdict(all(equal) and exact)))
    write_rows(args.rows, rows)


if __name__ == "__main__":
    main()
