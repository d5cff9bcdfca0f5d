"""The projection under hostile records: dates at the edges of what ISO allows, odd texts, huge
numbers; every record is projected or set aside, and the projection never stops."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from api.readmodel.projector import Projection, Record, apply_batch
from api.readmodel.schema import (
    SET_ASIDE_MAX_BYTES,
    ClassificationRow,
    OutcomeRow,
    SetAsideRow,
    SuggestionRow,
    ThemeRow,
)
from contracts.events import CommentClassified, Verdict, event_json
from contracts.settings import Settings
from tests.readmodel_support import classified, member, outcome, theme

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def dated(index: int, created_at: datetime) -> CommentClassified:
    """A judged comment written at ``created_at`` (schema-valid whatever the year)."""
    judged = classified(index, Verdict.SUGGESTION)
    comment = judged.comment.model_copy(update={"created_at": created_at})
    return judged.model_copy(update={"comment": comment})


def test_a_comment_of_year_1_east_of_utc_does_not_stop_the_projection(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    year_1 = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    records: list[tuple[str, bytes | None]] = [
        ("comments.classified", event_json(dated(1, year_1))),
        ("themes", event_json(theme("t-maps"))),
        ("theme-outcomes", event_json(outcome("cmd-1", "t-maps"))),  # a PM's command, decided
    ]
    assert apply_batch(engine, records) == 3
    with Session(engine) as session:
        assert session.get(OutcomeRow, "cmd-1") is not None
        assert session.get(ThemeRow, "t-maps") is not None
        row = session.get(ClassificationRow, "x:k1")
        assert row is not None and row.created_at == EARLIEST


def test_a_comment_of_year_9999_west_of_utc_is_stored_at_the_latest_instant(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    year_9999 = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
    assert apply_batch(engine, [("comments.classified", event_json(dated(2, year_9999)))]) == 1
    with Session(engine) as session:
        row = session.get(ClassificationRow, "x:k2")
        assert row is not None and row.created_at == LATEST


def run(projection: Projection, records: list[Record]) -> None:
    asyncio.run(projection.project(records))


async def never_sleep(seconds: float) -> None:
    raise AssertionError(f"the projection waited {seconds} s: it retried a batch")


def set_aside_rows(engine: Engine, topic: str) -> dict[int | None, SetAsideRow]:
    with Session(engine) as session:
        rows = session.scalars(select(SetAsideRow).where(SetAsideRow.topic == topic)).all()
        return {row.offset: row for row in rows}


def test_a_record_that_fails_alone_is_set_aside_and_the_rest_of_the_batch_commits(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    too_many = theme("t-big").model_copy(update={"member_count": 2**70})  # valid; no column holds it
    values = [
        ("themes", event_json(theme("t-1")), b"t-1"),
        ("themes", event_json(too_many), b"t-big"),
        ("themes", b"{not json", b"t-x"),
        ("theme-outcomes", event_json(outcome("cmd-1", "t-1")), b"trailmate"),
    ]
    records = [
        Record(kind, value, key, "feedback.themes", 3, 10 + i) for i, (kind, value, key) in enumerate(values)
    ]
    projection = Projection(Settings(), engine, sleep=never_sleep)
    run(projection, records)
    assert projection.applied == 2 and projection.set_aside == 2
    with Session(engine) as session:
        assert session.get(ThemeRow, "t-1") is not None and session.get(OutcomeRow, "cmd-1") is not None
        assert session.get(ThemeRow, "t-big") is None
    rows = set_aside_rows(engine, "feedback.themes")
    assert sorted(rows) == [11, 12]
    big, unreadable = rows[11], rows[12]
    assert (big.stage, big.kind, big.partition, big.key, big.value) == (
        "projection",
        "themes",
        3,
        b"t-big",
        event_json(too_many),
    )
    assert big.exception_type and big.reason and big.set_aside_at.tzinfo is not None
    assert unreadable.exception_type == "api.readmodel.project.UnreadableRecordError"
    assert "ThemeChanged" in unreadable.reason and unreadable.value == b"{not json"
    assert (unreadable.value_size, unreadable.value_truncated) == (9, False)

    run(projection, records)  # the batch again, as after a crash before the offsets' commit
    assert projection.set_aside == 2 and len(set_aside_rows(engine, "feedback.themes")) == 2
    restarted = Projection(Settings(), engine, sleep=never_sleep)
    run(restarted, [])
    assert restarted.set_aside == 2


def test_a_huge_record_is_set_aside_truncated_with_its_size_and_hash(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    value = b"\x00\xff" * 300_000
    record = Record("closures", value, None, "feedback.closures", 0, 7)
    projection = Projection(Settings(), engine, sleep=never_sleep)
    run(projection, [record])
    row = set_aside_rows(engine, "feedback.closures")[7]
    assert row.value == value[:SET_ASIDE_MAX_BYTES] and row.value_truncated
    assert (row.value_size, row.value_sha256) == (len(value), hashlib.sha256(value).hexdigest())


def test_a_lost_connection_is_retried_with_backoff_and_sets_nothing_aside(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    failures = [2]

    def lose_the_connection(*_args: object) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise engine.dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    event.listen(engine, "before_cursor_execute", lose_the_connection)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    projection = Projection(Settings(), engine, sleep=sleep)
    run(projection, [Record("themes", event_json(theme("t-1")), b"t-1", "feedback.themes", 0, 0)])
    assert waited == [0.5, 1.0]
    assert projection.applied == 1 and projection.set_aside == 0
    with Session(engine) as session:
        assert session.get(ThemeRow, "t-1") is not None


def test_a_broker_that_is_not_there_does_not_end_the_projection(database: Callable[[], Engine]) -> None:
    """The consumer cannot start: the projection waits and starts over until it is stopped."""
    from tests.kafka_support import free_port

    engine = database()
    waited: list[float] = []
    projection: Projection

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 3:
            projection.stop()

    projection = Projection(Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}"), engine, sleep=sleep)
    asyncio.run(asyncio.wait_for(projection.run(), timeout=120))
    assert waited == [0.5, 1.0, 2.0]
    assert projection.consuming is False


# --- every record projected or set aside, whatever schema-valid values it carries -------------

OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
EDGE_DATES = st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2), timezones=OFFSETS),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=OFFSETS),
    st.datetimes(timezones=OFFSETS),
)
ODD_TEXTS = st.one_of(
    st.text(),
    st.sampled_from(["", "\x00", "a\x00b", "\u202eevil", "\ufeff", "👍" * 60_000, "x" * 300_000, "ǅ̴̢̛" * 500]),
)
BIG_NUMBERS = st.one_of(st.integers(0, 10), st.integers(2**31 - 2, 2**31 + 2), st.integers(0, 2**80))


@st.composite
def hostile_theme(draw: st.DrawFn, ident: str) -> tuple[str, bytes, datetime | None]:
    when = draw(EDGE_DATES)
    snapshot = theme(ident, changed_at=when).model_copy(
        update={
            "label": draw(ODD_TEXTS),
            "representative_text": draw(ODD_TEXTS),
            "first_seen": draw(EDGE_DATES),
            "last_seen": draw(EDGE_DATES),
            "engagement": draw(BIG_NUMBERS),
            "member_count": draw(BIG_NUMBERS),
        }
    )
    return "themes", event_json(snapshot), when


@st.composite
def hostile_comment(draw: st.DrawFn, ident: str) -> tuple[str, bytes, datetime | None]:
    judged = dated(0, draw(EDGE_DATES))
    comment = judged.comment.model_copy(update={"text": draw(ODD_TEXTS), "key": ident})
    judged = judged.model_copy(update={"key": ident, "comment": comment, "classified_at": draw(EDGE_DATES)})
    return "comments.classified", event_json(judged), judged.comment.created_at


@st.composite
def hostile_member(draw: st.DrawFn, ident: str) -> tuple[str, bytes, datetime | None]:
    asked = draw(EDGE_DATES)
    suggestion = member(1, "t-maps").model_copy(
        update={
            "suggestion_id": ident,
            "text": draw(ODD_TEXTS),
            "author_handle": draw(ODD_TEXTS),
            "asked_at": asked,
            "placed_at": draw(EDGE_DATES),
        }
    )
    return "theme-members", event_json(suggestion), asked


@st.composite
def unreadable(draw: st.DrawFn, _ident: str) -> tuple[str, bytes, datetime | None]:
    kind = draw(st.sampled_from(["themes", "comments.classified", "theme-members", "closures"]))
    return kind, draw(st.binary(max_size=200)), None


ROWS: dict[str, Any] = {
    "themes": ThemeRow,
    "comments.classified": ClassificationRow,
    "theme-members": SuggestionRow,
}
STORED_AT = {"themes": "changed_at", "comments.classified": "created_at", "theme-members": "asked_at"}


@st.composite
def hostile_batch(draw: st.DrawFn) -> list[tuple[str, bytes, datetime | None, str]]:
    prefix = uuid.uuid4().hex[:8]
    kinds = st.sampled_from([hostile_theme, hostile_comment, hostile_member, unreadable])
    batch = []
    for index in range(draw(st.integers(1, 8))):
        ident = f"{prefix}-{index}-{draw(st.text(max_size=8))}"
        batch.append((*draw(draw(kinds)(ident)), ident))
    return batch


def test_every_hostile_record_is_projected_or_set_aside(database: Callable[[], Engine]) -> None:
    engine = database()
    projection = Projection(Settings(), engine, sleep=never_sleep)  # waiting = a retried batch

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batch=hostile_batch())
    def check(batch: list[tuple[str, bytes, datetime | None, str]]) -> None:
        topic = f"hostile-{uuid.uuid4().hex[:8]}"
        records = [
            Record(kind, value, None, topic, 0, offset)
            for offset, (kind, value, _when, _ident) in enumerate(batch)
        ]
        run(projection, records)
        aside = set_aside_rows(engine, topic)
        with Session(engine) as session:
            for offset, (kind, _value, when, ident) in enumerate(batch):
                row = session.get(ROWS[kind], ident) if when is not None else None
                assert (row is None) == (offset in aside), (kind, offset, ident[:40])
                if row is not None and when is not None:  # any ISO date: at most 14 h from its instant
                    assert abs(getattr(row, STORED_AT[kind]) - when) <= timedelta(hours=14)
            assert projection.set_aside == session.scalar(select(func.count()).select_from(SetAsideRow))

    check()
