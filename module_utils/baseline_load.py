"""A bounded HTTP(S) load test, closed-loop or at a constant rate: the http_load module's engine.

One asyncio event loop drives O(concurrency) keep-alive connections (raw HTTP/1.1 over
baseline_http's parser), each with at most one request in flight. Only the standard library is
used: this code runs where the module runs.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from array import array
from dataclasses import dataclass

from ansible.module_utils.baseline_http import (
    ERROR_KINDS,
    HttpError,
    ProtocolError,
    ResponseParser,
    Route,
    Target,
    as_http_error,
    client_context,
    connection_argument_spec,
    latency_summary,
    parse_resolve,
    parse_url,
    prepare_request,
    request_argument_spec,
    status_error_msg,
)

DEFAULT_REQUESTS = 1000
TIMER_SLACK_S = 0.001
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS")
LATENCY_PERCENTILES = (50, 90, 95, 99)


def load_argument_spec() -> dict:
    """The options of the http_load module: one request, how to load with it, how to reach the server."""
    spec = request_argument_spec()
    spec.update(
        concurrency=dict(type="int", default=100),
        requests=dict(type="int"),
        duration_s=dict(type="float"),
        rate_rps=dict(type="float"),
        max_duration_s=dict(type="float", default=300.0),
        progress_file=dict(type="path"),
        progress_interval_s=dict(type="float", default=5.0),
    )
    spec.update(connection_argument_spec())
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
                self.error_messages["http_status"] = status_error_msg(
                    self.plan.method, self.plan.url, parser.status, parser.reason, sorted(self.plan.status_codes))

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
    target = parse_url(params["url"])  # parsed before the resolve rules, so a bad URL is named first
    request = prepare_request(params, parse_resolve(params["resolve"]))
    context = client_context(params, [target])
    requests = params.get("requests")
    if requests is None and params.get("duration_s") is None:
        requests = DEFAULT_REQUESTS
    return LoadPlan(
        url=params["url"], method=params["method"], target=request.target, route=request.route,
        request=request.data, head_request=request.head_request,
        status_codes=frozenset(params["status_code"]),
        concurrency=params["concurrency"], requests=requests,
        duration_s=params.get("duration_s"), rate_rps=params.get("rate_rps"),
        max_duration_s=params["max_duration_s"], timeout_s=params["timeout_s"],
        context=context,
        progress_file=params.get("progress_file"), progress_interval_s=params["progress_interval_s"],
    )
