"""Fixtures shared by the test layers: the read model's databases, SQLite and real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.postgres_support import fresh_database, postgres_server
from youasked.readmodel.db import make_engine, upgrade


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
