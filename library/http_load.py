#!/usr/bin/python
"""Ansible module http_load: a bounded HTTP(S) load test, closed-loop or at a constant rate."""

from __future__ import annotations  # the target's Python may be 3.8

DOCUMENTATION = r"""
---
module: http_load
short_description: Load an HTTP(S) endpoint with concurrent keep-alive connections, for a bounded time
description:
  - Opens O(concurrency) keep-alive connections to one URL and sends requests on each, one at a time,
    until O(requests) have been sent or O(duration_s) has passed, whichever comes first. Returns the
    achieved requests per second, latency percentiles, status code counts and errors by kind.
  - Without O(rate_rps) the test is closed-loop (as wrk and hey run) and latency counts from when each
    request is written. With O(rate_rps) requests are due at a constant rate and latency counts from
    when each was due, not when it could be sent (as wrk2 does), so a server that stalls cannot hide
    the queue that builds up behind it.
  - The run is bounded by O(requests), O(duration_s) and the hard cap O(max_duration_s); it never lasts
    longer than O(max_duration_s) plus O(timeout_s). For a long run, start the task with C(async) and
    poll it, and follow the lines the module appends to O(progress_file) (see the examples).
  - Runs where the task runs. On the controller (with C(delegate_to=localhost)) it loads the service
    through the load balancer and TLS; on the target it loads the application on its local port.
  - Uses only the Python 3 standard library (C(asyncio) with raw HTTP/1.1), so it runs on any target.
  - Latency percentiles are nearest-rank over every response, in milliseconds from a monotonic clock.
  - In check mode the load test is not run, since loading a production service is not a read-only
    act; the task reports C(skipped).
version_added: "0.1.0"
author:
  - deploy-baseline contributors
options:
  concurrency:
    description: Number of connections, each with at most one request in flight.
    type: int
    default: 100
  requests:
    description:
      - Number of requests to send. When neither O(requests) nor O(duration_s) is given, 1000.
    type: int
  duration_s:
    description: Stop sending after this many seconds.
    type: float
  rate_rps:
    description:
      - Send at this constant rate (requests per second, over all connections) and count latency from
        each request's due time. Without it, each connection sends its next request as soon as the
        previous one is answered.
    type: float
  max_duration_s:
    description:
      - Hard cap on the time spent sending, in seconds, whatever O(requests) and O(duration_s) say.
        Requests still in flight then get at most O(timeout_s) more.
    type: float
    default: 300.0
  progress_file:
    description:
      - Append a JSON line to this file every O(progress_interval_s) seconds while the test runs, with
        C(elapsed_s), C(requests), C(errors) and C(rps) so far, and a last line with C(done=true).
        It is on the host that runs the module.
    type: path
  progress_interval_s:
    description: Seconds between two lines of O(progress_file).
    type: float
    default: 5.0
extends_documentation_fragment:
  - baseline_http
  - baseline_http.request
notes:
  - Supports check mode by not running (see the description); always returns C(changed=false).
  - One Python process sends every request; on a small machine the load generator competes with the
    server for CPU, as wrk does. Compare with wrk on the same machine (C(bench/load_ceiling.py)).
seealso:
  - module: http_probe
"""

EXAMPLES = r"""
- name: Load the public health endpoint with 100 connections for 2000 requests, from the controller
  http_load:
    url: https://erp.demo.test/health
    concurrency: 100
    requests: 2000
    ca_path: files/erp.demo.test.pem
  delegate_to: localhost
  register: public_load

- name: Load the app alone at a constant 200 requests per second for 60 s, in the background
  http_load:
    url: http://127.0.0.1:8002/api/products
    concurrency: 50
    duration_s: 60
    rate_rps: 200
    progress_file: /tmp/http_load.progress  # follow it with tail -f on the target
    progress_interval_s: 5
  async: 120
  poll: 0
  register: load_job

# molecule/probe/tasks/load_progress.yml shows each progress line in the play's output instead.
- name: Wait for the load test to end
  ansible.builtin.async_status:
    jid: "{{ load_job.ansible_job_id }}"
  register: load_result
  until: load_result.finished
  retries: 60
  delay: 2

- name: Load the blue colour, under its public name, before it takes traffic
  http_load:
    url: http://erp.demo.test/health
    resolve:
      - erp.demo.test:80:127.0.0.1:8001
    duration_s: 10
"""

RETURN = r"""
http_load:
  description: What the load test measured.
  returned: when not in check mode
  type: dict
  contains:
    url:
      description: The URL loaded.
      returned: always
      type: str
      sample: http://127.0.0.1:8002/health
    method:
      description: The HTTP method.
      returned: always
      type: str
      sample: GET
    address:
      description: The address the connections went to, as resolved (null if resolution failed).
      returned: always
      type: str
      sample: 127.0.0.1
    port:
      description: The TCP port the connections went to.
      returned: always
      type: int
      sample: 8002
    concurrency:
      description: Number of connections used at once.
      returned: always
      type: int
      sample: 100
    rate_rps:
      description: The constant rate asked for, or null for a closed-loop test.
      returned: always
      type: float
      sample: null
    latency_from:
      description: >-
        V(sent) (closed loop, from writing each request) or V(due) (constant rate, from each
        request's due time).
      returned: always
      type: str
      sample: sent
    requests:
      description: Requests that ended, with a response or with an error.
      returned: always
      type: int
      sample: 2000
    responses:
      description: Requests answered with a complete HTTP response, whatever its status.
      returned: always
      type: int
      sample: 2000
    bytes:
      description: Body bytes received in all responses.
      returned: always
      type: int
      sample: 132000
    connections:
      description: Connections opened, counting reconnections after errors or closes by the server.
      returned: always
      type: int
      sample: 100
    stale_retries:
      description:
        - Requests sent again, once, on a new connection because the server had closed their kept-alive
          connection before answering (as nginx does to idle connections when it reloads). Browsers and
          curl resend such idempotent requests (C(GET), C(HEAD), C(OPTIONS)) the same way; they are not
          errors, and their latency includes the retry.
      returned: always
      type: int
      sample: 0
    duration_s:
      description: From the first request sent to the last one ended, in seconds.
      returned: always
      type: float
      sample: 1.532
    rps:
      description: Achieved rate, RV(http_load.requests) divided by RV(http_load.duration_s).
      returned: always
      type: float
      sample: 1305.5
    stopped_by:
      description: >-
        What ended the test: V(requests), V(duration), V(max_duration), or V(error) when the URL's host
        could not be resolved and nothing was sent.
      returned: always
      type: str
      sample: requests
    latency:
      description: Latency of the responses in milliseconds (nearest-rank percentiles; null when there are none).
      returned: always
      type: dict
      contains:
        min_ms:
          description: Fastest response.
          returned: always
          type: float
          sample: 9.514
        p50_ms:
          description: Median.
          returned: always
          type: float
          sample: 70.215
        p90_ms:
          description: 90th percentile.
          returned: always
          type: float
          sample: 81.927
        p95_ms:
          description: 95th percentile.
          returned: always
          type: float
          sample: 88.403
        p99_ms:
          description: 99th percentile.
          returned: always
          type: float
          sample: 112.6
        max_ms:
          description: Slowest response.
          returned: always
          type: float
          sample: 130.37
        mean_ms:
          description: Arithmetic mean.
          returned: always
          type: float
          sample: 72.481
    status_codes:
      description: Number of responses by HTTP status (keys are the statuses, as strings).
      returned: always
      type: dict
      sample: {"200": 2000}
    errors:
      description:
        - Number of failed requests by kind; every kind is present, most often with 0.
        - V(http_status) counts responses with a status not in O(status_code); they are also in
          RV(http_load.responses) and RV(http_load.status_codes).
      returned: always
      type: dict
      sample: {"dns": 0, "refused": 0, "timeout": 0, "tls": 0, "connection": 0, "protocol": 0, "http_status": 0}
      contains:
        dns:
          description: The URL's host did not resolve.
          returned: always
          type: int
          sample: 0
        refused:
          description: Connections refused.
          returned: always
          type: int
          sample: 0
        timeout:
          description: Connections or responses that took longer than O(timeout_s).
          returned: always
          type: int
          sample: 0
        tls:
          description: TLS handshakes that failed, certificate verification included.
          returned: always
          type: int
          sample: 0
        connection:
          description: Connections reset or closed while a request was in flight, and other socket errors.
          returned: always
          type: int
          sample: 0
        protocol:
          description: Answers that are not valid HTTP/1.x.
          returned: always
          type: int
          sample: 0
        http_status:
          description: Responses with an unexpected status.
          returned: always
          type: int
          sample: 0
    error_messages:
      description: The first message seen for each kind of error that occurred.
      returned: always
      type: dict
      sample: {"refused": "unable to connect to 127.0.0.1:9: Connection refused"}
"""

from ansible.module_utils.baseline_http import hide_secret_headers
from ansible.module_utils.baseline_load import build_plan, load_argument_spec, plan_errors, run_load
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    """The module's options (also used by the tests)."""
    return load_argument_spec()


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    params = module.params
    hide_secret_headers(module, params["headers"])
    problems = plan_errors(params)
    if problems:
        module.fail_json(msg=f"unable to run the load test: {'; '.join(problems)}")
    try:
        plan = build_plan(params)
    except ValueError as exc:
        module.fail_json(msg=f"unable to run the load test: {exc}")
    if module.check_mode:
        module.exit_json(changed=False, skipped=True,
                         msg="load test not run in check mode: it loads the service, which is not read-only")

    module.exit_json(changed=False, http_load=run_load(plan))


if __name__ == "__main__":
    main()
