#!/usr/bin/python
"""Ansible module http_probe: time HTTP(S) endpoints phase by phase, cold and warm."""

from __future__ import annotations  # the target's Python may be 3.8

DOCUMENTATION = r"""
---
module: http_probe
short_description: Time HTTP(S) endpoints, cold and warm, phase by phase
description:
  - Sends one request per endpoint on a new connection (the cold request) and times its phases
    (name resolution, TCP connect, TLS handshake, time to first byte, total), then sends
    O(warm_samples) more on the same keep-alive connection and summarises their latencies.
  - Runs where the task runs. On the controller (with C(delegate_to=localhost)) it measures what users
    see, through the load balancer and TLS; on the target it measures the application alone on its
    local port. Run it both ways to show both in a report.
  - On the controller (a C(local) connection, without become or environment) its action plugin runs
    the probe in the task's own process, without starting a Python process for it; the options and
    the result are the same.
  - Speaks HTTP/1.1 itself over the standard library's C(socket) and C(ssl), so it needs nothing but
    Python 3 on the host that runs it, and can see each phase of a request.
  - A failed request is a result, not a failed task. Each endpoint's RV(http_probe[].error) names the
    kind of failure (V(dns), V(refused), V(timeout), V(tls), V(connection), V(protocol),
    V(http_status)) and a message.
  - Times come from a monotonic clock (C(time.perf_counter)), in milliseconds rounded to 3 decimals.
    Percentiles are nearest-rank (the smallest sample that the given share of samples are at or
    below), so each is a latency that was observed.
  - When O(validate_certs=false), the certificate's subject, issuer and expiry are still reported,
    with RV(http_probe[].tls.verified=false).
version_added: "0.1.0"
author:
  - deploy-baseline contributors
options:
  endpoints:
    description:
      - The endpoints to probe, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the endpoint in the results; defaults to the URL's path.
        type: str
      url:
        description:
          - The C(http://) or C(https://) URL to request. Its host name is sent in the Host header and
            as TLS SNI, also when O(resolve) sends the requests elsewhere.
        type: str
        required: true
      method:
        description:
          - HTTP method.
          - In check mode only V(GET), V(HEAD) and V(OPTIONS) requests are sent; the others are
            reported with RV(http_probe[].skipped=true).
        type: str
        default: GET
        choices: [GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS]
      status_code:
        description:
          - The statuses that count as success; any other is an error of kind V(http_status).
        type: list
        elements: int
        default: [200]
      headers:
        description:
          - Request headers, sent with every request. Host, User-Agent and Accept are sent unless given here.
          - Values of credential-like headers are masked in the output (see the notes).
        type: dict
        default: {}
      body:
        description:
          - Request body, sent as given with a Content-Length header. Set a Content-Type header
            to match, for example C({{ data | to_json }}) with a C(Content-Type) header of C(application/json).
        type: str
      return_body:
        description:
          - Return the first 64 KiB of the cold response's body in RV(http_probe[].body), for
            example to read the version or colour a health endpoint reports.
        type: bool
        default: false
  warm_samples:
    description:
      - Number of requests sent after the cold one on the same keep-alive connection. If the
        server closes the connection, the probe opens a new one outside the timed part and counts it
        in RV(http_probe[].warm.connections).
    type: int
    default: 20
extends_documentation_fragment:
  - baseline_http
notes:
  - Supports check mode; the module only reads and always returns C(changed=false).
  - The I(cold) phases are durations of each phase, not curl's cumulative times, so
    C(dns_ms + connect_ms + tls_ms + ttfb_ms <= total_ms). curl's C(time_total) compares with
    RV(http_probe[].cold.total_ms).
  - The certificate's fields are read from its DER encoding, which the handshake gives whether or not
    it was verified (C(getpeercert) returns nothing for an unverified certificate).
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Probe the public endpoints through nginx and TLS, from the controller
  http_probe:
    endpoints:
      - name: health
        url: https://erp.demo.test/health
      - name: docs
        url: https://erp.demo.test/docs
      - name: openapi
        url: https://erp.demo.test/openapi.json
    warm_samples: 20
    ca_path: files/erp.demo.test.pem
  delegate_to: localhost
  register: public_probe

- name: Probe the app alone on its local port, on the target
  http_probe:
    endpoints:
      - name: health
        url: http://127.0.0.1:8002/health
  register: app_probe

- name: Probe the blue colour under the public name before it takes traffic
  http_probe:
    endpoints:
      - name: health-blue
        url: http://erp.demo.test/health
        return_body: true
    resolve:
      - erp.demo.test:80:127.0.0.1:8001
  register: blue_probe

- name: Probe an API that needs a token (its value is masked in the output)
  http_probe:
    endpoints:
      - name: orders
        url: https://erp.demo.test/api/orders?limit=10
        headers:
          Authorization: "Bearer {{ erp_api_token }}"
        status_code: [200, 304]
    validate_certs: false
    timeout_s: 5
"""

RETURN = r"""
http_probe:
  description: One entry per endpoint, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The endpoint's name.
      returned: always
      type: str
      sample: health
    url:
      description: The URL requested.
      returned: always
      type: str
      sample: https://erp.demo.test/health
    method:
      description: The HTTP method.
      returned: always
      type: str
      sample: GET
    address:
      description: The address the request was sent to, as resolved (the host name itself if it did not resolve).
      returned: always
      type: str
      sample: 127.0.0.1
    port:
      description: The TCP port the request was sent to.
      returned: always
      type: int
      sample: 443
    resolved_by:
      description: V(resolve) if a O(resolve) rule chose the address, else V(dns).
      returned: always
      type: str
      sample: resolve
    skipped:
      description: True when check mode kept a request with a method that may change data from being sent.
      returned: always
      type: bool
      sample: false
    ok:
      description: True when the cold request got a response whose status is one of O(endpoints[].status_code).
      returned: always
      type: bool
      sample: true
    status:
      description: HTTP status of the cold request (null if no response came).
      returned: always
      type: int
      sample: 200
    status_ok:
      description: Whether RV(http_probe[].status) is one of O(endpoints[].status_code).
      returned: always
      type: bool
      sample: true
    http_version:
      description: HTTP version of the cold response (null if no response came).
      returned: always
      type: str
      sample: "1.1"
    bytes:
      description: Size of the cold response's body in bytes, after removing chunked framing (null if no response came).
      returned: always
      type: int
      sample: 64
    body:
      description: The cold response's body, up to 64 KiB, decoded as UTF-8 with replacement.
      returned: when O(endpoints[].return_body=true)
      type: str
      sample: '{"status":"ok","color":"green","version":"1.5.0"}'
    error:
      description: Why the cold request failed, or null.
      returned: always
      type: dict
      sample: {"kind": "refused", "msg": "unable to connect to 127.0.0.1:9: Connection refused"}
      contains:
        kind:
          description: One of V(dns), V(refused), V(timeout), V(tls), V(connection), V(protocol), V(http_status).
          returned: when the request failed
          type: str
          sample: refused
        msg:
          description: The action that failed, then its cause.
          returned: when the request failed
          type: str
          sample: "unable to connect to 127.0.0.1:9: Connection refused"
    cold:
      description:
        - The first request, on a new connection, split into phases in milliseconds.
        - A phase that was not reached, or does not apply, is null.
      returned: always
      type: dict
      contains:
        dns_ms:
          description: Name resolution (C(getaddrinfo)).
          returned: always
          type: float
          sample: 0.021
        connect_ms:
          description: TCP connect.
          returned: always
          type: float
          sample: 0.412
        tls_ms:
          description: TLS handshake; null for C(http://).
          returned: always
          type: float
          sample: 6.305
        ttfb_ms:
          description: From writing the request to reading the first byte of the response.
          returned: always
          type: float
          sample: 8.774
        total_ms:
          description: From the start of name resolution to the last byte of the response.
          returned: always
          type: float
          sample: 15.682
    warm:
      description:
        - The requests after the cold one, on the reused connection.
        - Each is timed from writing the request to reading the last byte of its response.
      returned: always
      type: dict
      contains:
        samples:
          description: Number of warm requests that got a complete response.
          returned: always
          type: int
          sample: 20
        connections:
          description: Connections used for the warm requests; 1 when the server kept the connection open throughout.
          returned: always
          type: int
          sample: 1
        unexpected_status:
          description: Warm responses whose status is not one of O(endpoints[].status_code).
          returned: always
          type: int
          sample: 0
        min_ms:
          description: Fastest warm request (null without samples).
          returned: always
          type: float
          sample: 1.02
        p50_ms:
          description: Median (nearest-rank).
          returned: always
          type: float
          sample: 1.311
        p95_ms:
          description: 95th percentile (nearest-rank).
          returned: always
          type: float
          sample: 1.874
        p99_ms:
          description: 99th percentile (nearest-rank).
          returned: always
          type: float
          sample: 2.06
        max_ms:
          description: Slowest warm request.
          returned: always
          type: float
          sample: 2.06
        mean_ms:
          description: Arithmetic mean.
          returned: always
          type: float
          sample: 1.372
        error:
          description: The failure that ended the warm requests early, or null; same keys as RV(http_probe[].error).
          returned: always
          type: dict
          sample: null
    tls:
      description: The TLS session and the server's certificate; null for C(http://) or when no handshake completed.
      returned: always
      type: dict
      contains:
        version:
          description: TLS protocol version.
          returned: always
          type: str
          sample: TLSv1.3
        cipher:
          description: Negotiated cipher suite.
          returned: always
          type: str
          sample: TLS_AES_256_GCM_SHA384
        alpn:
          description: Protocol agreed by ALPN, or null.
          returned: always
          type: str
          sample: http/1.1
        verified:
          description: True if the certificate chain and host name were verified.
          returned: always
          type: bool
          sample: true
        subject:
          description: Certificate subject, attributes in the certificate's order.
          returned: always
          type: str
          sample: CN=erp.demo.test
        issuer:
          description: Certificate issuer.
          returned: always
          type: str
          sample: CN=erp.demo.test
        subject_alt_names:
          description: Subject alternative names, as C(DNS:name) or C(IP:address).
          returned: always
          type: list
          elements: str
          sample: ["DNS:erp.demo.test"]
        not_before:
          description: Start of validity, ISO 8601 in UTC.
          returned: always
          type: str
          sample: "2025-11-29T18:02:11Z"
        not_after:
          description: Expiry, ISO 8601 in UTC.
          returned: always
          type: str
          sample: "2026-11-29T18:02:11Z"
        days_left:
          description: Whole days until expiry (negative once expired).
          returned: always
          type: int
          sample: 364
"""

from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    """The module's options (also used by the tests)."""
    return probe_argument_spec()


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    module.exit_json(changed=False, http_probe=probe_endpoints(module))


if __name__ == "__main__":
    main()
