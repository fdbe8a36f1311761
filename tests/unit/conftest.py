"""Local HTTP and HTTPS servers shared by the probe and load tests (tests/unit/local_http.py)."""

import pytest
from local_http import LocalServer, generate_certificate, server_context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return generate_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def http_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def tls_server(certificate):
    server = LocalServer(server_context(*certificate))
    yield server
    server.close()
