#!/usr/bin/env python3
"""Stands for redis-cli reading commands on its standard input: answers each with a captured reply.

$REPLAY_REDIS_CLI names a JSON file {"steps": [...], "log": PATH}. Each line read takes the next
step: {"stdout": TEXT} prints TEXT, with <D> and <R> replaced by the delimiters its -d and -D name
(the captures were made with -d "<D>" -D "<R>"), {"stderr": TEXT} prints TEXT on the standard
error and exits 1 (as redis-cli reports a lost connection), {"sleep": S} waits S seconds first.
PATH receives the argv, whether REDISCLI_AUTH was set, and each command, as JSON lines.
"""

import json
import os
import sys
import time

with open(os.environ["REPLAY_REDIS_CLI"]) as config_file:
    config = json.load(config_file)
steps = list(config["steps"])
delimiters = {flag: value for flag, value in zip(sys.argv, sys.argv[1:], strict=False) if flag in ("-d", "-D")}
with open(config["log"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "auth": os.environ.get("REDISCLI_AUTH")}) + "\n")
    for line in sys.stdin.buffer:
        log.write(json.dumps({"command": line.decode().rstrip("\n")}) + "\n")
        log.flush()
        step = steps.pop(0) if steps else {"stdout": "ERR replay: no more steps\n<R>"}
        time.sleep(step.get("sleep", 0))
        if "stderr" in step:
            sys.stderr.write(step["stderr"])
            sys.stderr.flush()
            sys.exit(1)
        text = step["stdout"].replace("<D>", delimiters.get("-d", "\n")).replace("<R>", delimiters.get("-D", "\n"))
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.flush()
