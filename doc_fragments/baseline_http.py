"""Documentation of the options that http_probe and http_load share, once: the connection's
(module_utils/baseline_http.py's connection_argument_spec, fragment baseline_http) and the request's
(its request_argument_spec, fragment baseline_http.request: http_load's own options, and the suboptions
of http_probe's endpoints, which a fragment cannot fill and tests/unit/test_module_docs.py holds to
these words), and what both do with headers and HTTP versions."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  timeout_s:
    description:
      - Time limit, in seconds, for opening a connection (resolve, connect, handshake) and,
        separately, for each request and its whole response.
      - Name resolution by the system resolver cannot be interrupted; use O(resolve) with an
        address to avoid it.
    type: float
    default: 10.0
    aliases: [timeout]
  validate_certs:
    description:
      - Verify the server's certificate and host name.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust instead of the system's, when
        O(validate_certs=true). For a self-signed server, this can be the server's certificate.
    type: path
  resolve:
    description:
      - Send requests for a host and port to another address, keeping the URL's host name for SNI
        and the Host header, as curl's C(--resolve HOST:PORT:ADDRESS). With a fourth field,
        C(HOST:PORT:ADDRESS:PORT2), they go to another port too, as curl's C(--connect-to); this is
        how one colour of a blue/green pair is reached before it takes traffic.
      - An IPv6 address is written in brackets, for example C(erp.demo.test:443:[::1]).
    type: list
    elements: str
    default: []
notes:
  - The values of headers that may hold credentials (C(Authorization), C(Proxy-Authorization),
    C(Cookie), and any header whose name contains C(token), C(key), C(secret), C(password), C(auth)
    or C(session)) are masked in the module's output, as for a C(no_log) option.
  - HTTP/2 is not spoken; TLS offers only C(http/1.1) by ALPN.
"""

    # The request's options, for a module that loads one URL (http_load); http_probe's endpoints
    # repeat them as suboptions, a test holding them to these words.
    REQUEST = r"""
options:
  url:
    description:
      - The C(http://) or C(https://) URL to request. Its host name is sent in the Host header and
        as TLS SNI, also when O(resolve) sends the requests elsewhere.
    type: str
    required: true
  method:
    description:
      - HTTP method.
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
"""
