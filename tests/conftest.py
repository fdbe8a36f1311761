"""Make the project's module_utils and modules importable as Ansible loads them."""

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Before Ansible reads its configuration: the project's plugins, and no state in ~/.ansible.
os.environ.setdefault("ANSIBLE_FILTER_PLUGINS", str(PROJECT / "filter_plugins"))
os.environ.setdefault("ANSIBLE_HOME", str(PROJECT / ".ansible"))

import ansible.module_utils
import pytest

ansible.module_utils.__path__.append(str(PROJECT / "module_utils"))
sys.path.insert(0, str(PROJECT / "library"))
sys.path.insert(0, str(PROJECT / "filter_plugins"))

FIXTURES = PROJECT / "tests" / "fixtures"


# Local HTTP and HTTPS servers shared by the probe and load tests (tests/unit/local_http.py).
@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from local_http import generate_certificate

    return generate_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def http_server():
    from local_http import LocalServer

    server = LocalServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def tls_server(certificate):
    from local_http import LocalServer, server_context

    server = LocalServer(server_context(*certificate))
    yield server
    server.close()
