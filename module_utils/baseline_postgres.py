"""PostgreSQL for the deploy-baseline fact modules: shared options, the psql run, its parsers.

The modules read PostgreSQL through the ``psql`` of the target (package postgresql-client), so
nothing beyond what Debian and Ubuntu install with the server is needed. One psql run executes
one script; the script prints JSON documents that the pure functions below turn into facts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ansible.module_utils.common.locale import get_best_parsable_locale

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

# psql's exit code when the connection failed (man psql, EXIT STATUS); a failed statement of the
# script gives 3. 124 and 137 come from coreutils' timeout.
PSQL_CONNECTION_FAILED = 2
TIMED_OUT = (124, 137)

# Read by psql from stdin with the variables statement_timeout_ms, top_statements, query_chars.
# The comment in each statement lets the last one leave this script's own statements out of
# pg_stat_statements' ranking.
FACTS_SCRIPT = r"""
SET /* deploy-baseline postgres_facts */ statement_timeout = :statement_timeout_ms;
SELECT /* deploy-baseline postgres_facts */
       installed AS statements_installed,
       coalesce(loaded::text, '') AS statements_loaded,
       installed AND loaded IS NOT false AS statements_readable,
       current_setting('server_version_num')::int >= 130000 AS statements_exec_time
FROM (SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed,
             -- null when the role may not see the setting (not a superuser or pg_read_all_settings)
             'pg_stat_statements' = ANY (string_to_array(translate(
                 (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), ' "', ''), ','))
               AS loaded) AS statements
\gset
SELECT /* deploy-baseline postgres_facts */ json_build_object(
  'server_version', split_part(current_setting('server_version'), ' ', 1),
  'server_version_num', current_setting('server_version_num')::int,
  'database', current_database(),
  'database_size_bytes', db.size,
  'database_size_human', pg_size_pretty(db.size),
  'user_indexes', (SELECT count(*) FROM pg_stat_user_indexes),
  'invalid_indexes', (SELECT count(*) FROM pg_stat_user_indexes AS u
                      JOIN pg_index AS i USING (indexrelid) WHERE NOT i.indisvalid),
  'unused_indexes', (SELECT count(*) FROM pg_stat_user_indexes WHERE idx_scan = 0),
  'connections', (SELECT json_build_object(
                    'active', count(*) FILTER (WHERE state = 'active'),
                    'total', count(*),
                    'max', current_setting('max_connections')::int)
                  FROM pg_stat_activity
                  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()),
  'cache_hit_ratio_pct', (SELECT round(100.0 * blks_hit / nullif(blks_hit + blks_read, 0), 2)
                          FROM pg_stat_database WHERE datname = current_database()),
  'deadlocks', (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()),
  'longest_query_s', (SELECT round(extract(epoch FROM max(clock_timestamp() - query_start))::numeric, 3)
                      FROM pg_stat_activity
                      WHERE backend_type = 'client backend' AND state <> 'idle'
                        AND pid <> pg_backend_pid()),
  'statements_installed', :'statements_installed'::boolean,
  'statements_loaded', nullif(:'statements_loaded', '')::boolean)
FROM (SELECT pg_database_size(current_database()) AS size) AS db;
\if :statements_readable
\if :statements_exec_time
\set statements_mean mean_exec_time
\set statements_total total_exec_time
\else
\set statements_mean mean_time
\set statements_total total_time
\endif
SELECT /* deploy-baseline postgres_facts */ coalesce(json_agg(s), '[]')
FROM (SELECT left(regexp_replace(query, '\s+', ' ', 'g'), :query_chars) AS query,
             calls,
             round(:statements_mean::numeric, 3) AS mean_ms,
             round(:statements_total::numeric, 3) AS total_ms,
             rows
      FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT LIKE '%deploy-baseline postgres_facts%'
      ORDER BY :statements_mean DESC
      LIMIT :top_statements) AS s;
\endif
"""

# Longest statement text kept in slowest_statements.
QUERY_CHARS = 200

# Kinds of fault, first match wins; each is a fact of the target, not a failure of the task.
_CONNECT_FAULTS = (
    ("timeout", re.compile(r"timeout expired")),
    ("database_missing", re.compile(r'database ".*" does not exist')),
    ("certificate_invalid", re.compile(r'does not match host name|certificate verify failed|'
                                       r'root certificate file ".*" does not exist')),
    ("tls_failed", re.compile(r"server does not support SSL|SSL error|SSL SYSCALL error")),
    ("auth_required", re.compile(r"no password supplied")),
    ("auth_failed", re.compile(r'authentication failed|role ".*" does not exist|no pg_hba\.conf entry')),
    ("server_down", re.compile(r"Connection refused|No such file or directory|"
                               r"the database system is (starting up|shutting down)|"
                               r"terminating connection due to administrator command|"
                               r"server closed the connection unexpectedly")),
)
_QUERY_FAULTS = (
    ("timeout", re.compile(r"canceling statement due to statement timeout")),
)

# Every key of the `postgres` result, in the order the module documents them.
FACT_KEYS = (
    "reachable", "error_kind", "error", "database", "server_version", "server_version_num",
    "database_size_bytes", "database_size_human", "user_indexes", "invalid_indexes", "unused_indexes",
    "connections", "cache_hit_ratio_pct", "deadlocks", "longest_query_s",
    "slowest_statements", "slowest_statements_reason",
)
# The keys of the script's first document that the result takes as they are.
_FIGURES = FACT_KEYS[4:15]


def postgres_argument_spec() -> dict:
    """Options shared by the modules that read PostgreSQL through psql."""
    return dict(
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", no_log=True),
        login_host=dict(type="str"),
        login_unix_socket=dict(type="path"),
        login_port=dict(type="int", default=5432),
        ssl_mode=dict(type="str", choices=SSL_MODES, default="prefer"),
        ca_cert=dict(type="path"),
        timeout=dict(type="int", default=10),
    )


# Pass to AnsibleModule with postgres_argument_spec().
POSTGRES_MUTUALLY_EXCLUSIVE = [("login_host", "login_unix_socket")]


def check_postgres_params(module) -> None:
    """Fail on values the argument spec cannot express: ranges."""
    params = module.params
    if params["timeout"] < 1:
        module.fail_json(msg=f"argument 'timeout' must be at least 1 second, got {params['timeout']}")
    if not 1 <= params["login_port"] <= 65535:
        module.fail_json(msg=f"argument 'login_port' must be between 1 and 65535, got {params['login_port']}")


def hard_bound_s(timeout: int) -> int:
    """Seconds after which the whole psql run is killed: its connection, then its statements."""
    return 2 * timeout + 5


@dataclass
class PsqlRun:
    """What one psql run gave back."""

    rc: int
    stdout: str
    stderr: str


def psql_command(params: dict, psql: str, timeout_bin: str, variables: dict) -> tuple[list, dict]:
    """Return the argv and the environment of one psql run reading its script from stdin.

    The password goes through PGPASSWORD, never the command line. psql bounds its own
    connection (PGCONNECT_TIMEOUT) and each statement (statement_timeout, set by the script);
    coreutils' timeout is the hard bound over the whole run.
    """
    timeout = params["timeout"]
    argv = [timeout_bin, "--kill-after=2", str(hard_bound_s(timeout)), psql,
            "--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--no-password",
            "--set=ON_ERROR_STOP=1", f"--dbname={params['db']}", f"--username={params['login_user']}",
            f"--port={params['login_port']}"]
    host = params["login_host"] or params["login_unix_socket"]
    if host:
        argv.append(f"--host={host}")
    argv += [f"--set={name}={value}" for name, value in variables.items()]
    argv.append("--file=-")
    env = {
        "PGCONNECT_TIMEOUT": str(timeout),
        "PGSSLMODE": params["ssl_mode"],
        "PGCLIENTENCODING": "UTF8",
        "PGAPPNAME": "deploy-baseline",
    }
    if params.get("ca_cert"):
        env["PGSSLROOTCERT"] = params["ca_cert"]
    if params["login_password"]:
        env["PGPASSWORD"] = params["login_password"]
    return argv, env


def run_psql(module, script: str, variables: dict) -> PsqlRun:
    """Run psql on the target once, in a locale whose messages the classifier understands."""
    locale = get_best_parsable_locale(module)
    module.run_command_environ_update = dict(LANG=locale, LC_ALL=locale, LC_MESSAGES=locale)
    argv, env = psql_command(module.params, module.get_bin_path("psql", required=True),
                             module.get_bin_path("timeout", required=True), variables)
    rc, stdout, stderr = module.run_command(argv, data=script, environ_update=env,
                                            errors="surrogate_or_replace")
    return PsqlRun(rc, stdout, stderr)


def psql_cause(stderr: str) -> str:
    """psql's error line, without psql's own prefix ("psql: error: ", "psql:<stdin>:9: "). Pure.

    The first line that reports an error wins over other noise on stderr.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"^psql:|FATAL:|ERROR:", line)]
    if not lines:
        return "psql gave no error message"
    return re.sub(r"^psql:(<stdin>:\d+:)? (error: )?", "", (errors or lines)[0]).strip()


def classify_psql_fault(run: PsqlRun, timeout: int) -> tuple:
    """Return (error_kind, cause) for a failed psql run. Pure."""
    if run.rc in TIMED_OUT:
        return "timeout", f"no answer within {hard_bound_s(timeout)} s"
    if run.rc == PSQL_CONNECTION_FAILED:
        kinds = _CONNECT_FAULTS
        default = "connection_failed"
    else:
        kinds = _QUERY_FAULTS
        default = "query_failed"
    return next((kind for kind, rx in kinds if rx.search(run.stderr)), default), psql_cause(run.stderr)


def parse_json_documents(text: str) -> list:
    """Every JSON document printed by psql -At, in order (json_agg output spans lines). Pure.

    Raises ValueError where the text is not JSON.
    """
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return documents
        try:
            document, position = decoder.raw_decode(text, position)
        except RecursionError:  # json gives up on nesting deeper than Python's recursion limit
            raise ValueError(f"JSON nested too deep at character {position}") from None
        documents.append(document)


def unreachable_facts(database: str, kind: str, error: str) -> dict:
    """The result's shape with every figure null. Pure."""
    facts = dict.fromkeys(FACT_KEYS)
    facts.update(reachable=False, error_kind=kind, error=error, database=database)
    return facts


def postgres_facts_from_run(run: PsqlRun, database: str, timeout: int, top_statements: int) -> tuple:
    """Turn one run of FACTS_SCRIPT into (facts, warnings). Pure.

    The script prints the figures as one JSON object, then, when pg_stat_statements can be
    read, the slowest statements as a JSON array.
    """
    try:
        documents = parse_json_documents(run.stdout)
    except ValueError:
        documents = []
    if not documents or not isinstance(documents[0], dict):
        if run.rc == 0:
            return unreachable_facts(database, "query_failed",
                                     f"unable to read PostgreSQL database {database}: psql printed no figures"), []
        kind, cause = classify_psql_fault(run, timeout)
        action = "connect to" if run.rc == PSQL_CONNECTION_FAILED else "read"
        return unreachable_facts(database, kind, f"unable to {action} PostgreSQL database {database}: {cause}"), []

    figures = documents[0]
    facts = dict.fromkeys(FACT_KEYS)
    facts.update(reachable=True, database=figures.get("database") or database)
    facts.update({key: figures.get(key) for key in _FIGURES})
    warnings = []
    if top_statements == 0:
        reason = "not asked for (top_statements is 0)"
    elif not figures.get("statements_installed"):
        reason = f"pg_stat_statements is not installed in database {database} (CREATE EXTENSION pg_stat_statements)"
    elif figures.get("statements_loaded") is False:
        reason = ("pg_stat_statements is installed but not loaded "
                  "(add it to shared_preload_libraries and restart PostgreSQL)")
    elif len(documents) > 1:
        facts["slowest_statements"] = documents[1]
        reason = None
    else:
        reason = f"unable to read pg_stat_statements: {classify_psql_fault(run, timeout)[1]}"
        warnings.append(reason)
    facts["slowest_statements_reason"] = reason
    return facts, warnings


def postgres_facts_argument_spec() -> dict:
    """The options of the postgres_facts module."""
    spec = postgres_argument_spec()
    spec.update(
        db=dict(type="str", required=True),
        top_statements=dict(type="int", default=5),
    )
    return spec


def read_postgres_facts(module) -> dict:
    """The postgres_facts module's result: the figures of the database module.params names."""
    check_postgres_params(module)
    params = module.params
    if params["top_statements"] < 0:
        module.fail_json(msg=f"argument 'top_statements' must be 0 or more, got {params['top_statements']}")

    run = run_psql(module, FACTS_SCRIPT, {
        "statement_timeout_ms": params["timeout"] * 1000,
        "top_statements": params["top_statements"],
        "query_chars": QUERY_CHARS,
    })
    facts, warnings = postgres_facts_from_run(run, params["db"], params["timeout"], params["top_statements"])
    for warning in warnings:
        module.warn(warning)
    return facts
