"""The real broker for integration tests, started and stopped by the project's own command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_support import ROOT, free_port


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh single-node KRaft broker on free ports, via ``youasked kafka start``.

    ``YOUASKED_TEST_KAFKA_BOOTSTRAP`` points the tests at an existing cluster instead.
    """
    existing = os.environ.get("YOUASKED_TEST_KAFKA_BOOTSTRAP")
    if existing:
        yield existing
        return
    state = tmp_path_factory.mktemp("broker")
    port, controller = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "YOUASKED_STATE_DIR": str(state),
            "YOUASKED_CACHE_DIR": str(ROOT / ".cache"),
            "YOUASKED_KAFKA_PORT": str(port),
            "YOUASKED_KAFKA_CONTROLLER_PORT": str(controller),
        }
    )
    env.pop("YOUASKED_KAFKA_BOOTSTRAP", None)
    command = [sys.executable, "-m", "youasked.cli", "kafka"]
    started = subprocess.run(
        [*command, "start"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if started.returncode != 0:
        log = Path(state, "kafka", "logs", "server.out")
        pytest.fail(
            f"broker did not start:\n{started.stdout}\n{started.stderr}\n"
            f"{log.read_text()[-3000:] if log.exists() else ''}"
        )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([*command, "stop"], env=env, cwd=ROOT, capture_output=True, timeout=120, check=False)
