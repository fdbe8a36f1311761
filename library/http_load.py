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
  url:
    description:
      - The C(http://) or C(https://) URL to load. Its host name is sent in the Host header and as
        TLS SNI, also when O(resolve) sends the requests elsewhere.
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
    choices: [GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS]
  headers:
    description:
      - Request headers. Host, User-Agent and Accept are sent unless given here.
      - The values of credential-like headers (C(Authorization), C(Proxy-Authorization), C(Cookie),
        and any header whose name contains C(token), C(key), C(secret), C(password), C(auth) or
        C(session)) are masked in the module's output, as for a C(no_log) option.
    type: dict
    default: {}
  body:
    description: Request body, sent as given with a Content-Length header.
    type: str
  status_code:
    description: Statuses that count as success; any other also counts as an error of kind V(http_status).
    type: list
    elements: int
    default: [200]
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
  timeout_s:
    description: Time limit, in seconds, for opening a connection and, separately, for each response.
    type: float
    default: 10.0
    aliases: [timeout]
  validate_certs:
    description: Verify the server's certificate and host name.
    type: bool
    default: true
  ca_path:
    description: PEM file of the certificate authorities to trust instead of the system's.
    type: path
  resolve:
    description:
      - Send requests for a host and port to another address, as curl's C(--resolve HOST:PORT:ADDRESS),
        or to another address and port with C(HOST:PORT:ADDRESS:PORT2), as curl's C(--connect-to).
        The URL's host name is still sent for SNI and in the Host header.
    type: list
    elements: str
    default: []
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
notes:
  - Supports check mode by not running (see the description); always returns C(changed=false).
  - HTTP/2 is not spoken; TLS offers only C(http/1.1) by ALPN.
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

import asyncio
import json
import socket
import ssl
import time
from array import array
from dataclasses import dataclass

from ansible.module_utils.baseline_http import (
    ERROR_KINDS,
    METHODS,
    HttpError,
    ProtocolError,
    ResponseParser,
    Route,
    Target,
    as_http_error,
    build_request,
    latency_summary,
    parse_resolve,
    parse_url,
    route_for,
    secret_header_values,
    shared_argument_spec,
    tls_context,
)
from ansible.module_utils.basic import AnsibleModule

DEFAULT_REQUESTS = 1000
TIMER_SLACK_S = 0.001
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS")
LATENCY_PERCENTILES = (50, 90, 95, 99)


def get_argument_spec() -> dict:
    """The module's options (also used by the tests)."""
    spec = dict(
        url=dict(type="str", required=True),
        method=dict(type="str", default="GET", choices=list(METHODS)),
        headers=dict(type="dict", default={}, no_log=False),
        body=dict(type="str"),
        status_code=dict(type="list", elements="int", default=[200]),
        concurrency=dict(type="int", default=100),
        requests=dict(type="int"),
        duration_s=dict(type="float"),
        rate_rps=dict(type="float"),
        max_duration_s=dict(type="float", default=300.0),
        progress_file=dict(type="path"),
        progress_interval_s=dict(type="float", default=5.0),
    )
    spec.update(shared_argument_spec())
    return spec


@dataclass
class LoadPlan:
    """Everything a load run needs, checked and resolved."""

    url: str
    method: str
    target: Target
    route: Route
    request: bytes
    head_request: bool
    status_codes: frozenset
    concurrency: int
    requests: int | None
    duration_s: float | None
    rate_rps: float | None
    max_duration_s: float
    timeout_s: float
    context: ssl.SSLContext | None = None  # for https URLs
    progress_file: str | None = None
    progress_interval_s: float = 5.0


def plan_errors(params: dict) -> list[str]:
    """What is wrong with the numbers of a load test's options (the argument spec checks types)."""
    errors = []
    for name in ("concurrency", "requests"):
        if params.get(name) is not None and params[name] < 1:
            errors.append(f"{name} must be 1 or more, not {params[name]}")
    for name in ("duration_s", "rate_rps", "max_duration_s", "timeout_s", "progress_interval_s"):
        if params.get(name) is not None and params[name] <= 0:
            errors.append(f"{name} must be more than 0, not {params[name]}")
    duration, cap = params.get("duration_s"), params.get("max_duration_s")
    if duration is not None and cap is not None and duration > cap:
        errors.append(f"duration_s ({duration}) is more than max_duration_s ({cap}); raise max_duration_s")
    return errors


class _Client(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self):
        self.transport = None
        self.parser = None
        self.waiter = None
        self.sent_at = 0.0
        self.closed = False
        self.served = 0
        self.received = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, request: bytes, parser: ResponseParser, loop) -> asyncio.Future:
        self.parser = parser
        self.received = False
        self.waiter = loop.create_future()
        self.sent_at = time.perf_counter()
        self.transport.write(request)
        return self.waiter

    def _settle(self, result=None, error=None):
        waiter, self.waiter, self.parser = self.waiter, None, None
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(result)
            else:
                waiter.set_exception(error)

    def data_received(self, data):
        self.received = True
        parser = self.parser
        if parser is None:  # bytes nobody asked for: the connection cannot be trusted any more
            self.close()
            return
        try:
            done = parser.feed(data)
        except ProtocolError as exc:
            self._settle(error=exc)
            self.close()
            return
        if done:
            self.served += 1
            self._settle(result=parser)

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is None:
            return
        if exc is None and self.parser is not None:
            try:
                self.parser.feed_eof()
            except ProtocolError as error:
                self._settle(error=error)
                return
            self._settle(result=self.parser)
        else:
            self._settle(error=exc or ConnectionResetError("connection closed by the server"))

    def expire(self, now: float, timeout_s: float) -> None:
        if self.waiter is not None and now - self.sent_at > timeout_s:
            self._settle(error=TimeoutError("timed out"))
            self.close()

    def close(self):
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LoadRun:
    """The state of one load test: the schedule, the clients and what they measured."""

    def __init__(self, plan: LoadPlan, loop):
        self.plan = plan
        self.loop = loop
        self.context = plan.context
        self.clients: set[_Client] = set()
        self.latencies = array("d")
        self.status_counts: dict[int, int] = {}
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self.error_messages: dict[str, str] = {}
        self.bytes = 0
        self.connections = 0
        self.stale_retries = 0
        self.issued = 0
        self.ended = 0
        self.responses = 0
        self.stopped_by = None
        self.started = time.perf_counter()
        self.finished = None
        # Requests are sent within this window after the start; what ends it is the stop reason.
        if plan.duration_s is not None and plan.duration_s <= plan.max_duration_s:
            self.send_window_s, self.window_reason = plan.duration_s, "duration"
        else:
            self.send_window_s, self.window_reason = plan.max_duration_s, "max_duration"

    def next_due(self) -> float | None:
        """When the next request is due (perf_counter time), or None when the test is over."""
        if self.stopped_by is not None:
            return None
        plan = self.plan
        if plan.requests is not None and self.issued >= plan.requests:
            self.stopped_by = "requests"
            return None
        now = time.perf_counter()
        due = self.started + self.issued / plan.rate_rps if plan.rate_rps else now
        if due - self.started >= self.send_window_s or now - self.started >= self.send_window_s:
            self.stopped_by = self.window_reason
            return None
        self.issued += 1
        return due

    async def connect(self) -> _Client:
        plan = self.plan
        self.connections += 1
        action = f"unable to connect to {plan.route.address}:{plan.route.port}"
        try:
            connecting = self.loop.create_connection(
                _Client, plan.route.address, plan.route.port, ssl=self.context,
                server_hostname=plan.target.host if self.context else None)
            _transport, client = await asyncio.wait_for(connecting, plan.timeout_s)
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            raise HttpError("timeout", f"{action}: timed out") from None
        except OSError as exc:
            raise as_http_error(exc, action) from None
        self.clients.add(client)
        return client

    def record_error(self, error: HttpError) -> None:
        self.ended += 1
        self.errors[error.kind] += 1
        self.error_messages.setdefault(error.kind, error.msg)

    def record_response(self, parser: ResponseParser, latency_s: float) -> None:
        self.ended += 1
        self.responses += 1
        self.latencies.append(latency_s)
        self.bytes += parser.body_bytes
        self.status_counts[parser.status] = self.status_counts.get(parser.status, 0) + 1
        if parser.status not in self.plan.status_codes:
            self.errors["http_status"] += 1
            if "http_status" not in self.error_messages:
                expected = ", ".join(str(code) for code in sorted(self.plan.status_codes))
                answer = f"{parser.status} {parser.reason}".strip()
                self.error_messages["http_status"] = (
                    f"{self.plan.method} {self.plan.url} answered {answer}, expected {expected}")

    def progress(self, done: bool = False) -> dict:
        elapsed = time.perf_counter() - self.started
        line = {"elapsed_s": round(elapsed, 3), "requests": self.ended,
                "errors": sum(self.errors.values()),
                "rps": round(self.ended / elapsed, 1) if elapsed > 0 else 0.0}
        if done:
            line["done"] = True
        return line


async def _worker(run: LoadRun) -> None:
    """One connection's loop: take the next due request, send it, wait for its response."""
    plan = run.plan
    rate = plan.rate_rps
    client = None
    action = f"unable to get a response from {plan.route.address}:{plan.route.port}"
    while True:
        due = run.next_due()
        if due is None:
            break
        if rate:
            # asyncio wakes up to a millisecond late (epoll rounds its timeout up): wake early,
            # and count from the later of the due time and the actual send.
            delay = due - time.perf_counter() - TIMER_SLACK_S
            if delay > 0:
                await asyncio.sleep(delay)
        try:
            if client is None or client.closed:
                client = await run.connect()
            started = max(due, time.perf_counter()) if rate else time.perf_counter()
            try:
                parser = await client.send(plan.request, ResponseParser(head_request=plan.head_request), run.loop)
            except (ProtocolError, ConnectionResetError, BrokenPipeError):
                # The server closed a kept-alive connection as it went idle (nginx does on reload):
                # like browsers and curl, resend an idempotent request once on a new connection
                # when nothing of its answer came (RFC 9112, 9.3.1). Its latency keeps the retry.
                if not (client.served and not client.received and plan.method in IDEMPOTENT_METHODS):
                    raise
                client.close()
                run.stale_retries += 1
                client = await run.connect()
                parser = await client.send(plan.request, ResponseParser(head_request=plan.head_request), run.loop)
        except HttpError as error:
            run.record_error(error)
            client = None
            continue
        except (OSError, TimeoutError, ProtocolError) as exc:
            run.record_error(as_http_error(exc, action))
            client.close()
            client = None
            continue
        run.record_response(parser, time.perf_counter() - started)
        if not parser.keep_alive:
            client.close()
            client = None
    if client is not None:
        client.close()


async def _watchdog(run: LoadRun) -> None:
    """Fail requests that have waited longer than timeout_s (one timer for all connections)."""
    timeout = run.plan.timeout_s
    tick = min(0.1, timeout / 10)
    while True:
        await asyncio.sleep(tick)
        now = time.perf_counter()
        for client in list(run.clients):
            if client.closed and client.waiter is None:
                run.clients.discard(client)
            else:
                client.expire(now, timeout)


async def _progress(run: LoadRun, path: str, interval_s: float) -> None:
    with open(path, "a", encoding="utf-8") as out:
        while True:
            await asyncio.sleep(interval_s)
            out.write(json.dumps(run.progress()) + "\n")
            out.flush()


async def _run(plan: LoadPlan) -> LoadRun:
    run = LoadRun(plan, asyncio.get_running_loop())
    helpers = [asyncio.create_task(_watchdog(run))]
    if plan.progress_file:
        with open(plan.progress_file, "a", encoding="utf-8") as out:
            out.write(json.dumps(run.progress()) + "\n")
        helpers.append(asyncio.create_task(_progress(run, plan.progress_file, plan.progress_interval_s)))
    workers = [asyncio.create_task(_worker(run)) for _ in range(plan.concurrency)]
    _done, late = await asyncio.wait(workers, timeout=run.send_window_s + plan.timeout_s + 1.0)
    run.finished = time.perf_counter()
    for task in [*late, *helpers]:
        task.cancel()
    await asyncio.gather(*late, *helpers, return_exceptions=True)
    for client in run.clients:
        client.close()
    if plan.progress_file:
        with open(plan.progress_file, "a", encoding="utf-8") as out:
            out.write(json.dumps(run.progress(done=True)) + "\n")
    return run


def summarise(run: LoadRun) -> dict:
    """The module's result from a finished run."""
    plan = run.plan
    duration = (run.finished or time.perf_counter()) - run.started
    latency = latency_summary(run.latencies, LATENCY_PERCENTILES)
    return {
        "url": plan.url, "method": plan.method,
        "address": plan.route.address, "port": plan.route.port,
        "concurrency": plan.concurrency, "rate_rps": plan.rate_rps,
        "latency_from": "due" if plan.rate_rps else "sent",
        "requests": run.ended, "responses": run.responses, "bytes": run.bytes,
        "connections": run.connections,
        "stale_retries": run.stale_retries,
        "duration_s": round(duration, 3),
        "rps": round(run.ended / duration, 1) if duration > 0 else 0.0,
        "stopped_by": run.stopped_by or "max_duration",
        "latency": latency,
        "status_codes": {str(code): count for code, count in sorted(run.status_counts.items())},
        "errors": dict(run.errors),
        "error_messages": dict(sorted(run.error_messages.items())),
    }


def resolve_address(route: Route) -> str:
    """The first address of the route's host (an address resolves to itself without DNS)."""
    try:
        infos = socket.getaddrinfo(route.address, route.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise as_http_error(exc, f"unable to resolve {route.address}") from None
    return infos[0][4][0]


def run_load(plan: LoadPlan) -> dict:
    """Run a load test and return its summary."""
    try:
        address = resolve_address(plan.route)
    except HttpError as error:
        result = summarise(LoadRun(plan, None))
        result.update(address=None, requests=1, stopped_by="error", duration_s=0.0, rps=0.0)
        result["errors"][error.kind] += 1
        result["error_messages"] = {error.kind: error.msg}
        return result
    plan.route = Route(address=address, port=plan.route.port, resolved_by=plan.route.resolved_by)
    return summarise(asyncio.run(_run(plan)))


def build_plan(params: dict) -> LoadPlan:
    """A LoadPlan from the module's parameters; ValueError if the URL, a resolve rule or the CA file is bad."""
    target = parse_url(params["url"])
    route = route_for(target, parse_resolve(params["resolve"]))
    body = params["body"].encode("utf-8") if params.get("body") is not None else None
    requests = params.get("requests")
    if requests is None and params.get("duration_s") is None:
        requests = DEFAULT_REQUESTS
    return LoadPlan(
        url=params["url"], method=params["method"], target=target, route=route,
        request=build_request(params["method"], target, params["headers"], body),
        head_request=params["method"] == "HEAD",
        status_codes=frozenset(params["status_code"]),
        concurrency=params["concurrency"], requests=requests,
        duration_s=params.get("duration_s"), rate_rps=params.get("rate_rps"),
        max_duration_s=params["max_duration_s"], timeout_s=params["timeout_s"],
        context=tls_context(params["validate_certs"], params.get("ca_path")) if target.scheme == "https" else None,
        progress_file=params.get("progress_file"), progress_interval_s=params["progress_interval_s"],
    )


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    params = module.params
    for secret in secret_header_values(params["headers"]):
        module.no_log_values.add(secret)
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
