#!/usr/bin/python
"""Ansible module postgres_facts: read the figures of a PostgreSQL database for the deploy baseline."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgres_facts
short_description: Read the figures of a PostgreSQL database for a post-deploy baseline
description:
  - Runs C(psql) once on the target and returns what a post-deploy baseline reports about one
    database, size, indexes (user, invalid, unused), connections, cache hit ratio, deadlocks,
    the longest running query and, where C(pg_stat_statements) is loaded, the slowest statements.
  - Needs nothing beyond the C(psql) that Debian and Ubuntu install with the server. Run it as
    the C(postgres) user (C(become_user=postgres)) to connect through the local socket with peer
    authentication, or give O(login_host), O(login_user) and O(login_password).
  - A fault of the server (down, database missing, authentication failed or needed, timeout) is
    not a task failure. The module returns RV(postgres.reachable=false) with
    RV(postgres.error_kind) and RV(postgres.error) saying which fault it is.
  - Only reads; never changes the server.
options:
  db:
    description: Database to read.
    type: str
    required: true
  login_user:
    description: Role to connect as.
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user). Passed to C(psql) through the E(PGPASSWORD) environment
        variable, never on its command line.
      - C(psql) never prompts for one; without it, a server that asks for a password gives
        RV(postgres.error_kind=auth_required).
    type: str
  login_host:
    description:
      - Host to connect to over TCP. Without it and O(login_unix_socket), C(psql) uses the local
        socket in its default directory.
      - Mutually exclusive with O(login_unix_socket).
    type: str
  login_unix_socket:
    description: Directory of the server's Unix socket. Mutually exclusive with O(login_host).
    type: path
  login_port:
    description: Port of the server (TCP port, or the number in the socket's name).
    type: int
    default: 5432
  ssl_mode:
    description: The libpq C(sslmode) of the connection.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    default: prefer
  ca_cert:
    description:
      - CA certificate that the server's certificate must be signed by, for O(ssl_mode=verify-ca)
        and O(ssl_mode=verify-full) (libpq's C(sslrootcert), passed as E(PGSSLROOTCERT)).
      - Not set, libpq reads C(~/.postgresql/root.crt) of the user C(psql) runs as.
    type: path
  timeout:
    description:
      - Seconds C(psql) waits for the connection (C(connect_timeout)) and for each statement
        (C(statement_timeout)), at least 1.
      - The whole run is killed after twice this plus 5 seconds.
    type: int
    default: 10
  top_statements:
    description:
      - How many of the slowest statements (by mean time) to return from C(pg_stat_statements).
      - V(0) reads none.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
    description: The module only reads, in check mode as otherwise.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The figures come from the statistics views (C(pg_stat_user_indexes), C(pg_stat_activity),
    C(pg_stat_database)). A role without C(pg_read_all_stats) sees other roles' sessions without
    their state, so connection counts and the longest query cover its own sessions only.
  - Messages are read in a C locale; the kind of a connection fault is recognised from the
    English messages of the server and of libpq.
requirements:
  - C(psql) (C(postgresql-client)) and coreutils' C(timeout) on the target.
author:
  - deploy-baseline
"""

EXAMPLES = r"""
- name: Read the figures of the application's database as the postgres user
  postgres_facts:
    db: tsh_erp
  become: true
  become_user: postgres
  register: baseline_postgres

- name: Read them over TCP as the application's role
  postgres_facts:
    db: tsh_erp
    login_host: 127.0.0.1
    login_user: tsh_erp
    login_password: "{{ vault_tsh_erp_db_password }}"
    top_statements: 10
  register: baseline_postgres

- name: Read a database on another host over TLS, as a role granted pg_monitor only
  postgres_facts:
    db: tsh_erp
    login_host: db.internal.example
    login_user: baseline_monitor
    login_password: "{{ vault_db_monitor_password }}"
    ssl_mode: verify-full
    ca_cert: /etc/deploy-baseline/db-ca.pem
  register: baseline_postgres

- name: Fail when the database could not be read
  ansible.builtin.assert:
    that: baseline_postgres.postgres.reachable
    fail_msg: "{{ baseline_postgres.postgres.error }}"
"""

RETURN = r"""
postgres:
  description:
    - The figures of the database. Every key is always there; a figure is null when the database
      could not be read (RV(postgres.reachable=false)).
  returned: always
  type: dict
  sample:
    cache_hit_ratio_pct: 99.78
    connections:
      active: 0
      max: 100
      total: 2
    database: tsh_erp
    database_size_bytes: 25304423
    database_size_human: 24 MB
    deadlocks: 0
    error: null
    error_kind: null
    invalid_indexes: 0
    longest_query_s: null
    reachable: true
    server_version: '15.20'
    server_version_num: 150020
    slowest_statements: null
    slowest_statements_reason: pg_stat_statements is not installed in database tsh_erp (CREATE EXTENSION
      pg_stat_statements)
    unused_indexes: 63
    user_indexes: 64
  contains:
    reachable:
      description: Whether the module connected and read the figures.
      returned: always
      type: bool
      sample: true
    error_kind:
      description:
        - Why the database could not be read; null when it was.
        - V(server_down) (connection refused, no socket, server starting or stopping),
          V(database_missing), V(auth_failed) (wrong password, scram refused, peer or pg_hba refusal),
          V(certificate_invalid) (the server's certificate is not signed by O(ca_cert) or, with
          O(ssl_mode=verify-full), does not name O(login_host)), V(tls_failed) (the server does not
          speak SSL, or the SSL handshake failed),
          V(auth_required) (a password is needed and none was given), V(timeout),
          V(connection_failed) or V(query_failed) (any other error).
      returned: always
      type: str
      sample: null
    error:
      description: What failed and why, an action then its cause; null when the figures were read.
      returned: always
      type: str
      sample: null
    database:
      description: The database read.
      returned: always
      type: str
      sample: tsh_erp
    server_version:
      description: Version of the server, without the distribution's suffix.
      returned: always
      type: str
      sample: "15.20"
    server_version_num:
      description: Version of the server as a number (C(server_version_num)).
      returned: always
      type: int
      sample: 150020
    database_size_bytes:
      description: Size of the database on disk (C(pg_database_size)), in bytes.
      returned: always
      type: int
      sample: 25345383
    database_size_human:
      description: The size as C(pg_size_pretty) writes it.
      returned: always
      type: str
      sample: 24 MB
    user_indexes:
      description: Indexes of the database's own tables, system catalogs and TOAST excluded (C(pg_stat_user_indexes)).
      returned: always
      type: int
      sample: 64
    invalid_indexes:
      description: User indexes marked invalid, for example left by a failed C(CREATE INDEX CONCURRENTLY).
      returned: always
      type: int
      sample: 0
    unused_indexes:
      description: User indexes never scanned since the statistics were reset (C(idx_scan = 0)), primary keys included.
      returned: always
      type: int
      sample: 62
    connections:
      description: Client connections to the whole server, this module's own left out.
      returned: always
      type: dict
      sample: {"active": 0, "max": 100, "total": 2}
      contains:
        active:
          description: Connections running a statement.
          returned: always
          type: int
          sample: 0
        total:
          description: Connections open, idle ones included.
          returned: always
          type: int
          sample: 2
        max:
          description: The server's C(max_connections).
          returned: always
          type: int
          sample: 100
    cache_hit_ratio_pct:
      description:
        - Block reads of the database served from PostgreSQL's buffer cache, per 100, rounded to 2 decimals.
        - Null before the first block read (no hit and no read yet).
      returned: always
      type: float
      sample: 99.77
    deadlocks:
      description: Deadlocks detected in the database since the statistics were reset.
      returned: always
      type: int
      sample: 0
    longest_query_s:
      description:
        - Seconds the longest running non-idle statement of another session has run; null when none runs.
      returned: always
      type: float
      sample: 2.317
    slowest_statements:
      description:
        - The O(top_statements) statements of the database with the highest mean time, slowest
          first, from C(pg_stat_statements); this module's own are left out.
        - Null when C(pg_stat_statements) cannot be read; RV(postgres.slowest_statements_reason) says why.
      returned: always
      type: list
      elements: dict
      sample: [{"calls": 1, "mean_ms": 7.451,
                "query": "SELECT count(*) FROM orders o JOIN products p ON p.id = o.product_id
                          WHERE p.category LIKE $1",
                "rows": 1, "total_ms": 7.451}]
      contains:
        query:
          description: The normalised statement, white space squeezed, cut at 200 characters.
          returned: always
          type: str
          sample: SELECT id, sku, name, category, price, stock FROM products ORDER BY id LIMIT $1 OFFSET $2
        calls:
          description: Times the statement ran.
          returned: always
          type: int
          sample: 3
        mean_ms:
          description: Mean time of one run, in milliseconds.
          returned: always
          type: float
          sample: 0.133
        total_ms:
          description: Time of all runs, in milliseconds.
          returned: always
          type: float
          sample: 0.4
        rows:
          description: Rows the runs returned or changed.
          returned: always
          type: int
          sample: 150
    slowest_statements_reason:
      description: Why RV(postgres.slowest_statements) is null; null when it is not.
      returned: always
      type: str
      sample: pg_stat_statements is not installed in database tsh_erp (CREATE EXTENSION pg_stat_statements)
"""

from ansible.module_utils.baseline_postgres import (
    POSTGRES_MUTUALLY_EXCLUSIVE,
    postgres_facts_argument_spec,
    read_postgres_facts,
)
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    """The module's options."""
    return postgres_facts_argument_spec()


def main():
    module = AnsibleModule(
        argument_spec=get_argument_spec(),
        mutually_exclusive=POSTGRES_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    module.exit_json(changed=False, postgres=read_postgres_facts(module))


if __name__ == "__main__":
    main()
