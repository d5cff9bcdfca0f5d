"""The classify agent against the real broker, with the real model: batching, outputs, hostile inputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from contracts.events import CommentClassified, SuggestionDetected, Verdict, comment_key_of
from contracts.impact import PraiseDetected
from contracts.topics import COMMENTS, COMMENTS_ACCEPTED, COMMENTS_CLASSIFIED, PRAISE, SUGGESTIONS
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = [pytest.mark.integration, pytest.mark.model]

TEXTS = {
    "ask-1": "Please add an option to download maps for offline use, I hike where there is no signal",
    "ask-2": "It would be great if the app had a dark mode for night hikes",
    "ask-3": "I wish I could export my routes as GPX files to use them on my watch",
    "multi-1": "Please add a dark mode for night hikes.\nAlso I wish I could export my routes as GPX files",
    "bug-1": "The app crashes every time I open the map after the last update",
    "praise-1": "Love this app, used it on every trip this summer",
    "question-1": "How do I change my profile picture?",
    "spam-1": "Follow me for free followers!!! check my profile http://spam.example.com",
    "emoji-1": "😍😍😍🔥🔥",
    "digits-1": "12345 !!! ???",
    "huge-1": "Please add a setting to hide the elevation chart. "
    * 190,  # ~9,700 characters, under the limit
    "mixed-1": "Bitte fügt einen Offline-Modus hinzu 请添加离线地图 please",
    "cjk-1": "请添加离线地图功能，这样我在山里也能使用",
    "arabic-1": "أرجو إضافة الوضع الليلي إلى التطبيق",
    "rtl-ctrl-1": "please\u202e add\u200b dark mode\u2066 now",
    # runs that made text patterns backtrack (tests/unit/test_hostile_text.py): each one held the
    # classify stage for minutes to hours before they were read in linear time
    "poison-1": ".@" * 2_000 + " the map needs a dark mode",
    "poison-2": "**" * 4_000 + " please add offline maps",
    "poison-3": "Please add offline maps.\n" + "---\n" * 2_000 + "Sent from my phone",
    "poison-4": " \t" * 60_000 + "please add a battery saver mode",  # 120,000 characters before ingest
}

REMARK = "We take it on every family trip and the kids follow the trail on the map themselves."
RATED = {"remark-5": 5, "remark-2": 2}
"""Store reviews of one remark: with the best rating it is praise (``models.non_asks.is_top_rated_remark``);
with a low one the judge reads it (the comment's rating reaches the judge through the broker)."""


def comment_record(platform: str, comment_id: str, text: str, **fields: object) -> tuple[bytes, bytes]:
    """A comment of trailmate as a producer sends it: key and JSON value."""
    payload = {
        "comment_id": comment_id,
        "platform": platform,
        "product": "trailmate",
        "author_id": f"author-{comment_id}",
        "text": text,
        "created_at": "2026-06-01T08:00:00+00:00",
        **fields,
    }
    return f"{platform}:{comment_id}".encode(), json.dumps(payload).encode()


def test_every_accepted_comment_is_classified_once_and_suggestions_carry_embeddings(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path, classify_batch_size=4, classify_batch_wait_s=0.1)
    ensure_topics(settings)
    records = [comment_record("forum", comment_id, text) for comment_id, text in TEXTS.items()]
    records += [comment_record("app_store", key, REMARK, rating=rating) for key, rating in RATED.items()]
    # a 100 kB text: over the ingest limit, dead-lettered before the model
    records.append(comment_record("forum", "huge-2", "add offline maps " * 6000, author_id="a"))
    produce(settings, COMMENTS, records)

    total = len(TEXTS) + len(RATED)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=total, timeout=240, settle=3)
        suggestions = read_topic(settings, SUGGESTIONS, expect=6, timeout=30, settle=2)
        accepted = read_topic(settings, COMMENTS_ACCEPTED, expect=total, timeout=10, settle=1)
        praise = read_topic(settings, PRAISE, expect=2, timeout=30, settle=2)
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
    finally:
        worker.stop()

    assert len(accepted) == total
    events = [CommentClassified.model_validate_json(r.value) for r in classified]
    counts = Counter(e.key for e in events)
    assert set(counts) == {f"forum:{k}" for k in TEXTS} | {f"app_store:{k}" for k in RATED}, worker.log_tail()
    assert max(counts.values()) == 1
    by_id = {e.comment.comment_id: e for e in events}
    for comment_id in ("ask-1", "ask-2", "ask-3"):
        assert by_id[comment_id].verdict is Verdict.SUGGESTION, by_id[comment_id]
    for comment_id in ("bug-1", "praise-1", "question-1"):
        assert by_id[comment_id].verdict is Verdict.NOT_SUGGESTION, by_id[comment_id]
    assert by_id["spam-1"].verdict is Verdict.MODERATED and by_id["spam-1"].reason == "promo_spam"
    assert by_id["emoji-1"].reason == "no_letters" and by_id["digits-1"].reason == "no_letters"
    # plain praise is neither embedded nor scored (models/non_asks.py)
    assert by_id["praise-1"].reason == "praise" and by_id["praise-1"].score is None
    # a remark of a five-star review is praise; the same words rated 2 are judged by the model
    assert by_id["remark-5"].comment.rating == 5
    assert by_id["remark-5"].verdict is Verdict.NOT_SUGGESTION and by_id["remark-5"].reason == "praise"
    assert by_id["remark-5"].score is None and not by_id["remark-5"].asks
    assert by_id["remark-2"].reason != "praise" and by_id["remark-2"].score is not None
    for event in events:
        assert event.reason and event.classifier_version and 0 <= event.threshold <= 1
        if event.verdict is not Verdict.MODERATED and event.reason != "praise":
            assert event.score is not None
    assert by_id["huge-1"].comment.text == TEXTS["huge-1"].strip()  # kept whole in the event
    assert by_id["poison-3"].verdict is Verdict.SUGGESTION
    assert by_id["poison-4"].comment.text == "please add a battery saver mode"

    detected = [SuggestionDetected.model_validate_json(r.value) for r in suggestions]
    expected = {f"{e.key}#{n}" for e in events for n in range(1, len(e.asks) + 1)}
    assert {d.suggestion_id for d in detected} == expected
    assert {e.key for e in events if e.verdict is Verdict.SUGGESTION} == {comment_key_of(i) for i in expected}
    assert [a.text for a in by_id["multi-1"].asks] == [
        "Please add a dark mode for night hikes.",
        "Also I wish I could export my routes as GPX files",
    ]
    assert [a.text for a in by_id["huge-1"].asks] == ["Please add a setting to hide the elevation chart."]
    for item in detected:
        assert item.comment.text[item.ask.start : item.ask.end] == item.ask.text
    for record, item in zip(suggestions, detected, strict=True):
        assert record.key == b"trailmate"
        assert len(item.embedding) == 384
        assert abs(sum(x * x for x in item.embedding) - 1.0) < 1e-3
    # praise (not an ask, words of praise and none of complaint) goes on, keyed by product, not
    # embedded here: the themes stage embeds the few that need it (models/themes/impact_effects.py)
    praised = [PraiseDetected.model_validate_json(r.value) for r in praise]
    assert sorted(p.comment.comment_id for p in praised) == ["praise-1", "remark-5"]
    assert {r.key for r in praise} == {b"trailmate"}
    assert all(p.schema_version == 2 and p.embedding is None for p in praised)
