"""testbed/target on bad input: a clear message naming the cause, and no half-started target."""

import os
import shutil
import socket
import subprocess

import pytest
from conftest import PROJECT

TARGET = str(PROJECT / "testbed" / "target")
ENV = dict(os.environ, CONTAINERS_CONF=str(PROJECT / "testbed" / "containers.conf"))
pytestmark = pytest.mark.skipif(shutil.which("podman") is None, reason="podman is installed by scripts/setup")


def containers():
    out = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], env=ENV,
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_a_port_already_taken_is_named_and_nothing_is_started():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        before = containers()
        run = subprocess.run([TARGET, "up", "pytest-port"], env=dict(ENV, DEMO_SSH_PORT=str(port)),
                             capture_output=True, text=True)
    assert run.returncode != 0
    assert f"port {port} on 127.0.0.1 is already taken" in run.stderr
    assert containers() == before


def test_a_missing_podman_is_named(tmp_path):
    for tool in ("bash", "dirname", "sed"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    run = subprocess.run([TARGET, "up", "pytest-nopodman"], env=dict(ENV, PATH=str(tmp_path)),
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "podman is not installed" in run.stderr


def test_a_missing_image_is_named_and_nothing_is_started():
    before = containers()
    run = subprocess.run([TARGET, "up", "pytest-noimage"], env=dict(ENV, DEMO_IMAGE="localhost/no-such-image"),
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "the image localhost/no-such-image is missing; build it with testbed/image.sh" in run.stderr
    assert containers() == before


def test_a_start_that_fails_removes_the_container():
    """sshd never comes up in a container whose command is not systemd: the start must be undone."""
    before = containers()
    run = subprocess.run([TARGET, "up", "pytest-nosystemd"], env=dict(ENV, DEMO_PODMAN_ARGS="--entrypoint=/bin/false"),
                         capture_output=True, text=True, timeout=180)
    assert run.returncode != 0
    assert "start of pytest-nosystemd failed; removing it" in run.stderr
    assert containers() == before


CLASH = os.environ.get("DEMO_CONTAINER_PREFIX", "deploy-baseline-") + "pytest-clash"


def test_a_second_target_of_the_same_name_is_refused():
    subprocess.run(["podman", "create", "--name", CLASH, "localhost/deploy-baseline-target"],
                   env=ENV, check=True, capture_output=True)
    try:
        run = subprocess.run([TARGET, "up", "pytest-clash"], env=ENV, capture_output=True, text=True)
        assert run.returncode != 0
        assert "a target named pytest-clash already exists" in run.stderr
        assert CLASH in containers()
    finally:
        subprocess.run(["podman", "rm", "--force", CLASH], env=ENV, capture_output=True)
