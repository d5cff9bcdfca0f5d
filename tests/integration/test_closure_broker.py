"""Commands and closures against the real broker: one closure per theme and release, through a crash.

The worker runs with the failpoint ``after-closure-published``: it sends itself SIGKILL right
after the closure reached the broker and before the theme's new status, the outcome and the
command's offset are stored. The supervisor starts a new worker, the command is delivered
again, and the closure ledger must keep the second closure out.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events import ThemeChanged, ThemeStatus
from contracts.lifecycle import (
    ClosureEvent,
    CommandOutcome,
    MonthlyUpdate,
    ThemeCommand,
    hash_author,
    new_command_id,
)
from contracts.settings import Settings
from contracts.topics import (
    CLOSURES,
    MONTHLY_UPDATES,
    SUGGESTIONS,
    THEME_MEMBERS,
    THEME_OUTCOMES,
    THEMES,
)
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from models.closure import PLATFORM_LIMITS
from models.factories import closure_templates
from models.theme_commands import monthly_update_event
from tests.integration.test_themes_broker import detected, latest
from tests.kafka_support import WorkerProcess, isolated_settings, produce
from youasked.commands import (
    publish_command,
    publish_monthly,
    read_closures,
    wait_for_outcome,
)

pytestmark = pytest.mark.integration


def command(settings: Settings, kind: str, theme_id: str, **fields: Any) -> ThemeCommand:
    cmd = ThemeCommand.model_validate({
        "command_id": new_command_id("cmd"), "product": "trailmate", "theme_id": theme_id, "kind": kind,
        "actor": "pm@trailmate", "issued_at": datetime.now(UTC).isoformat(), **fields,
    })
    publish_command(settings, cmd)
    return cmd


def outcome_of(settings: Settings, cmd: ThemeCommand, worker: WorkerProcess) -> CommandOutcome:
    outcome = wait_for_outcome(settings, cmd.command_id, timeout=240)
    assert outcome is not None, worker.log_tail()
    return outcome


def test_shipping_closes_exactly_once_through_a_crash_and_redelivery(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    produce(settings, SUGGESTIONS, [detected(i, i % 3, f"user{i % 25}") for i in range(60)])
    log = tmp_path / "worker.log"
    # The suggestions' vectors are random, not embeddings of their texts: relevance to the
    # release is for the unit tests; here every ask made before the release is thanked.
    env = {"YOUASKED_FAILPOINTS": "after-closure-published", "YOUASKED_CLOSURE_RELEVANCE": "false"}
    worker = WorkerProcess(settings, log, env=env).start()
    try:
        active = {k: v for k, v in latest(settings, 3, THEMES, "theme_id").items() if v["status"] == "active"}
        members = latest(settings, 60, THEME_MEMBERS, "suggestion_id")
        assert len(active) == 3, worker.log_tail()
        home = {sid: m["theme_id"] for sid, m in members.items()}
        target, source, other = (home[f"x:s{i}#1"] for i in range(3))

        merge = command(settings, "merge", target, source_ids=[source], reason="same idea")
        assert outcome_of(settings, merge, worker).accepted
        rejected = command(settings, "set_status", target, status="declined")  # no reason given
        assert outcome_of(settings, rejected, worker).code == "reason_required"

        release = {"name": "Trailmate", "version": "2.4.0", "date": "2026-11-20",
                   "link": "https://trailmate.example/releases/2.4.0", "note": "Offline maps follow you."}
        ship = command(
            settings, "set_status", target, status="shipped", title="Offline maps", release=release
        )
        shipped = outcome_of(settings, ship, worker)
        assert shipped.accepted and shipped.closure_key == f"closure:{target}:2.4.0", shipped
        publish_command(settings, ship)  # the producer sends it again
        again = command(settings, "set_status", target, status="shipped")  # a second attempt: closed
        assert outcome_of(settings, again, worker).code == "theme_closed"
        why = "It would drain batteries."
        declined = command(settings, "set_status", other, status="declined", reason=why)
        assert outcome_of(settings, declined, worker).accepted
        time.sleep(3)
        closures = [
            ClosureEvent.model_validate_json(r.value) for r in read_topic(settings, CLOSURES, settle=2)
        ]
        outcomes = Counter(r.key for r in read_topic(settings, THEME_OUTCOMES, settle=2))
        snapshots = latest(settings, 3, THEMES, "theme_id")
        themes = {k: ThemeChanged.model_validate(v) for k, v in snapshots.items()}
    finally:
        worker.stop()

    text = log.read_text(errors="replace")
    assert "failpoint after-closure-published: crashing" in text
    assert "exited with -9" in text, "the supervisor did not see the crash"
    keys = Counter(c.closure_key for c in closures)
    assert keys == {f"closure:{target}:2.4.0": 1, f"closure:{other}:none": 1}, keys
    assert outcomes[ship.command_id.encode()] == 1  # re-sent command: its first outcome, once

    closure = next(c for c in closures if c.theme_id == target)
    asked = [m for m in members.values() if m["theme_id"] in (target, source)]
    people = {(p.platform, p.author_id) for p in closure.people}
    assert len(people) == len(closure.people), "a person appears twice"
    assert people == {(m["platform"], m["author_id"]) for m in asked}  # all asked before 2026-11-20
    assert closure.held_asks == closure.left_out_asks == closure.asked_after_shipping == 0
    # The PM's merge, and any theme the worker itself folded into these two while they formed.
    assert source in closure.merged_theme_ids
    for old in set(closure.merged_theme_ids) - {source}:
        successor = old
        for _ in themes:  # a merge chain, never a cycle
            if themes[successor].status is not ThemeStatus.MERGED or not themes[successor].merged_into:
                break
            successor = str(themes[successor].merged_into)
        assert successor == target and old != target, (old, themes[old])
    assert {r.comment_id for r in closure.replies} == {m["comment_id"] for m in asked}
    assert all(r.comment_url and r.comment_url.startswith("https://x.com/") for r in closure.replies)
    post = closure.public_posts[0]
    assert post.length <= PLATFORM_LIMITS[post.platform] and "Offline maps" in post.text
    assert closure.release is not None and closure.release.version == "2.4.0"
    refusal = next(c for c in closures if c.theme_id == other)
    assert refusal.outcome == "declined" and "batteries" in " ".join(p.text for p in refusal.public_posts)

    assert themes[target].lifecycle_status == "shipped" and themes[target].release is not None
    assert themes[source].status is ThemeStatus.MERGED and themes[source].merged_into == target
    assert themes[target].score is not None and {f.name for f in themes[target].score.factors} >= {"growth"}

    month = closure.generated_at.strftime("%Y-%m")
    update = monthly_update_event(read_closures(settings), product="trailmate", month=month,
                                  templates=closure_templates(settings), now=datetime.now(UTC))
    assert [item.theme_id for item in update.items] == [target]
    assert update.distinct_people == len(people) and "Offline maps" in update.text
    publish_monthly(settings, update)
    published = [json.loads(r.value) for r in read_topic(settings, MONTHLY_UPDATES, expect=1, settle=1)]
    assert MonthlyUpdate.model_validate(published[-1]) == update


def test_a_person_added_after_shipping_gets_one_follow_up_through_a_crash(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    produce(settings, SUGGESTIONS, [detected(i, i % 2, f"user{i % 20}") for i in range(40)])
    log = tmp_path / "worker.log"
    env = {"YOUASKED_FAILPOINTS": "after-follow-up-closure-published", "YOUASKED_CLOSURE_RELEVANCE": "false"}
    worker = WorkerProcess(settings, log, env=env).start()
    try:
        active = {k: v for k, v in latest(settings, 2, THEMES, "theme_id").items() if v["status"] == "active"}
        assert len(active) == 2, worker.log_tail()
        members = latest(settings, 40, THEME_MEMBERS, "suggestion_id")
        placed = Counter(m["theme_id"] for m in members.values() if m["theme_id"])
        target = placed.most_common(1)[0][0]
        askers = sorted(
            {(m["platform"], m["author_id"]) for m in members.values() if m["theme_id"] == target}
        )
        assert len(askers) >= 3, askers
        left, kept = askers[0], askers[1]
        left_hash = hash_author(*left)
        excluded = command(settings, "exclude_asker", target, author_hash=left_hash, reason="another ask")
        assert outcome_of(settings, excluded, worker).accepted
        stranger = command(settings, "include_asker", target, author_hash=hash_author("x", "nobody"))
        assert outcome_of(settings, stranger, worker).code == "not_an_asker"
        ship = command(settings, "set_status", target, status="shipped", title="Offline maps",
                       release={"name": "Trailmate", "version": "2.5.0", "date": "2026-11-20"})
        assert outcome_of(settings, ship, worker).accepted
        included = command(settings, "include_asker", target, author_hash=left_hash, reason="it was maps")
        answer = outcome_of(settings, included, worker)  # the worker crashed once on the way
        publish_command(settings, included)  # and the producer sends it again
        twice = command(settings, "include_asker", target, author_hash=left_hash)
        assert outcome_of(settings, twice, worker).code == "no_change"
        again = command(settings, "include_asker", target, author_hash=hash_author(*kept))
        thanked_already = outcome_of(settings, again, worker)
        assert thanked_already.accepted and "Already thanked" in str(thanked_already.message)
        time.sleep(3)
        closures = [
            ClosureEvent.model_validate_json(r.value) for r in read_topic(settings, CLOSURES, settle=2)
        ]
        outcomes = Counter(r.key for r in read_topic(settings, THEME_OUTCOMES, settle=2))
    finally:
        worker.stop()

    text = log.read_text(errors="replace")
    assert "failpoint after-follow-up-closure-published: crashing" in text
    first_key = f"closure:{target}:2.5.0"
    follow_key = f"{first_key}:+{left_hash}"
    assert Counter(c.closure_key for c in closures) == {first_key: 1, follow_key: 1}
    assert answer.accepted and answer.closure_key == follow_key
    assert outcomes[included.command_id.encode()] == 1
    first = next(c for c in closures if c.closure_key == first_key)
    follow = next(c for c in closures if c.closure_key == follow_key)
    assert left not in {(p.platform.value, p.author_id) for p in first.people}
    assert kept in {(p.platform.value, p.author_id) for p in first.people}
    assert [(p.platform.value, p.author_id) for p in follow.people] == [left]
    assert follow.follow_up_of == first_key and follow.public_posts == []
    assert {r.author_id for r in follow.replies} == {left[1]}
