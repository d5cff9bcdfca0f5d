"""Dialogue measures: working time, escalation phrases, thread state in any order, weekly
aggregates and the service's effects; who speaks at ingest; the tweets replay's threads."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.dialogue import ServiceLevel
from contracts.events import (
    CommentAccepted,
    CommentClassified,
    CommentReceived,
    Platform,
    SourceRef,
    Speaker,
    Verdict,
)
from models.dialogue.escalation import escalation_in
from models.dialogue.service import THREADS, WEEKS, dialogue_step, turn_of
from models.dialogue.threads import ThreadState, Turn, apply_turn, measure_thread
from models.dialogue.weeks import ThreadEntry, aggregate_week, percentile
from models.dialogue.working_hours import weekly_seconds, working_seconds
from models.ingest import IngestLimits, brand_accounts, validate_comment
from youasked.replay import read_records

DEFAULT = ServiceLevel()
MONDAY = datetime(2017, 10, 30, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


# --- working time ------------------------------------------------------------------------------


def test_working_time_counts_only_the_hours_of_workdays() -> None:
    assert working_seconds(at(0, 10), at(0, 11), level=DEFAULT) == 3600  # Monday 10-11
    assert working_seconds(at(0, 8), at(0, 10), level=DEFAULT) == 3600  # opens at 9
    assert working_seconds(at(0, 16), at(1, 10), level=DEFAULT) == 2 * 3600  # 16-17 then 9-10
    assert working_seconds(at(4, 16), at(7, 9.5), level=DEFAULT) == 1.5 * 3600  # Friday to Monday
    assert working_seconds(at(5, 10), at(6, 15), level=DEFAULT) == 0  # the weekend
    assert working_seconds(at(0, 11), at(0, 10), level=DEFAULT) == 0  # end before start
    assert working_seconds(at(0, 0), at(7, 0), level=DEFAULT) == weekly_seconds(DEFAULT) == 5 * 8 * 3600


def test_working_time_follows_the_time_zone_and_its_clock_changes() -> None:
    paris = ServiceLevel(timezone="Europe/Paris")
    # 2017-10-30 is after the change to winter time: Paris = UTC+1, so 09:00 local is 08:00 UTC
    assert working_seconds(at(0, 8), at(0, 9), level=paris) == 3600
    assert working_seconds(at(0, 16), at(0, 17), level=paris) == 0  # 17:00-18:00 local
    # the Friday before the change (2017-10-27, UTC+2): 09:00 local is 07:00 UTC
    assert working_seconds(at(-3, 7), at(-3, 8), level=paris) == 3600


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 60 * 24 * 40),
    st.integers(0, 60 * 24 * 40),
    st.integers(0, 60 * 24 * 40),
    st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
)
def test_working_time_adds_up_and_never_exceeds_the_wall_clock(a: int, b: int, c: int, zone: str) -> None:
    level = ServiceLevel(
        timezone=zone, work_start=time(8, 30), work_end=time(18, 0), workdays=[1, 2, 3, 4, 6]
    )
    first, middle, last = sorted(MONDAY + timedelta(minutes=m) for m in (a, b, c))
    whole = working_seconds(first, last, level=level)
    parts = working_seconds(first, middle, level=level) + working_seconds(middle, last, level=level)
    assert whole == pytest.approx(parts, abs=3600.0 + 1e-6)  # whole weeks ignore a clock change
    if zone in {"UTC", "Asia/Kolkata"}:  # no clock changes: exact
        assert whole == pytest.approx(parts)
    assert 0 <= whole <= (last - first).total_seconds()


def test_service_level_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ServiceLevel(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="before"):
        ServiceLevel(work_start=time(17), work_end=time(9))
    with pytest.raises(ValueError, match="ISO weekdays"):
        ServiceLevel(workdays=[0, 1])


# --- escalation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Please send us a DM with your order number.", "send us a dm"),
        ("Can you DM us your email address?", "dm us"),
        ("We'd like to help via DM.", "via dm"),
        ("Please send us a Direct Message so we can look.", "direct message"),
        ("Send me a private message with the details", "private message"),
        ("You can contact our support team any time.", "contact support"),
        ("Give us a call on 0800 123 and we'll sort it.", "call us"),
        ("See https://support.example.com/orders for more", "support link"),
        ("Please fill out this form and we'll be in touch", "form"),
    ],
)
def test_escalation_phrases_are_found(text: str, phrase: str) -> None:
    assert escalation_in(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        "Glad it works now! Enjoy your meal.",
        "That update is rolling out today, restart the app to get it.",
        "Thanks for the kind words, we'll pass them on to the team",
    ],
)
def test_answers_in_the_thread_are_not_escalations(text: str) -> None:
    assert escalation_in(text) is None


# --- thread state ------------------------------------------------------------------------------


def turn(key: str, speaker: Speaker, when: datetime, text: str = "thanks", thread: str = "t1") -> Turn:
    return Turn(
        key=key,
        product="acme",
        platform=Platform.X,
        thread_id=thread,
        speaker=speaker,
        created_at=when,
        text=text,
    )


CUSTOMER, BRAND = Speaker.CUSTOMER, Speaker.BRAND


def fold(turns: list[Turn]) -> ThreadState | None:
    state: ThreadState | None = None
    for item in turns:
        state = apply_turn(state, item) or state
    return state


def test_first_response_is_the_first_brand_reply_after_the_first_customer_message() -> None:
    state = fold(
        [
            turn("x:0", BRAND, at(0, 9)),  # the brand spoke first (an announcement): not a response
            turn("x:1", CUSTOMER, at(0, 10)),
            turn("x:2", BRAND, at(0, 10.5)),
            turn("x:3", CUSTOMER, at(0, 11)),
            turn("x:4", BRAND, at(0, 12), "Please DM us"),
        ]
    )
    assert state is not None
    measured = measure_thread(state, level=DEFAULT, now=NOW)
    assert (measured.first_inbound_at, measured.first_reply_at) == (at(0, 10), at(0, 10.5))
    assert measured.response_s == measured.working_response_s == 1800
    assert measured.within_service_level is True
    assert (measured.escalated, measured.escalation) == (True, "dm us")
    assert (measured.inbound_count, measured.reply_count, measured.week) == (2, 3, "2017-W44")


def test_a_reply_outside_working_hours_is_measured_in_working_time() -> None:
    state = fold(
        [turn("x:1", CUSTOMER, at(4, 16)), turn("x:2", BRAND, at(7, 10.5))]
    )  # Fri 16:00 -> Mon 10:30
    assert state is not None
    measured = measure_thread(state, level=DEFAULT, now=NOW)
    assert measured.response_s == (at(7, 10.5) - at(4, 16)).total_seconds()
    assert measured.working_response_s == 2.5 * 3600
    assert measured.within_service_level is False


def test_an_unanswered_thread_has_no_response_yet() -> None:
    state = fold([turn("x:1", CUSTOMER, at(0, 10))])
    assert state is not None
    measured = measure_thread(state, level=DEFAULT, now=NOW)
    assert measured.first_reply_at is None and measured.within_service_level is None
    assert not measured.escalated


turns_strategy = st.lists(
    st.tuples(st.booleans(), st.integers(0, 60 * 24 * 10), st.booleans()), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(turns_strategy, st.randoms(use_true_random=False))
def test_a_thread_measures_the_same_in_any_order_and_counts_each_comment_once(
    spec: list[tuple[bool, int, bool]], rng: object
) -> None:
    turns = [
        turn(f"x:{i}", BRAND if brand else CUSTOMER, MONDAY + timedelta(minutes=m), "DM us" if dm else "ok")
        for i, (brand, m, dm) in enumerate(spec)
    ]
    shuffled = list(turns)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    in_order, any_order = fold(turns), fold(shuffled + shuffled[: len(shuffled) // 2])  # with re-deliveries
    assert in_order is not None and any_order is not None
    first = measure_thread(in_order, level=DEFAULT, now=NOW)
    second = measure_thread(any_order, level=DEFAULT, now=NOW)
    assert first == second
    customers = sorted(t.created_at for t in turns if t.speaker is CUSTOMER)
    replies = sorted(t.created_at for t in turns if t.speaker is BRAND)
    expected = next((r for r in replies if customers and r >= customers[0]), None)
    assert first.first_reply_at == expected
    assert first.inbound_count + first.reply_count == len(turns)
    assert ThreadState.from_dict(in_order.to_dict()) == in_order


# --- weeks -------------------------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([float(v) for v in range(1, 11)], 90) == 9.0
    assert percentile([float(v) for v in range(1, 12)], 90) == 10.0


def test_a_week_aggregates_its_threads() -> None:
    entries = {
        "a": ThreadEntry(600.0, 600.0, True, False),
        "b": ThreadEntry(7200.0, 3600.0, True, True),
        "c": ThreadEntry(90000.0, 10800.0, False, False),
        "d": ThreadEntry(None, None, False, False),  # unanswered
    }
    week = aggregate_week(
        entries, product="acme", platform=Platform.X, week="2017-W44", level=DEFAULT, now=NOW
    )
    assert (week.threads, week.answered, week.within_service_level, week.escalated) == (4, 3, 2, 1)
    assert week.share_within_service_level == 0.5
    assert week.share_closed_without_escalation == pytest.approx(2 / 3)
    assert (week.response_p50_s, week.response_p90_s) == (7200.0, 90000.0)
    assert (week.working_response_p50_s, week.working_response_p90_s) == (3600.0, 10800.0)
    assert week.key == "acme:x:2017-W44"


# --- the service -------------------------------------------------------------------------------


def classified(
    comment_id: str,
    speaker: Speaker,
    when: datetime,
    *,
    thread: str | None = "r1",
    text: str = "hello there",
    parent: str | None = None,
) -> CommentClassified:
    comment = CommentAccepted(
        comment_id=comment_id,
        platform=Platform.X,
        product="acme",
        author_id="a",
        text=text,
        created_at=when,
        thread_id=thread,
        parent_id=parent,
        speaker=speaker,
        key=f"x:{comment_id}",
        received_at=NOW,
        source=SourceRef(topic="t", partition=0, offset=0),
    )
    brand = speaker is BRAND
    return CommentClassified(
        key=comment.key,
        comment=comment,
        verdict=Verdict.BRAND_REPLY if brand else Verdict.NOT_SUGGESTION,
        reason="brand_reply" if brand else "classifier",
        threshold=0.5,
        classifier_version="v",
        classified_at=NOW,
    )


def run(records: list[CommentClassified]) -> tuple[dict[str, object], dict[str, object], list[object]]:
    threads: dict[str, object] = {}
    weeks: dict[str, object] = {}
    published: list[object] = []
    for record in records:
        effects = dialogue_step(record, threads=threads, weeks=weeks, level_of=lambda _: DEFAULT, now=NOW)
        published.extend([effects.thread, *effects.weeks] if effects.thread else [])
        for table, key, value in effects.writes:
            target = threads if table == THREADS else weeks
            assert table in (THREADS, WEEKS)
            target[key] = value
    return threads, weeks, published


def test_a_reply_before_the_message_it_answers_is_counted_and_the_thread_moves_week() -> None:
    records = [
        classified("2", BRAND, at(7, 10)),  # arrives first
        classified("1", CUSTOMER, at(7, 9.5)),  # week 45
        classified("0", CUSTOMER, at(4, 16)),  # earlier message of the thread, week 44: the thread moves
        classified("0", CUSTOMER, at(4, 16)),  # re-delivered: nothing
    ]
    threads, weeks, published = run(records)
    assert list(threads) == ["acme:x:r1"]
    assert set(weeks) == {"acme:x:2017-W44", "acme:x:2017-W45"}
    assert weeks["acme:x:2017-W45"] == {}
    assert list(weeks["acme:x:2017-W44"]) == ["acme:x:r1"]  # type: ignore[call-overload]
    last_thread = [p for p in published if getattr(p, "thread_id", None)][-1]
    assert last_thread.working_response_s == 2 * 3600  # type: ignore[attr-defined]
    last_weeks = {p.week: p for p in published if hasattr(p, "threads")}  # type: ignore[attr-defined]
    assert last_weeks["2017-W45"].threads == 0 and last_weeks["2017-W44"].threads == 1


def test_a_comment_without_a_thread_is_passed_over_and_a_parent_stands_for_the_thread() -> None:
    alone = classified("9", CUSTOMER, at(0, 10), thread=None)
    assert turn_of(alone) is None
    assert dialogue_step(alone, threads={}, weeks={}, level_of=lambda _: DEFAULT, now=NOW).passed_over
    reply = classified("8", BRAND, at(0, 11), thread=None, parent="7")
    assert turn_of(reply) is not None and turn_of(reply).thread_id == "7"  # type: ignore[union-attr]


# --- who speaks --------------------------------------------------------------------------------


def received(**fields: object) -> bytes:
    base = {
        "comment_id": "1",
        "platform": "x",
        "product": "acme",
        "author_id": "AcmeHelp",
        "text": "Sorry to hear that",
        "created_at": "2017-10-30T10:00:00+00:00",
    }
    return json.dumps({**base, **fields}).encode()


SOURCE = SourceRef(topic="feedback.comments", partition=0, offset=1)


def test_ingest_marks_the_brand_by_its_accounts_or_the_producers_flag() -> None:
    accounts = brand_accounts({"acme": ["acmehelp", "@AcmeCare"]})
    limits = IngestLimits()

    def speaker(raw: bytes) -> Speaker:
        accepted = validate_comment(
            raw, source=SOURCE, received_at=NOW, limits=limits, brand_authors=accounts
        )
        assert isinstance(accepted, CommentAccepted), accepted
        return accepted.speaker

    assert speaker(received()) is BRAND  # author id, case-insensitive
    assert speaker(received(author_id="42", author_handle="@acmecare")) is BRAND
    assert speaker(received(author_id="42")) is CUSTOMER
    assert (
        speaker(received(author_id="42", schema_version=2, speaker="brand")) is BRAND
    )  # the producer's flag
    assert speaker(received(product="other")) is CUSTOMER  # another product's account list


def test_version_1_comments_read_as_customers_and_unknown_speakers_are_refused() -> None:
    comment = CommentReceived.model_validate_json(received(schema_version=1))
    assert (comment.schema_version, comment.speaker) == (2, CUSTOMER)
    with pytest.raises(ValueError):
        CommentReceived.model_validate_json(received(schema_version=1, speaker="brand"))
    with pytest.raises(ValueError):
        CommentReceived.model_validate_json(received(schema_version=2, speaker="bot"))
    old = classified("1", CUSTOMER, at(0, 10)).model_dump(mode="json")
    old["schema_version"] = 2
    old["comment"]["schema_version"] = 1
    del old["comment"]["speaker"]
    upgraded = CommentClassified.model_validate(old)
    assert (upgraded.schema_version, upgraded.comment.schema_version, upgraded.comment.speaker) == (
        3,
        2,
        CUSTOMER,
    )


# --- the tweets replay -------------------------------------------------------------------------


def test_the_tweets_replay_sends_brand_replies_and_threads_them_by_their_root(tmp_path: Path) -> None:
    path = tmp_path / "tweets.csv"
    rows = [
        ("1", "AcmeHelp", "False", "@115 Please DM us", "3.0"),
        ("2", "115", "True", "@AcmeHelp ok", "1.0"),
        ("3", "115", "True", "@AcmeHelp still broken", "4.0"),
        ("4", "AcmeHelp", "False", "@115 Sorry! Which version?", "5.0"),
        ("5", "115", "True", "@999 my app crashes", ""),
        ("6", "116", "True", "@AcmeHelp hello?", "77.0"),  # its parent is not in the file
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "tweet_id",
                "author_id",
                "inbound",
                "created_at",
                "text",
                "response_tweet_id",
                "in_response_to_tweet_id",
            ]
        )
        for tweet_id, author, inbound, text, parent in rows:
            writer.writerow([tweet_id, author, inbound, "Mon Oct 30 10:00:00 +0000 2017", text, "", parent])
    records = {json.loads(v)["comment_id"]: json.loads(v) for _, v in read_records(path)}
    assert set(records) == {"1", "2", "3", "4", "5", "6"}
    assert {k: r["thread_id"] for k, r in records.items()} == {
        "1": "5",
        "2": "5",
        "3": "5",
        "4": "5",
        "5": "5",
        "6": "77",
    }
    assert {k for k, r in records.items() if r.get("speaker") == "brand"} == {"1", "4"}
    assert {r["product"] for k, r in records.items() if k != "6"} == {"acmehelp"}  # the brand that answered
    assert records["6"]["product"] == "acmehelp"  # by its mention
    for record in records.values():
        CommentReceived.model_validate(record)
