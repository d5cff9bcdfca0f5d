"""The SQLite read model of a fresh machine: its state folder does not exist yet."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from api.readmodel.db import make_engine, upgrade


def test_a_read_model_in_a_missing_folder_is_created_there(tmp_path: Path) -> None:
    database = tmp_path / "state" / "deeper" / "readmodel.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from themes")).scalar_one() == 0
    assert database.exists()
