"""The read model: migrations create it, the projection fills it, a replay leaves it unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from api.readmodel.db import upgrade
from api.readmodel.project import UnreadableRecordError, apply_record
from api.readmodel.projector import apply_batch
from api.readmodel.schema import (
    Base,
    ClassificationRow,
    ClosureRow,
    SuggestionRow,
    ThemeHistoryRow,
    ThemeRow,
)
from contracts.events import event_json
from contracts.lifecycle import AuthorErased, hash_author
from tests.readmodel_support import T0, member, sample_records, theme


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ids of history rows left out, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name != "id"]
            rows = connection.execute(select(*columns)).all()
            out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def test_migrations_create_every_table_of_the_models(database: Callable[[], Engine]) -> None:
    engine = database()
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    upgrade(engine)  # a second upgrade is a no-op


def test_replaying_the_topics_gives_the_same_database(database: Callable[[], Engine]) -> None:
    once, twice = database(), database()
    records: list[tuple[str, bytes | None]] = list(sample_records())
    assert apply_batch(once, records) == len(records)
    apply_batch(twice, records)
    apply_batch(twice, records)  # the whole history again, as after a crash before the commit
    assert dump(once) == dump(twice)
    with Session(twice) as session:
        assert session.scalar(select(ThemeRow.author_count).where(ThemeRow.theme_id == "t-maps")) == 7
        assert len(session.scalars(select(ThemeHistoryRow)).all()) == 1


def test_an_older_theme_snapshot_does_not_roll_a_theme_back(database: Callable[[], Engine]) -> None:
    engine = database()
    newer = theme("t-maps", authors=9)
    older = theme("t-maps", authors=4, changed_at=newer.changed_at.replace(year=2025))
    apply_batch(engine, [("themes", event_json(newer)), ("themes", event_json(older))])
    with Session(engine) as session:
        row = session.get(ThemeRow, "t-maps")
        assert row is not None and row.author_count == 9


def test_tombstones_of_nothing_are_passed_over_and_unreadable_records_refused(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    with Session(engine) as session, session.begin():
        assert apply_record(session, "themes", None) is False
        for kind, value in (("themes", b"{not json"), ("closures", b'{"closure_id": 3}')):
            with pytest.raises(UnreadableRecordError):  # the projection sets it aside
                apply_record(session, kind, value)
        assert apply_record(session, "themes", event_json(theme("t-1"))) is True


def test_the_migrations_match_the_models(database: Callable[[], Engine]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = database()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_times_with_an_offset_come_back_as_the_same_instant(database: Callable[[], Engine]) -> None:
    from datetime import timedelta, timezone

    engine = database()
    paris = timezone(timedelta(hours=2))
    when = theme("t-1").changed_at.astimezone(paris)  # the same instant, written as +02:00
    snapshot = theme("t-1", changed_at=when)
    apply_batch(engine, [("themes", event_json(snapshot))])
    with Session(engine) as session:
        row = session.get(ThemeRow, "t-1")
        assert row is not None and row.changed_at == when and row.changed_at.utcoffset() == timedelta(0)
        since = session.scalars(select(ThemeRow.theme_id).where(ThemeRow.changed_at >= when)).all()
        assert since == ["t-1"]
        later = when + timedelta(minutes=1)
        assert session.scalars(select(ThemeRow.theme_id).where(ThemeRow.changed_at >= later)).all() == []


def erasure_of(platform: str, author_id: str, at: datetime) -> AuthorErased:
    return AuthorErased(
        erasure_id="erasure-1",
        author_hash=hash_author(platform, author_id),
        products=["trailmate"],
        requested_by="admin",
        erased_at=at,
    )


def test_an_erasure_forgets_a_person_whatever_the_order_of_the_records(
    database: Callable[[], Engine],
) -> None:
    after_all, before_all = database(), database()
    records: list[tuple[str, bytes | None]] = list(sample_records())
    erased = ("erasures", event_json(erasure_of("x", "user1", T0 + timedelta(days=90))))
    apply_batch(after_all, [*records, erased])
    apply_batch(before_all, [erased, *records])  # a rebuilt read model meets the erasure first
    apply_batch(after_all, records)  # the person's records delivered again stay out
    assert dump(after_all) == dump(before_all)
    with Session(after_all) as session:
        assert session.get(SuggestionRow, "x:c1") is None
        assert session.get(SuggestionRow, "x:c2") is not None
        judged = session.scalars(select(ClassificationRow.author_id)).all()
        assert judged and "user1" not in judged
        row = session.get(ClosureRow, "closure:t-maps:none")
        assert row is not None and row.people_count == 0 and row.event["people"] == []
        assert row.event["replies"] == []
        (post,) = row.event["public_posts"]
        assert "@person1" not in post["text"] and post["mentioned_handles"] == []
        assert "person1" not in json.dumps(row.event)


def test_records_written_after_an_erasure_are_kept(database: Callable[[], Engine]) -> None:
    engine = database()
    apply_batch(engine, [("erasures", event_json(erasure_of("x", "user1", T0 - timedelta(days=30))))])
    apply_batch(engine, list(sample_records()))  # x:c1 was asked a day before T0, after the erasure
    with Session(engine) as session:
        assert session.get(SuggestionRow, "x:c1") is not None


def test_tombstones_delete_the_row_their_key_names(database: Callable[[], Engine]) -> None:
    engine = database()
    apply_batch(engine, list(sample_records()))
    apply_batch(
        engine, [("themes", None, b"t-dark"), ("theme-members", None, b"x:c2"), ("themes", None, b"t-none")]
    )
    with Session(engine) as session:
        assert session.get(ThemeRow, "t-dark") is None and session.get(ThemeRow, "t-maps") is not None
        assert session.get(SuggestionRow, "x:c2") is None and session.get(SuggestionRow, "x:c3") is not None


def test_two_asks_of_one_comment_are_two_rows_with_their_spans_and_the_comment(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    comment = "Please add offline maps. And a dark mode for night hikes"
    asks = [(0, 24, "t-maps"), (25, len(comment), "t-dark")]
    records = [
        (
            "theme-members",
            event_json(
                member(5, theme_id).model_copy(
                    update={
                        "suggestion_id": f"x:c5#{n}",
                        "text": comment[start:end],
                        "ask_start": start,
                        "ask_end": end,
                        "comment_text": comment,
                    }
                )
            ),
        )
        for n, (start, end, theme_id) in enumerate(asks, start=1)
    ]
    assert apply_batch(engine, records) == 2
    with Session(engine) as session:
        rows = session.scalars(select(SuggestionRow).order_by(SuggestionRow.suggestion_id)).all()
    assert [(r.suggestion_id, r.theme_id, r.comment_id) for r in rows] == [
        ("x:c5#1", "t-maps", "c5"),
        ("x:c5#2", "t-dark", "c5"),
    ]
    for row in rows:
        assert row.comment_text == comment and row.ask_start is not None and row.ask_end is not None
        assert comment[row.ask_start : row.ask_end] == row.text
