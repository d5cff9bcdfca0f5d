"""The validator's half of the accounting property, over extreme but schema-valid values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contracts.events import CommentAccepted, SourceRef, event_json
from models.ingest import IngestLimits, InvalidRecord, validate_comment

T0 = datetime(2026, 4, 1, tzinfo=UTC)


@given(
    created_at=st.datetimes(timezones=st.timezones()),
    text=st.text(min_size=1, max_size=300),
    likes=st.integers(min_value=0, max_value=2**70),
    handle=st.one_of(st.none(), st.text(max_size=300)),
)
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_comment_is_accepted_or_rejected_and_what_passes_can_be_written(
    created_at: datetime, text: str, likes: int, handle: str | None
) -> None:
    payload = {
        "comment_id": "c1",
        "platform": "x",
        "product": "p",
        "author_id": "a",
        "author_handle": handle,
        "text": text,
        "created_at": created_at.isoformat(),
        "engagement": {"likes": likes},
    }
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    outcome = validate_comment(
        raw, source=SourceRef(topic="t", partition=0, offset=0), received_at=T0, limits=IngestLimits()
    )
    assert isinstance(outcome, CommentAccepted | InvalidRecord)
    if isinstance(outcome, CommentAccepted):
        assert outcome.created_at >= IngestLimits().min_created_at
        assert outcome.created_at <= T0 + IngestLimits().max_future_skew
        event_json(outcome).decode("utf-8")  # what passes on can be written and read
