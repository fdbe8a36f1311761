"""postgres_facts: its parsers on real psql runs, and main() on every fault.

Each file under tests/fixtures/postgres/ is one real run of the module's psql script on a demo
target: rc, stdout and stderr as psql gave them, and a note saying how it ran (see the README).
"""

import json
from unittest import mock

import postgres_facts
import pytest
from ansible.module_utils import basic
from ansible.module_utils.baseline_postgres import (
    FACT_KEYS,
    FACTS_SCRIPT,
    PsqlRun,
    classify_psql_fault,
    parse_json_documents,
    postgres_facts_from_run,
    psql_cause,
    psql_command,
)
from conftest import FIXTURES
from module_runner import run_module

POSTGRES = FIXTURES / "postgres"
PASSWORD = "tsh-erp-demo-password"


def captured(name):
    run = json.loads((POSTGRES / f"{name}.json").read_text())
    return PsqlRun(run["rc"], run["stdout"], run["stderr"])


def facts_of(name, database="tsh_erp", timeout=10, top_statements=5):
    return postgres_facts_from_run(captured(name), database, timeout, top_statements)


# --- the figures ---------------------------------------------------------------------------

def test_figures_of_a_real_run():
    facts, warnings = facts_of("facts_without_statements")
    assert facts == {
        "reachable": True, "error_kind": None, "error": None, "database": "tsh_erp",
        "server_version": "15.20", "server_version_num": 150020,
        "database_size_bytes": 25410919, "database_size_human": "24 MB",
        "user_indexes": 64, "invalid_indexes": 0, "unused_indexes": 61,
        "connections": {"active": 0, "total": 0, "max": 100},
        "cache_hit_ratio_pct": 99.46, "deadlocks": 0, "longest_query_s": None,
        "slowest_statements": None,
        "slowest_statements_reason": "pg_stat_statements is not installed in database tsh_erp "
                                     "(CREATE EXTENSION pg_stat_statements)",
    }
    assert warnings == []
    assert list(facts) == list(FACT_KEYS)


def test_slowest_statements_and_a_running_query():
    facts, warnings = facts_of("facts_with_statements")
    assert facts["longest_query_s"] == 1.742
    assert facts["connections"] == {"active": 1, "total": 1, "max": 100}
    assert facts["slowest_statements_reason"] is None and warnings == []
    statements = facts["slowest_statements"]
    assert len(statements) == 5
    assert statements[0] == {"query": "SELECT pg_sleep($1)", "calls": 1, "mean_ms": 6006.105,
                             "total_ms": 6006.105, "rows": 1}
    assert [s["mean_ms"] for s in statements] == sorted((s["mean_ms"] for s in statements), reverse=True)
    assert not any("deploy-baseline" in s["query"] for s in statements)


def test_cache_hit_ratio_is_null_before_the_first_block_read():
    facts, _ = facts_of("facts_stats_reset")
    assert facts["cache_hit_ratio_pct"] is None
    assert facts["unused_indexes"] == facts["user_indexes"] == 64


@pytest.mark.parametrize(("name", "top", "statements", "reason", "warnings"), [
    ("facts_without_statements", 5, None,
     "pg_stat_statements is not installed in database tsh_erp (CREATE EXTENSION pg_stat_statements)", []),
    ("facts_statements_not_loaded", 5, None,
     "pg_stat_statements is installed but not loaded (add it to shared_preload_libraries and restart PostgreSQL)",
     []),
    # the application's role may not see shared_preload_libraries: the script tries, the server says why
    ("facts_statements_not_loaded_app_role", 5, None,
     "unable to read pg_stat_statements: ERROR:  pg_stat_statements must be loaded via shared_preload_libraries",
     ["unable to read pg_stat_statements: ERROR:  pg_stat_statements must be loaded via "
      "shared_preload_libraries"]),
    ("facts_with_statements_app_role", 5, 5, None, []),
    ("facts_with_statements", 0, None, "not asked for (top_statements is 0)", []),
])
def test_why_slowest_statements_is_null(name, top, statements, reason, warnings):
    facts, warned = facts_of(name, top_statements=top)
    assert facts["reachable"] is True
    assert (facts["slowest_statements"] if statements is None else len(facts["slowest_statements"])) == statements
    assert facts["slowest_statements_reason"] == reason
    assert warned == warnings


def test_parse_json_documents_reads_json_agg_across_lines():
    documents = parse_json_documents(captured("facts_with_statements").stdout)
    assert [type(d) for d in documents] == [dict, list]
    assert parse_json_documents("") == []
    assert parse_json_documents("{} \n [1,\n 2]\n") == [{}, [1, 2]]


# --- faults --------------------------------------------------------------------------------

SOCKET = 'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed'
TCP = 'connection to server at "127.0.0.1", port 5432 failed'

FAULTS = [
    # (fixture, database, error_kind, error)
    ("server_down_socket", "tsh_erp", "server_down",
     f"unable to connect to PostgreSQL database tsh_erp: {SOCKET}: No such file or directory"),
    ("server_down_tcp", "tsh_erp", "server_down",
     f"unable to connect to PostgreSQL database tsh_erp: {TCP}: Connection refused"),
    ("server_shutting_down", "tsh_erp", "server_down",
     "unable to connect to PostgreSQL database tsh_erp: FATAL:  terminating connection due to administrator command"),
    ("database_missing", "no_such_db", "database_missing",
     f'unable to connect to PostgreSQL database no_such_db: {SOCKET}: FATAL:  database "no_such_db" does not exist'),
    ("password_auth_failed", "tsh_erp", "auth_failed",
     f'unable to connect to PostgreSQL database tsh_erp: {TCP}: '
     'FATAL:  password authentication failed for user "tsh_erp"'),
    ("peer_auth_failed", "tsh_erp", "auth_failed",
     f'unable to connect to PostgreSQL database tsh_erp: {SOCKET}: FATAL:  Peer authentication failed for user '
     '"postgres"'),
    ("no_password_supplied", "tsh_erp", "auth_required",
     f"unable to connect to PostgreSQL database tsh_erp: {TCP}: fe_sendauth: no password supplied"),
    ("connect_timeout", "tsh_erp", "timeout",
     'unable to connect to PostgreSQL database tsh_erp: connection to server at "127.0.0.1", port 6391 failed: '
     "timeout expired"),
    ("statement_timeout", "tsh_erp", "timeout",
     "unable to read PostgreSQL database tsh_erp: ERROR:  canceling statement due to statement timeout"),
    ("hard_bound_timeout", "tsh_erp", "timeout",
     "unable to read PostgreSQL database tsh_erp: no answer within 25 s"),
]


@pytest.mark.parametrize(("name", "database", "kind", "error"), FAULTS)
def test_each_fault_has_its_own_reason(name, database, kind, error):
    facts, warnings = facts_of(name, database=database)
    assert (facts["reachable"], facts["error_kind"], facts["error"]) == (False, kind, error)
    assert facts["database"] == database
    assert all(facts[key] is None for key in FACT_KEYS[4:])
    assert warnings == []


def test_the_faults_are_told_apart():
    kinds = {name: facts_of(name)[0]["error_kind"] for name, *_ in FAULTS}
    assert set(kinds.values()) == {"server_down", "database_missing", "auth_failed", "auth_required", "timeout"}


@pytest.mark.parametrize(("stderr", "cause"), [
    ("psql: error: connection to server failed: x\n\tIs the server running?\n", "connection to server failed: x"),
    ("psql:<stdin>:13: ERROR:  canceling statement\n", "ERROR:  canceling statement"),
    ('could not change directory to "/root": Permission denied\npsql: error: FATAL:  no\n', "FATAL:  no"),
    ("", "psql gave no error message"),
])
def test_psql_cause(stderr, cause):
    assert psql_cause(stderr) == cause


def test_an_unknown_connection_error_and_an_unknown_query_error():
    assert classify_psql_fault(PsqlRun(2, "", "psql: error: could not translate host name \"db\"\n"), 10) == \
        ("connection_failed", 'could not translate host name "db"')
    assert classify_psql_fault(PsqlRun(3, "", "psql:<stdin>:13: ERROR:  permission denied for x\n"), 10) == \
        ("query_failed", "ERROR:  permission denied for x")


def test_a_run_that_printed_nothing():
    facts, _ = postgres_facts_from_run(PsqlRun(0, "", ""), "tsh_erp", 10, 5)
    assert (facts["error_kind"], facts["error"]) == \
        ("query_failed", "unable to read PostgreSQL database tsh_erp: psql printed no figures")


# --- the psql command ----------------------------------------------------------------------

def params(**overrides):
    values = {name: spec.get("default") for name, spec in postgres_facts.get_argument_spec().items()}
    values.update(db="tsh_erp")
    values.update(overrides)
    return values


def test_psql_command_as_the_local_postgres_user():
    argv, env = psql_command(params(), "/usr/bin/psql", "/usr/bin/timeout", {"top_statements": 5})
    assert argv == ["/usr/bin/timeout", "--kill-after=2", "25", "/usr/bin/psql", "--no-psqlrc", "--quiet",
                    "--no-align", "--tuples-only", "--no-password", "--set=ON_ERROR_STOP=1", "--dbname=tsh_erp",
                    "--username=postgres", "--port=5432", "--set=top_statements=5", "--file=-"]
    assert env == {"PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "prefer", "PGCLIENTENCODING": "UTF8",
                   "PGAPPNAME": "deploy-baseline"}


def test_psql_command_over_tcp_passes_the_password_in_the_environment_only():
    argv, env = psql_command(params(login_host="127.0.0.1", login_user="tsh_erp", login_password=PASSWORD,
                                    timeout=3, ssl_mode="require"), "/usr/bin/psql", "/usr/bin/timeout", {})
    assert "--host=127.0.0.1" in argv and "--username=tsh_erp" in argv and "11" in argv
    assert PASSWORD not in " ".join(argv)
    assert env["PGPASSWORD"] == PASSWORD
    assert (env["PGCONNECT_TIMEOUT"], env["PGSSLMODE"]) == ("3", "require")


def test_psql_command_through_a_socket_directory():
    argv, _ = psql_command(params(login_unix_socket="/run/postgresql"), "psql", "timeout", {})
    assert "--host=/run/postgresql" in argv


# --- main() --------------------------------------------------------------------------------

class Target:
    """Answers run_command with one captured psql run; records what the module ran."""

    def __init__(self, name):
        self.run = captured(name)
        self.calls = []

    def __call__(self, module, args, data=None, environ_update=None, **kwargs):
        if args[0].endswith("/locale"):
            return 0, "C\nC.utf8\nPOSIX\n", ""
        self.calls.append({"argv": args, "data": data, "env": environ_update,
                           "locale": dict(module.run_command_environ_update)})
        return self.run.rc, self.run.stdout, self.run.stderr


def run_main(args, name):
    target = Target(name)

    def run_command(module, args, **kwargs):
        return target(module, args, **kwargs)

    with mock.patch.object(basic.AnsibleModule, "run_command", run_command), \
         mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: f"/usr/bin/{name}"):
        status, result = run_module(postgres_facts.main, args)
    return status, result, target.calls


def test_main_runs_psql_once_with_the_script_on_stdin():
    status, result, calls = run_main({"db": "tsh_erp"}, "facts_with_statements")
    assert status == "exit" and result["changed"] is False
    assert result["postgres"]["user_indexes"] == 64
    assert len(result["postgres"]["slowest_statements"]) == 5
    (call,) = calls
    assert call["data"] == FACTS_SCRIPT
    assert call["argv"][-4:] == ["--set=statement_timeout_ms=10000", "--set=top_statements=5",
                                 "--set=query_chars=200", "--file=-"]
    assert call["locale"] == {"LANG": "C.utf8", "LC_ALL": "C.utf8", "LC_MESSAGES": "C.utf8"}


def test_main_in_check_mode_reads_the_same():
    status, result, calls = run_main({"db": "tsh_erp", "_ansible_check_mode": True}, "facts_without_statements")
    assert status == "exit" and result["changed"] is False and result["postgres"]["reachable"] is True
    assert len(calls) == 1


@pytest.mark.parametrize(("name", "database", "kind", "error"), FAULTS)
def test_main_returns_each_fault_as_a_result(name, database, kind, error):
    args = {"db": database, "login_host": "127.0.0.1", "login_user": "tsh_erp", "login_password": PASSWORD}
    status, result, calls = run_main(args, name)
    assert status == "exit"
    assert (result["postgres"]["reachable"], result["postgres"]["error_kind"], result["postgres"]["error"]) == \
        (False, kind, error)
    assert PASSWORD not in json.dumps(result)
    assert PASSWORD not in " ".join(calls[0]["argv"])


def test_main_warns_when_pg_stat_statements_cannot_be_read():
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        status, result, _ = run_main({"db": "tsh_erp"}, "facts_statements_not_loaded_app_role")
    assert status == "exit" and result["postgres"]["reachable"] is True
    warn.assert_called_once_with("unable to read pg_stat_statements: ERROR:  pg_stat_statements must be loaded "
                                 "via shared_preload_libraries")


@pytest.mark.parametrize(("args", "message"), [
    ({}, "missing required arguments: db"),
    ({"db": "tsh_erp", "login_host": "127.0.0.1", "login_unix_socket": "/run/postgresql"},
     "parameters are mutually exclusive: login_host|login_unix_socket"),
    ({"db": "tsh_erp", "ssl_mode": "on"},
     "value of ssl_mode must be one of: disable, allow, prefer, require, verify-ca, verify-full, got: on"),
    ({"db": "tsh_erp", "timeout": "soon"}, "argument 'timeout' is of type str and we were unable to convert to "
                                           "int: \"'soon'\" cannot be converted to an int"),
    ({"db": "tsh_erp", "timeout": 0}, "argument 'timeout' must be at least 1 second, got 0"),
    ({"db": "tsh_erp", "login_port": 0}, "argument 'login_port' must be between 1 and 65535, got 0"),
    ({"db": "tsh_erp", "top_statements": -1}, "argument 'top_statements' must be 0 or more, got -1"),
])
def test_argument_errors(args, message):
    status, result = run_module(postgres_facts.main, args)
    assert (status, result["msg"]) == ("fail", message)


def test_the_password_is_no_log():
    assert postgres_facts.get_argument_spec()["login_password"]["no_log"] is True


def test_psql_command_verifies_the_server_with_the_ca_file_it_is_given():
    _, env = psql_command(params(login_host="db.internal", ssl_mode="verify-full", ca_cert="/etc/db-ca.pem"),
                          "psql", "timeout", {})
    assert (env["PGSSLMODE"], env["PGSSLROOTCERT"]) == ("verify-full", "/etc/db-ca.pem")


# stderr of psql 15 over TCP to the datastore host of the facts_datastores scenario (rc 2); the last is
# libpq's message for sslmode=require against a server without SSL, not made by the scenario
DATASTORE_FAULTS = [
    ('psql: error: connection to server at "datastore.demo.test" (10.88.0.8), port 5432 failed: FATAL:  '
     'password authentication failed for user "baseline_monitor"\n', "auth_failed"),
    ('psql: error: connection to server at "10.88.0.8", port 5432 failed: server certificate for '
     '"datastore.demo.test" (and 1 other name) does not match host name "10.88.0.8"\n', "certificate_invalid"),
    ('psql: error: connection to server at "datastore.demo.test" (10.88.0.8), port 5432 failed: SSL error: '
     'certificate verify failed\n', "certificate_invalid"),
    ('psql: error: connection to server at "10.88.0.8", port 5432 failed: FATAL:  no pg_hba.conf entry for host '
     '"10.88.0.7", user "baseline_monitor", database "tsh_erp", no encryption\n', "auth_failed"),
    ('psql: error: connection to server at "10.88.0.8", port 5432 failed: server does not support SSL, but SSL '
     'was required\n', "tls_failed"),
]


@pytest.mark.parametrize(("stderr", "kind"), DATASTORE_FAULTS)
def test_the_faults_of_a_datastore_over_tcp(stderr, kind):
    assert classify_psql_fault(PsqlRun(2, "", stderr), 10) == (kind, stderr[len("psql: error: "):].strip())
