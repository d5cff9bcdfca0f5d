"""The impact of what shipped against the real broker: a hand-made stream where asking stops.

Three ideas are asked for over five weeks; the first ships on the day of its last ask. After
that, only the two others are asked for, for four weeks, and one person who asked for the first
writes that it works. The worker must publish weeks 1 to 4 of the closure's impact on
``feedback.closure-impact`` with the asks before as a rate per week, no ask after (change -1),
and the follow-up praise; hostile records on ``feedback.praise`` go to its dead-letter topic with
the themes stage and a reason, and the stage goes on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from contracts.events import CommentAccepted, DeadLetter, SourceRef, SuggestionDetected, event_json
from contracts.impact import ClosureImpact, PraiseDetected
from contracts.settings import Settings
from contracts.topics import CLOSURE_IMPACT, PRAISE, PRAISE_DLQ, SUGGESTIONS, THEME_MEMBERS, THEMES
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.fakes import whole_ask
from tests.integration.test_closure_broker import command, outcome_of
from tests.integration.test_themes_broker import latest
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = pytest.mark.integration

START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
RNG = np.random.default_rng(11)
CENTRES = [RNG.normal(size=384) for _ in range(3)]
SHIP_DAY = (START + timedelta(hours=14 * 59)).date()
CUTOFF = datetime.combine(SHIP_DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC) - timedelta(
    microseconds=1
)
WEEK = timedelta(days=7)


def vector(cluster: int, scale: float = 0.35) -> list[float]:
    v = CENTRES[cluster] + RNG.normal(scale=scale, size=384)
    return [float(x) for x in v / np.linalg.norm(v)]


def comment(index: int, author: str, at: datetime, text: str) -> CommentAccepted:
    return CommentAccepted(
        comment_id=f"s{index}", platform="x", product="trailmate", author_id=author,
        author_handle=f"@{author}", text=text, created_at=at, url=f"https://x.com/{author}/status/{index}",
        key=f"x:s{index}", received_at=at,
        source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )


def ask(index: int, cluster: int, author: str, at: datetime) -> tuple[bytes, bytes]:
    item = comment(index, author, at, f"idea {cluster} variant {index}")
    event = SuggestionDetected(
        suggestion_id=f"{item.key}#1", comment=item, ask=whole_ask(item.text), score=0.9,
        embedding=vector(cluster), embedding_model="test", detected_at=at,
    )
    return b"trailmate", event_json(event)


def praise(index: int, author: str, at: datetime, embedding: list[float]) -> PraiseDetected:
    return PraiseDetected(
        comment=comment(index, author, at, "it works now, thanks"), embedding=embedding,
        embedding_model="test", detected_at=at,
    )


def impacts(settings: Settings, expect: int, timeout: float = 180) -> dict[str, ClosureImpact]:
    """The latest record per key of ``feedback.closure-impact`` once ``expect`` keys are there."""
    deadline = time.monotonic() + timeout
    while True:
        out = {
            (r.key or b"").decode(): ClosureImpact.model_validate_json(r.value)
            for r in read_topic(settings, CLOSURE_IMPACT, timeout=20, settle=3)
            if r.value is not None
        }
        if len(out) >= expect or time.monotonic() > deadline:
            return out


def test_a_closure_whose_asking_stops_after_shipping(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    # 60 asks, one every 14 hours (about five weeks): idea 0 by user0..9, the others by other people.
    before = [ask(i, i % 3, f"user{i % 30}", START + timedelta(hours=14 * i)) for i in range(60)]
    produce(settings, SUGGESTIONS, before)
    env = {"YOUASKED_CLOSURE_RELEVANCE": "false"}
    worker = WorkerProcess(settings, tmp_path / "worker.log", env=env).start()
    try:
        active = {k: v for k, v in latest(settings, 3, THEMES, "theme_id").items() if v["status"] == "active"}
        members = latest(settings, 60, THEME_MEMBERS, "suggestion_id")
        assert len(active) == 3, worker.log_tail()
        target = str(members["x:s0#1"]["theme_id"])
        release = {"name": "Trailmate", "version": "2.5.0", "date": SHIP_DAY.isoformat()}
        ship = command(settings, "set_status", target, status="shipped", title="Idea zero", release=release)
        assert outcome_of(settings, ship, worker).accepted
        closure_id = f"closure:{target}:2.5.0"

        after = [
            ask(100 + n, 1 + n % 2, f"later{n}", CUTOFF + timedelta(days=2) + n * timedelta(days=3, hours=12))
            for n in range(8)
        ]  # weeks 1 to 4: only ideas 1 and 2 are asked for
        after.append(ask(120, 1, "later-last", CUTOFF + 4 * WEEK + timedelta(hours=2)))  # ends week 4
        produce(settings, PRAISE, [
            (b"trailmate", event_json(praise(200, "user3", CUTOFF + timedelta(days=3), vector(2)))),  # asker
            (b"trailmate", event_json(praise(201, "stranger", CUTOFF + timedelta(days=9), vector(0, 0.05)))),
            (b"trailmate", event_json(praise(202, "other", CUTOFF + timedelta(days=9), vector(1, 0.05)))),
            (b"trailmate", b"{not json"),
            (b"someone-else", event_json(praise(203, "user6", CUTOFF + timedelta(days=4), vector(0)))),
            (b"trailmate", event_json(praise(204, "stranger2", CUTOFF + timedelta(days=4), [1.0, 0.0]))),
            # as the classify stage sends praise: no vector; the themes stage embeds it with the
            # worker's model, and its words are nowhere near the hand-made theme: not kept
            (b"trailmate", event_json(PraiseDetected(
                comment=comment(205, "stranger3", CUTOFF + timedelta(days=10), "it works now, thanks"),
                detected_at=CUTOFF + timedelta(days=10),
            ))),
        ])
        produce(settings, SUGGESTIONS, after)
        letters = read_topic(settings, PRAISE_DLQ, expect=3, timeout=120, settle=2)
        published = impacts(settings, expect=4)
        dead = [DeadLetter.model_validate_json(r.value) for r in letters]
    finally:
        worker.stop()

    assert sorted(published) == [f"{closure_id}:{week}" for week in (1, 2, 3, 4)], worker.log_tail()
    asked_before = sum(1 for i in range(60) if i % 3 == 0)
    for week, record in ((int(k.rsplit(":", 1)[1]), v) for k, v in published.items()):
        assert record.week == week and record.theme_id == target and record.shipped_at == CUTOFF
        assert record.asks_before == asked_before and record.people_before == 10
        assert record.weeks_before == 5 and record.asks_before_per_week == round(asked_before / 5, 4)
        assert (record.asks_in_week, record.asks_after, record.asks_after_per_week) == (0, 0, 0.0)
        assert record.change == -1.0
    week1, week2 = published[f"{closure_id}:1"], published[f"{closure_id}:2"]
    assert (week1.follow_up_praise, week1.praising_askers, week1.praise_in_week) == (1, 1, 1)
    assert (week2.follow_up_praise, week2.praising_askers, week2.praising_people) == (2, 1, 2)
    reasons = sorted(d.reason.value for d in dead)
    assert reasons == ["processing_failed", "unreadable_record", "unreadable_record"]
    assert {d.stage for d in dead} == {"themes"}
    assert any("dimensions" in d.detail for d in dead) and any("keyed" in d.detail for d in dead)
