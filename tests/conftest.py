"""Fixtures shared by the test layers: the read model's databases, SQLite and real PostgreSQL, and
the real Kafka broker (for the integration and the browser tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.readmodel.db import make_engine, upgrade
from tests.kafka_support import ROOT, free_port
from tests.postgres_support import fresh_database, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (``YOUASKED_TEST_POSTGRES_URL`` names an existing one)."""
    existing = os.environ.get("YOUASKED_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    with postgres_server() as url:
        yield url


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def migrated_database(request: pytest.FixtureRequest, sqlite_file: Path) -> Engine:
    """A new, migrated read model of the kind ``request.param`` names (``sqlite`` in ``sqlite_file``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{sqlite_file}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Engine]:
    """Makes migrated, empty read-model databases of one kind (each call a new one)."""

    made: list[Engine] = []

    def make() -> Engine:
        made.append(migrated_database(request, tmp_path / f"rm-{len(made)}.db"))
        return made[-1]

    return make


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
