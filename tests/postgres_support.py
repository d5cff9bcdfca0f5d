"""A real PostgreSQL server for the tests, from Debian's packages, in a temporary folder.

Installs the ``postgresql`` package when its programs are missing (``apt-get``, as root), runs
``initdb`` and ``pg_ctl`` as the ``postgres`` system user when the tests run as root (the server
refuses root), on a free port, and removes everything at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.kafka_support import free_port


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL could not be installed or started here."""


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def ensure_installed() -> tuple[str, str]:
    """Paths of ``initdb`` and ``pg_ctl``, installing Debian's ``postgresql`` if needed."""
    if _bin("initdb") is None or _bin("pg_ctl") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise PostgresUnavailableError(
                "PostgreSQL is not installed and cannot be installed (needs root and apt-get)"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise PostgresUnavailableError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailableError("initdb or pg_ctl still missing after installing postgresql")
    return initdb, pg_ctl


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server with an empty database; yields its SQLAlchemy URL."""
    initdb, pg_ctl = ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="youasked-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None:
        shutil.chown(root, user)
        shutil.chown(sockets, user)
    port = free_port()

    def run(*command: str) -> None:
        done = subprocess.run(
            list(command), user=user, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailableError(
                f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{tail}"
            )

    run(initdb, "-D", str(data), "-U", "youasked", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=youasked dbname=postgres", autocommit=True
        ) as c:
            c.execute("CREATE DATABASE youasked")
        yield f"postgresql+psycopg://youasked@127.0.0.1:{port}/youasked"
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
            user=user,
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str) -> str:
    """A new empty database on the server of ``url``; returns its URL."""
    import uuid

    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    base = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"
