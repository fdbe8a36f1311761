"""Probing HTTP(S) endpoints, cold and warm: the http_probe module's logic over baseline_http.

Shared by the http_probe module and the baseline_facts module (its probe of the local port).
Only the standard library is used: this code runs where the module runs.
"""

from __future__ import annotations

from ansible.module_utils.baseline_http import (
    SAFE_METHODS,
    Connection,
    HttpError,
    Request,
    client_context,
    connection_argument_spec,
    fetch_certificate,
    hide_secret_headers,
    latency_summary,
    ms,
    parse_resolve,
    prepare_request,
    request_argument_spec,
    status_error_msg,
)

BODY_KEEP_BYTES = 65536


def probe_argument_spec() -> dict:
    """The options of the http_probe module."""
    spec = dict(
        endpoints=dict(
            type="list", elements="dict", required=True,
            options=dict(name=dict(type="str"), **request_argument_spec(),
                         return_body=dict(type="bool", default=False)),
        ),
        warm_samples=dict(type="int", default=20),
    )
    spec.update(connection_argument_spec())
    return spec


def empty_result(endpoint: dict) -> dict:
    """The shape of one endpoint's result before anything is known."""
    result = {
        "name": endpoint["name"], "url": endpoint["url"], "method": endpoint["method"],
        "address": None, "port": None, "resolved_by": None, "skipped": False, "ok": False,
        "status": None, "status_ok": False, "http_version": None, "bytes": None, "error": None,
        "cold": {"dns_ms": None, "connect_ms": None, "tls_ms": None, "ttfb_ms": None, "total_ms": None},
        "warm": dict(samples=0, connections=0, unexpected_status=0, error=None, **latency_summary([])),
        "tls": None,
    }
    if endpoint["return_body"]:
        result["body"] = None
    return result


def tls_facts(session) -> dict | None:
    if session is None:
        return None
    facts = {"version": session.version, "cipher": session.cipher, "alpn": session.alpn,
             "verified": session.verified}
    certificate = session.certificate or {}
    for key in ("subject", "issuer", "subject_alt_names", "not_before", "not_after", "days_left"):
        facts[key] = certificate.get(key)
    return facts


def error_facts(error: HttpError) -> dict:
    return {"kind": error.kind, "msg": error.msg}


def status_error(endpoint: dict, exchange) -> dict:
    return {"kind": "http_status", "msg": status_error_msg(
        endpoint["method"], endpoint["url"], exchange.status, exchange.reason, endpoint["status_code"])}


def warm_requests(connection: Connection, request: Request, endpoint: dict, samples: int) -> dict:
    """Send `samples` requests on the connection, reopening it (untimed) if the server closes it."""
    latencies = []
    connections = 0 if connection.sock is None else 1
    unexpected, error = 0, None
    for _ in range(samples):
        try:
            if connection.sock is None:
                connection.open()
                connections += 1
            exchange = connection.exchange(request.data, head_request=request.head_request)
        except HttpError as failure:
            error = error_facts(failure)
            break
        latencies.append(exchange.total_s)
        if exchange.status not in endpoint["status_code"]:
            unexpected += 1
    return dict(samples=len(latencies), connections=connections, unexpected_status=unexpected,
                error=error, **latency_summary(latencies))


def probe_endpoint(endpoint: dict, rules: dict, context, params: dict, check_mode: bool) -> dict:
    """Probe one endpoint: a cold request on a new connection, then the warm ones on it.

    `context` is the TLS client context for https URLs (None when no endpoint uses https).
    """
    result = empty_result(endpoint)
    request = prepare_request(endpoint, rules)
    target, route = request.target, request.route
    result.update(address=route.address, port=route.port, resolved_by=route.resolved_by)
    if check_mode and endpoint["method"] not in SAFE_METHODS:
        result["skipped"] = True
        return result

    connection = Connection(target, route, context if target.scheme == "https" else None, params["timeout_s"])
    keep = BODY_KEEP_BYTES if endpoint["return_body"] else 0
    try:
        try:
            connection.open()
            exchange = connection.exchange(request.data, head_request=request.head_request, keep_body=keep)
        finally:
            phases = connection.phases
            result["address"] = connection.peer or route.address
            result["tls"] = tls_facts(connection.tls)
            result["cold"].update(
                dns_ms=ms(phases["dns_s"]) if "dns_s" in phases else None,
                connect_ms=ms(phases["connect_s"]) if "connect_s" in phases else None,
                tls_ms=ms(phases["tls_s"]) if "tls_s" in phases else None,
            )
    except HttpError as failure:
        result["error"] = error_facts(failure)
        if failure.kind == "tls" and params["validate_certs"]:
            result["tls"] = tls_facts(fetch_certificate(target, route, params["timeout_s"]))
            if result["tls"] is not None:
                result["tls"]["verified"] = False
        connection.close()
        return result

    setup_s = sum(connection.phases.values())
    result["cold"].update(ttfb_ms=ms(exchange.ttfb_s), total_ms=ms(setup_s + exchange.total_s))
    result.update(status=exchange.status, status_ok=exchange.status in endpoint["status_code"],
                  http_version=exchange.http_version, bytes=exchange.body_bytes)
    if endpoint["return_body"]:
        result["body"] = exchange.body.decode("utf-8", "replace")
    if result["status_ok"]:
        result["ok"] = True
    else:
        result["error"] = status_error(endpoint, exchange)
    try:
        result["warm"] = warm_requests(connection, request, endpoint, params["warm_samples"])
    finally:
        connection.close()
    return result


def probe_endpoints(module) -> list[dict]:
    """The http_probe module's result: each of module.params["endpoints"] probed, in order."""
    params = module.params
    for endpoint in params["endpoints"]:
        hide_secret_headers(module, endpoint["headers"])

    if params["warm_samples"] < 0:
        module.fail_json(msg=f"warm_samples must be 0 or more, not {params['warm_samples']}")
    if params["timeout_s"] <= 0:
        module.fail_json(msg=f"timeout_s must be more than 0, not {params['timeout_s']}")
    try:
        rules = parse_resolve(params["resolve"])
        targets = [prepare_request(endpoint, rules).target for endpoint in params["endpoints"]]
        for endpoint, target in zip(params["endpoints"], targets):
            endpoint["name"] = endpoint["name"] or target.path.split("?")[0]
        context = client_context(params, targets)
    except ValueError as exc:
        module.fail_json(msg=f"unable to probe: {exc}")
    names = [endpoint["name"] for endpoint in params["endpoints"]]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        module.fail_json(msg=f"unable to probe: endpoint names must be unique, repeated: {', '.join(duplicates)}")

    return [probe_endpoint(endpoint, rules, context, params, module.check_mode)
            for endpoint in params["endpoints"]]
