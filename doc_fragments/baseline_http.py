"""Documentation of the options that http_probe and http_load share (module_utils/baseline_http.py's
connection_argument_spec), and of what both do with headers and HTTP versions."""


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
