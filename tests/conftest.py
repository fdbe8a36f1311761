"""Make the project's module_utils and modules importable as Ansible loads them."""

import os
import runpy
import socket
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Before Ansible reads its configuration: the project's plugins, and no state in ~/.ansible.
os.environ.setdefault("ANSIBLE_FILTER_PLUGINS", str(PROJECT / "filter_plugins"))
os.environ.setdefault("ANSIBLE_HOME", str(PROJECT / ".ansible"))

import pytest

runpy.run_path(str(PROJECT / "module_utils" / "on_controller.py"))
sys.path.insert(0, str(PROJECT / "library"))
sys.path.insert(0, str(PROJECT / "filter_plugins"))

FIXTURES = PROJECT / "tests" / "fixtures"


def load_action_plugin(name):
    """An action plugin of action_plugins/ as a Python module (its name would clash with the
    documentation-only module of library/ that bears the same one)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"action_{name}", PROJECT / "action_plugins" / f"{name}.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin


def ansible_playbook(cwd, *args, env=None):
    """Run ansible-playbook with the project's configuration, its local hosts on this Python; (exit
    status, output)."""
    import subprocess

    command = [str(Path(sys.executable).parent / "ansible-playbook"),
               "-e", f"ansible_python_interpreter={sys.executable}", *args]
    environment = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="false",
                       ANSIBLE_STDOUT_CALLBACK="default", **(env or {}))
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=environment, check=False)
    return done.returncode, done.stdout + done.stderr


def run_playbook(tmp_path, tasks, *args, env=None, hosts=None):
    """Run tasks in a play on localhost with the project's configuration; (exit status, output).

    With hosts ({name: variables}), on those hosts instead, each over a local connection.
    """
    import yaml

    inventory = "localhost,"
    if hosts is not None:
        inventory = str(tmp_path / "hosts.yml")
        Path(inventory).write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Test", "hosts": "all", "gather_facts": False,
                                         "tasks": tasks}]))
    return ansible_playbook(tmp_path, "-i", inventory, "-c", "local", str(playbook), *args, env=env)


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


@pytest.fixture
def invalid_names_fail(monkeypatch):
    """Names under .invalid fail as the resolver fails them, with the real exception: the machine's
    resolver is not on loopback, and no test may send traffic off it."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
