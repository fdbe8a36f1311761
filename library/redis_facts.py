#!/usr/bin/python
"""Ansible module redis_facts: read the figures of a Redis server for the deploy baseline."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_facts
short_description: Read the figures of a Redis server for a post-deploy baseline
description:
  - Connects to a Redis server from the target, times a C(PING), reads one C(INFO) reply and
    returns the figures a post-deploy baseline reports (version, memory, keys, cache hits).
  - Optionally counts the keys that match glob patterns with one C(SCAN) pass over the whole
    database (never C(KEYS)), every pattern matched in the same pass, bounded by time
    (O(scan_max_seconds)), and says whether the counts are exact (RV(redis.key_scan.exact)).
  - Uses redis-py when the target has it (Debian's C(python3-redis)), else C(redis-cli) from the
    C(redis-tools) package that comes with C(redis-server). Select one with O(client).
  - A fault of the server (down, password required or wrong, user refused by its ACL,
    timeout) is not a task failure. The module returns RV(redis.reachable=false) with
    RV(redis.error_kind) and RV(redis.error) saying which fault it is.
  - Only reads; never changes the server.
options:
  host:
    description: Host name or address of the server.
    type: str
    default: 127.0.0.1
  port:
    description: TCP port of the server.
    type: int
    default: 6379
  unix_socket:
    description:
      - Path of the server's Unix socket, in place of O(host) and O(port).
      - Mutually exclusive with O(host), O(port) and O(tls).
    type: path
  username:
    description:
      - ACL user to authenticate as (Redis 6 and later). Requires O(password).
    type: str
  password:
    description:
      - Password of O(username), or of the default user when O(username) is not set.
      - Passed to C(redis-cli) through the E(REDISCLI_AUTH) environment variable, never on its
        command line.
    type: str
  db:
    description:
      - Database the connection selects; O(key_patterns) are counted in this one.
      - The figures of INFO cover every database.
    type: int
    default: 0
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  ca_cert:
    description:
      - CA certificate to verify the server's certificate with, when O(tls=true); the system's CAs
        when not set.
    type: path
  client_cert:
    description:
      - Client certificate to present, when O(tls=true) and the server asks for one
        (C(tls-auth-clients yes) or C(optional)). Requires O(client_key).
    type: path
  client_key:
    description: Private key of O(client_cert). Requires O(client_cert).
    type: path
  tls_server_name:
    description:
      - The name the server's certificate must carry, when O(tls=true) and O(validate_certs=true),
        and the TLS server name (SNI) sent; O(host) when not set.
      - For a server reached by an address that its certificate does not name (an IP address, a
        tunnel, a managed Redis behind a load balancer).
    type: str
  validate_certs:
    description:
      - Verify the server's certificate (its CA and its name), when O(tls=true).
      - Before the client connects, one TLS handshake checks the certificate and the name, so that
        each TLS fault gets its own RV(redis.error_kind) (V(certificate_invalid), V(tls_failed)).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the connection and for each reply.
      - With O(client=cli), the bound of each C(redis-cli) run.
    type: float
    default: 5.0
  client:
    description:
      - How to reach the server. V(auto) takes redis-py when it can be imported on the target,
        else C(redis-cli).
      - V(redispy) fails when redis-py is missing; V(cli) needs C(redis-cli).
    type: str
    choices: [auto, redispy, cli]
    default: auto
  key_patterns:
    description:
      - Redis glob patterns (as C(SCAN MATCH) takes them, for example V(products:*)) whose keys
        to count in O(db). One C(SCAN) walk counts every pattern.
      - The result is RV(redis.key_scan); none when the list is empty.
    type: list
    elements: str
    default: []
  scan_max_seconds:
    description:
      - Stop the C(SCAN) pass after this many seconds; the counts are then lower bounds
        (RV(redis.key_scan.complete=false), RV(redis.key_scan.bound_hit=scan_max_seconds)).
      - Checked between pages; each page is bounded by O(timeout). A pass over a million keys
        takes a few seconds.
    type: float
    default: 30.0
  scan_count:
    description:
      - The C(COUNT) hint of each C(SCAN) page, the keys the server returns per call (about).
      - Larger pages mean fewer round trips; each page blocks the server for its length
        (about 1 ms per 1000 keys).
    type: int
    default: 1000
attributes:
  check_mode:
    support: full
    description: The module only reads, in check mode as otherwise.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - With O(client=cli), RV(redis.ping_ms) is the time of a whole C(redis-cli PING) run, process
    start and connection included, so it is larger than the round trip redis-py measures.
  - Messages are read in a C locale, so that the replies of C(redis-cli) parse the same everywhere.
  - "Exact key counts: C(SCAN) returns every key present for the whole pass at least once, and a key
    twice only when the table was resized during the pass, which only writes cause. Telling a key
    returned twice would take a set of every key, memory that grows with the keyspace, so each
    key returned counts, and the counts are called exact (RV(redis.key_scan.exact=true)) only when
    the pass reached the end and the server counted no write (C(rdb_changes_since_last_save),
    C(expired_keys), C(evicted_keys) in C(INFO)) from before the pass to after it. Writes to any
    database count, so a busy server gives complete counts that are not called exact."
  - With O(client=cli), one C(redis-cli) reads every page of the pass, its output raw with field
    and reply delimiters chosen at random for the pass (C(-d), C(-D)), so that keys holding a
    newline are read whole. Raw output prints a page holding only the key V("") as an empty page;
    when the pass met an empty page, an C(EXISTS "") at its end tells.
requirements:
  - redis-py (C(python3-redis)) or C(redis-cli) (C(redis-tools)) on the target.
  - coreutils' C(timeout) on the target, when O(client=cli).
author:
  - deploy-baseline
"""

EXAMPLES = r"""
- name: Read the figures of the local Redis
  redis_facts:
  register: baseline_redis

- name: Count the cached product and order lists, with the ACL user of the monitoring
  redis_facts:
    username: monitor
    password: "{{ vault_redis_monitor_password }}"
    key_patterns:
      - "products:*"
      - "orders:*"
  register: baseline_redis

- name: Fail when Redis is not up
  ansible.builtin.assert:
    that: baseline_redis.redis.reachable
    fail_msg: "{{ baseline_redis.redis.error }}"

- name: Read a Redis on another host over TLS, as a monitoring ACL user with a client certificate
  redis_facts:
    host: 10.0.3.7
    port: 6380
    tls: true
    ca_cert: /etc/deploy-baseline/redis-ca.pem
    client_cert: /etc/deploy-baseline/redis-client.pem
    client_key: /etc/deploy-baseline/redis-client.key
    tls_server_name: redis.internal.example
    username: baseline-monitor
    password: "{{ vault_redis_monitor_password }}"
  register: baseline_redis

- name: Read through redis-cli even where redis-py is installed
  redis_facts:
    client: cli
    unix_socket: /run/redis/redis-server.sock
"""

RETURN = r"""
redis:
  description:
    - The figures of the server. Every key is always there; a figure is null when the server
      could not be read (RV(redis.reachable=false)) or when its Redis version does not report it.
  returned: always
  type: dict
  sample:
    client: redispy
    connected_clients: 2
    endpoint: 127.0.0.1:6379
    error: null
    error_kind: null
    evicted_keys: 0
    expired_keys: 0
    hit_rate_pct: 25.0
    key_scan:
      bound_hit: null
      complete: true
      counts:
        orders:*: 1
        products:*: 2
      db: 0
      db_keys: 3
      elapsed_ms: 0.265
      error: null
      exact: true
      keys_visited: 3
      keyspace_changes: 0
      max_seconds: 30.0
    keyspace:
      db0:
        avg_ttl_ms: 299243
        expires: 3
        key_count: 3
    keyspace_hits: 1
    keyspace_misses: 3
    maxmemory_bytes: 268435456
    maxmemory_human: 256.00M
    maxmemory_policy: allkeys-lru
    mode: standalone
    ops_per_sec: 4
    ping_ms: 0.202
    port: 6379
    reachable: true
    rejected_connections: 0
    role: master
    total_commands_processed: 9
    total_expires: 3
    total_keys: 3
    uptime_s: 7
    used_memory_bytes: 1021376
    used_memory_human: 997.44K
    used_memory_peak_bytes: 1021376
    used_memory_peak_human: 997.44K
    version: 7.0.15
  contains:
    reachable:
      description: Whether the module connected, authenticated and read INFO.
      returned: always
      type: bool
      sample: true
    error_kind:
      description:
        - Why the server could not be read; null when it was.
        - V(server_down) (connection refused, no socket), V(auth_required) (a password is needed
          and none was given), V(auth_failed) (wrong password, disabled user, or a password given
          to a server that has none), V(permission_denied) (the ACL refuses a command to the user),
          V(certificate_invalid) (with O(tls=true), the server's certificate is not signed by the CA,
          has expired, or does not name the server), V(tls_failed) (with O(tls=true), the server
          does not speak TLS, refused the handshake, for example without a client certificate it
          requires, or a TLS file cannot be read), V(timeout), V(connection_failed) or
          V(command_failed) (any other error).
      returned: always
      type: str
      sample: null
    error:
      description: What failed and why, an action then its cause; null when the server was read.
      returned: always
      type: str
      sample: null
    client:
      description: The client used, V(redispy) or V(cli).
      returned: always
      type: str
      sample: redispy
    endpoint:
      description: Where the module connected, host:port or the socket path.
      returned: always
      type: str
      sample: 127.0.0.1:6379
    ping_ms:
      description:
        - Milliseconds of a PING, measured with a monotonic clock; null when PING failed.
        - With redis-py the round trip on an open connection, with redis-cli a whole run.
      returned: always
      type: float
      sample: 0.196
    version:
      description: Version of the server (C(redis_version)).
      returned: always
      type: str
      sample: 7.0.15
    mode:
      description: C(redis_mode), V(standalone), V(cluster) or V(sentinel).
      returned: always
      type: str
      sample: standalone
    role:
      description: Replication role, V(master) or V(slave).
      returned: always
      type: str
      sample: master
    uptime_s:
      description: Seconds since the server started.
      returned: always
      type: int
      sample: 305
    port:
      description: TCP port the server listens on (C(tcp_port)), 0 when it listens on none.
      returned: always
      type: int
      sample: 6379
    connected_clients:
      description: Client connections open, this module's included.
      returned: always
      type: int
      sample: 3
    total_commands_processed:
      description: Commands the server has run since it started.
      returned: always
      type: int
      sample: 1245
    used_memory_bytes:
      description: Memory the server's allocator holds, in bytes (C(used_memory)).
      returned: always
      type: int
      sample: 1054800
    used_memory_human:
      description: C(used_memory) as the server writes it for people.
      returned: always
      type: str
      sample: 1.01M
    used_memory_peak_bytes:
      description: Highest C(used_memory) since the server started, in bytes.
      returned: always
      type: int
      sample: 1141232
    used_memory_peak_human:
      description: C(used_memory_peak) as the server writes it for people.
      returned: always
      type: str
      sample: 1.09M
    maxmemory_bytes:
      description: Memory limit in bytes, 0 when there is none.
      returned: always
      type: int
      sample: 268435456
    maxmemory_human:
      description: The memory limit as the server writes it for people.
      returned: always
      type: str
      sample: 256.00M
    maxmemory_policy:
      description: What the server evicts when it reaches the memory limit.
      returned: always
      type: str
      sample: allkeys-lru
    keyspace:
      description:
        - The databases that hold keys, by name (C(db0), C(db1), ...). Empty when none holds a key.
      returned: always
      type: dict
      sample: {"db0": {"avg_ttl_ms": 298067, "expires": 11, "key_count": 11},
               "db1": {"avg_ttl_ms": 0, "expires": 0, "key_count": 2}}
      contains:
        <db>:
          description: One database.
          returned: always
          type: dict
          sample: {"avg_ttl_ms": 298067, "expires": 11, "key_count": 11}
          contains:
            key_count:
              description:
                - Keys in the database (C(keys) in INFO; renamed because C(db0.keys) in Jinja finds
                  the dict's method).
              returned: always
              type: int
              sample: 11
            expires:
              description: Keys with a time to live.
              returned: always
              type: int
              sample: 11
            avg_ttl_ms:
              description: Mean time to live left of a sample of those keys, in milliseconds; 0 when none has one.
              returned: always
              type: int
              sample: 298067
    total_keys:
      description: Keys in all databases.
      returned: always
      type: int
      sample: 13
    total_expires:
      description: Keys with a time to live, in all databases.
      returned: always
      type: int
      sample: 11
    keyspace_hits:
      description: Key lookups that found their key since the server started (or its stats were reset).
      returned: always
      type: int
      sample: 5
    keyspace_misses:
      description: Key lookups that did not find their key.
      returned: always
      type: int
      sample: 11
    hit_rate_pct:
      description:
        - Hits per 100 lookups, rounded to 2 decimals.
        - Null, not 0, before the first lookup (no hit and no miss yet).
      returned: always
      type: float
      sample: 31.25
    evicted_keys:
      description: Keys evicted because of the memory limit.
      returned: always
      type: int
      sample: 0
    expired_keys:
      description: Keys removed because their time to live ran out.
      returned: always
      type: int
      sample: 0
    ops_per_sec:
      description: Commands per second, as the server currently samples them (C(instantaneous_ops_per_sec)).
      returned: always
      type: int
      sample: 2
    rejected_connections:
      description: Connections refused because of C(maxclients).
      returned: always
      type: int
      sample: 0
    key_scan:
      description:
        - The counts of O(key_patterns) over one C(SCAN) pass of O(db); null when no pattern is given.
        - A fault met during the pass (connection lost, timeout, C(SCAN) refused) keeps the counts
          read so far, with RV(redis.key_scan.error) and a warning.
      returned: always
      type: dict
      sample: {"bound_hit": null, "complete": true, "counts": {"orders:*": 4, "products:*": 7}, "db": 0,
               "db_keys": 11, "elapsed_ms": 0.61, "error": null, "exact": true, "keys_visited": 11,
               "keyspace_changes": 0, "max_seconds": 30.0}
      contains:
        db:
          description: The database scanned.
          returned: always
          type: int
          sample: 0
        counts:
          description:
            - Keys that match each pattern, by pattern; lower bounds when RV(redis.key_scan.complete=false).
          returned: always
          type: dict
          sample: {"orders:*": 4, "products:*": 7}
        keys_visited:
          description: Keys that the pass read (a key that C(SCAN) returned twice counts twice).
          returned: always
          type: int
          sample: 11
        db_keys:
          description: Keys in O(db) before the pass, from C(INFO)'s keyspace section; the whole the shares are of.
          returned: always
          type: int
          sample: 11
        complete:
          description: Whether the pass reached the end of the database; when false the counts are lower bounds.
          returned: always
          type: bool
          sample: true
        bound_hit:
          description: V(scan_max_seconds) when the time limit stopped the pass; null otherwise.
          returned: always
          type: str
          sample: null
        max_seconds:
          description: The time limit of the pass, O(scan_max_seconds).
          returned: always
          type: float
          sample: 30.0
        error:
          description: What stopped the pass and why, when a fault did; null otherwise.
          returned: always
          type: str
          sample: null
        keyspace_changes:
          description:
            - Writes the server counted from the C(INFO) before the pass to the one after it (changes
              since the last save, expired and evicted keys), in every database.
            - Null when they cannot be compared (a save during the pass, or no C(INFO) after it).
          returned: always
          type: int
          sample: 0
        exact:
          description:
            - Whether the counts are exact, each key counted once; true only for a complete pass
              during which the server counted no write (see the notes).
          returned: always
          type: bool
          sample: true
        elapsed_ms:
          description: Milliseconds the pass took.
          returned: always
          type: float
          sample: 0.61
"""

from ansible.module_utils.baseline_redis import (
    REDIS_MUTUALLY_EXCLUSIVE,
    REDIS_REQUIRED_BY,
    REDIS_REQUIRED_TOGETHER,
    read_redis_facts,
    redis_facts_argument_spec,
)
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    """The module's options."""
    return redis_facts_argument_spec()


def main():
    module = AnsibleModule(
        argument_spec=get_argument_spec(),
        mutually_exclusive=REDIS_MUTUALLY_EXCLUSIVE,
        required_by=REDIS_REQUIRED_BY,
        required_together=REDIS_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    module.exit_json(changed=False, redis=read_redis_facts(module))


if __name__ == "__main__":
    main()
