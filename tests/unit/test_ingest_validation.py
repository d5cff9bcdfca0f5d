import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import CommentAccepted, DeadLetterReason, SourceRef
from models.ingest import IngestLimits, InvalidRecord, dead_letter, dead_letter_key, validate_comment
from models.units import split_units

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SOURCE = SourceRef(topic="feedback.comments", partition=2, offset=41)
LIMITS = IngestLimits(max_message_bytes=64 * 1024, max_text_chars=500, max_future_skew=timedelta(hours=1))


def comment(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "comment_id": "c-1",
        "platform": "instagram",
        "product": "trailmate",
        "author_id": "u-9",
        "author_handle": "@mia",
        "text": "Please add  an offline\u00a0map download\n",
        "created_at": "2026-05-01T11:00:00+02:00",
        "url": "https://www.instagram.com/p/abc/",
        "engagement": {"likes": 3, "replies": 1},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def run(raw: bytes | None) -> CommentAccepted | InvalidRecord:
    return validate_comment(raw, source=SOURCE, received_at=NOW, limits=LIMITS)


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_valid_comment_is_normalized_and_keyed() -> None:
    out = run(encode(comment()))
    assert isinstance(out, CommentAccepted)
    assert out.text == "Please add an offline map download"
    assert out.key == "instagram:c-1"
    assert out.source == SOURCE
    assert out.created_at.utcoffset() == timedelta(hours=2)
    assert out.engagement is not None and out.engagement.likes == 3


def test_the_stored_text_keeps_line_breaks_and_reads_html_references() -> None:
    text = (
        "Love the new maps  \r\n\n  please add a widget too!\tThanks\n"
        "I don&#39;t use Q&amp;A or R&D, &copy me"
    )
    out = run(encode(comment(text=text)))
    assert isinstance(out, CommentAccepted)
    # "&copy" without its ";" is left as typed
    assert out.text == "Love the new maps\nplease add a widget too! Thanks\nI don't use Q&A or R&D, &copy me"
    # a line break ends a thought where social text has no full stop
    assert split_units(out.text)[0].text == "Love the new maps"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, DeadLetterReason.NOT_JSON),
        (b"\xff\xfe not utf-8", DeadLetterReason.NOT_UTF8),
        (b"{not json", DeadLetterReason.NOT_JSON),
        (b"", DeadLetterReason.NOT_JSON),
        (b"[1, 2]", DeadLetterReason.NOT_OBJECT),
        (b'"a string"', DeadLetterReason.NOT_OBJECT),
        (b"null", DeadLetterReason.NOT_OBJECT),
        (encode(comment(text=None)), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(comment_id={"nested": 1})), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(rating=9)), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(surprise="field")), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(created_at="2026-05-01T11:00:00")), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(url="javascript:alert(1)")), DeadLetterReason.INVALID_FIELDS),
        (encode(comment(text=" \t\n\u3000 ")), DeadLetterReason.EMPTY_TEXT),
        (encode(comment(text="")), DeadLetterReason.EMPTY_TEXT),
        (encode(comment(text="x" * 501)), DeadLetterReason.TEXT_TOO_LONG),
        (encode(comment(platform="myspace")), DeadLetterReason.UNKNOWN_PLATFORM),
        (encode(comment(created_at="2026-05-01T13:30:00+00:00")), DeadLetterReason.FUTURE_TIMESTAMP),
        (encode(comment(schema_version=3)), DeadLetterReason.UNSUPPORTED_VERSION),
        (b'{"text": "\\ud800 lone surrogate", "platform": "x"}', DeadLetterReason.NOT_UTF8),
        (b"[" * 100_000 + b"]" * 100_000, DeadLetterReason.TOO_LARGE),
        (b"[" * 20_000 + b"]" * 20_000, DeadLetterReason.NOT_JSON),
    ],
)
def test_each_rejection_has_its_reason(raw: bytes | None, reason: DeadLetterReason) -> None:
    out = run(raw)
    assert isinstance(out, InvalidRecord), out
    assert out.reason == reason
    assert out.detail and len(out.detail) <= 2000


def test_within_the_future_skew_is_accepted() -> None:
    assert isinstance(run(encode(comment(created_at="2026-05-01T12:59:00+00:00"))), CommentAccepted)


def test_dead_letter_keeps_original_bytes_and_coordinates() -> None:
    raw = b"\x00\x01garbage"
    rejected = run(raw)
    assert isinstance(rejected, InvalidRecord)
    record = dead_letter(raw, key=b"k", rejected=rejected, source=SOURCE, failed_at=NOW)
    import base64

    assert base64.b64decode(record.original_b64) == raw
    assert base64.b64decode(record.original_key_b64 or "") == b"k"
    assert dead_letter_key(record.source) == "feedback.comments:2:41"
    assert json.loads(record.model_dump_json())["reason"] == rejected.reason.value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_garbage_bytes_end_in_exactly_one_outcome(raw: bytes) -> None:
    out = run(raw)
    assert isinstance(out, CommentAccepted | InvalidRecord)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_ends_in_exactly_one_outcome(value: object) -> None:
    out = run(json.dumps(value).encode())
    assert isinstance(out, CommentAccepted | InvalidRecord)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "comment_id": st.one_of(st.text(max_size=20), st.integers()),
            "platform": st.sampled_from(["x", "forum", "myspace", ""]) | st.integers(),
            "product": st.text(max_size=10),
            "author_id": st.text(max_size=10),
            "text": st.text(max_size=600),
            "created_at": st.sampled_from(["2026-05-01T10:00:00Z", "2099-01-01T00:00:00Z", "yesterday", ""]),
            "rating": st.integers(-3, 9),
            "engagement": st.dictionaries(st.sampled_from(["likes", "views", "bogus"]), st.integers(-5, 5)),
        },
    )
)
def test_comment_shaped_json_ends_in_exactly_one_outcome(payload: dict[str, object]) -> None:
    out = run(json.dumps(payload).encode())
    if isinstance(out, CommentAccepted):
        assert out.text.strip() == out.text and out.text
        assert len(out.text) <= LIMITS.max_text_chars
        assert out.created_at - NOW <= LIMITS.max_future_skew
        out.model_dump_json()  # always serializable
    else:
        assert isinstance(out.reason, DeadLetterReason)


@pytest.mark.parametrize(
    "created_at", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00", "1999-12-31T23:59:59+00:00"]
)
def test_a_date_before_the_window_is_dead_lettered_as_out_of_range(created_at: str) -> None:
    out = run(encode(comment(created_at=created_at)))
    assert isinstance(out, InvalidRecord)
    assert out.reason is DeadLetterReason.TIMESTAMP_OUT_OF_RANGE


def test_a_date_at_the_far_end_of_the_calendar_is_dead_lettered() -> None:
    out = run(encode(comment(created_at="9999-12-31T23:59:59-14:00")))
    assert isinstance(out, InvalidRecord)
    assert out.reason is DeadLetterReason.FUTURE_TIMESTAMP


@pytest.mark.parametrize("size", [300 * 1024, 760 * 1024, 1_040_000])
def test_the_dead_letter_of_a_large_record_fits_in_one_broker_record(size: int) -> None:
    raw = b'{"text": "' + b"x" * size + b'"}'
    rejected = run(raw)
    assert isinstance(rejected, InvalidRecord) and rejected.reason is DeadLetterReason.TOO_LARGE
    limit = 1_048_588
    record = dead_letter(
        raw, key=b"k" * 5000, rejected=rejected, source=SOURCE, failed_at=NOW, max_record_bytes=limit
    )
    wire = record.model_dump_json().encode()
    assert len(wire) <= limit
    import base64
    import hashlib

    kept = base64.b64decode(record.original_b64)
    assert record.original_size == len(raw)
    assert record.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert raw.startswith(kept)
    assert record.original_truncated == (kept != raw)
    if size > 700 * 1024:
        assert record.original_truncated and len(kept) > 600 * 1024


def test_a_small_dead_letter_keeps_the_whole_original() -> None:
    raw = b"\x00" * 1000
    rejected = run(raw)
    assert isinstance(rejected, InvalidRecord)
    record = dead_letter(
        raw, key=None, rejected=rejected, source=SOURCE, failed_at=NOW, max_record_bytes=65_536
    )
    assert not record.original_truncated and record.original_size == 1000
    assert record.stage == "ingest-validate"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="&#;xX0123456789abcdefDamp lt \t\r\n\u2028\u00a0\x85\ufffd", max_size=400))
def test_texts_of_escapes_and_line_breaks_are_stored_folded_or_dead_lettered(text: str) -> None:
    out = run(encode(comment(text=text)))
    if isinstance(out, CommentAccepted):  # one space or one line break between words, none at the ends
        assert out.text == out.text.strip() and out.text
        assert not re.search(r"[^\S\n]{2,}|\s\n|\n\s", out.text), out.text
    else:
        assert out.reason is DeadLetterReason.EMPTY_TEXT  # nothing but whitespace, escaped or not
