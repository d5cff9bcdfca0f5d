"""The bundled demo sample: rebuilt byte for byte by its builder, and its brand replies give the
dialogue measures something to show (answered threads, some within the service level, some
moved to direct messages), while the comments the judge reads stay those of the builder."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from contracts.dialogue import ServiceLevel
from contracts.events import CommentReceived, Platform, Speaker
from models.dialogue.threads import ThreadState, Turn, apply_turn, measure_thread
from youasked.demo import build_sample
from youasked.demo.runner import SAMPLE


def sample_records() -> list[dict[str, Any]]:
    records = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        comment_id = record.get("comment_id") if isinstance(record, dict) else None
        if isinstance(comment_id, str) and not comment_id.startswith("bad-"):
            records.append(record)  # not the block of intentionally invalid records
    return records


def test_the_bundled_sample_is_what_its_builder_writes() -> None:
    lines, summary = build_sample.build()
    assert SAMPLE.read_text(encoding="utf-8") == "\n".join(lines) + "\n"
    assert summary["brand_replies"] > 0


def test_the_brand_replies_answer_threads_of_the_sample_and_are_never_judged() -> None:
    records = sample_records()
    customers = {(r["platform"], r["comment_id"]): r for r in records if r.get("speaker") != "brand"}
    replies = [r for r in records if r.get("speaker") == "brand"]
    assert len(replies) >= 30
    for reply in replies:
        event = CommentReceived.model_validate(reply)
        assert event.speaker is Speaker.BRAND
        parent = customers[(reply["platform"], reply["parent_id"])]
        assert parent["thread_id"] == reply["thread_id"]
        assert event.created_at > datetime.fromisoformat(parent["created_at"])
        assert event.created_at <= build_sample.END
        assert (reply["platform"], reply["comment_id"]) not in customers
        assert reply["author_handle"] == build_sample.BRAND_ACCOUNTS[reply["platform"]][1]
    # the replies are drawn apart: the comments (and so the judge's and the themes' figures) are
    # the builder's records, in their order
    built = build_sample.build_records(random.Random(build_sample.SEED))
    valid = {(r["platform"], r["comment_id"]) for r in records if r.get("speaker") != "brand"}
    assert valid == {(rec.platform, rec.comment_id) for rec in built}


def test_the_sample_s_threads_measure_answered_within_late_and_escalated() -> None:
    level = ServiceLevel()
    states: dict[tuple[str, str], ThreadState] = {}
    for record in sample_records():
        if not record.get("thread_id"):
            continue
        turn = Turn(
            key=f"{record['platform']}:{record['comment_id']}",
            product=record["product"],
            platform=Platform(record["platform"]),
            thread_id=record["thread_id"],
            speaker=Speaker(record.get("speaker", "customer")),
            created_at=datetime.fromisoformat(record["created_at"]),
            text=record["text"],
        )
        key = (record["platform"], record["thread_id"])
        states[key] = apply_turn(states.get(key), turn) or states[key]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    measured = [measure_thread(state, level=level, now=now) for state in states.values()]
    answered = [m for m in measured if m.response_s is not None]
    within = [m for m in answered if m.within_service_level]
    escalated = [m for m in answered if m.escalated]
    assert 0.25 <= len(answered) / len(measured) <= 0.75
    assert 0 < len(within) < len(answered)  # some within two working hours, some not
    assert 0 < len(escalated) < len(answered)  # some moved to direct messages or a form
