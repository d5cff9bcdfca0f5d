"""The themes agent's service without a broker: each input kind gives its effects as data, in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import (
    AskSpan,
    CommentAccepted,
    DuplicateKind,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
    ThemeStatus,
)
from contracts.lifecycle import ClosureEvent, CommandOutcome, hash_author
from contracts.topics import CLOSURES, THEME_MEMBERS, THEME_OUTCOMES, THEMES
from models.closure import load_templates
from models.themes import service as service_module
from models.themes.effects import MEMBERS, STATE, Effects, Emit, TableWrite
from models.themes.service import ThemesService
from tests.fakes import MemoryThemeTables, whole_ask
from tests.unit.test_theme_commands import DIM, ENGINE, TOPICS, vector

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SERVICE = ThemesService(engine=ENGINE, templates=load_templates())
COMMANDS = "feedback.theme-commands"


@dataclass(frozen=True)
class Record:
    """A record of the commands topic as the agent reads it."""

    key: bytes | None
    value: bytes
    topic: str = COMMANDS
    partition: int = 3
    offset: int = 0


class Broker:
    """What the agent's effect sink does, in memory: topics keep their records, publish-once
    records go through a ledger of keys, writes go to the tables.
    """

    def __init__(self, tables: MemoryThemeTables) -> None:
        self.tables = tables
        self.sent: list[Emit] = []
        self.ledger: set[tuple[str, str]] = set()

    def apply(self, effects: Effects) -> None:
        for item in effects.items:
            if isinstance(item, TableWrite):
                self.tables.apply(item)
                continue
            entry = (item.topic.name, item.ledger_key or item.key)  # the ledger's key, as the agent's
            if not item.once or entry not in self.ledger:
                self.sent.append(item)
                if item.once:
                    self.ledger.add(entry)


def detected(n: int, center: int, author: str, at: datetime | None = None) -> SuggestionDetected:
    at = at or T0 + timedelta(minutes=n)
    comment = CommentAccepted(
        comment_id=f"c{n}",
        platform="x",
        product="acme",
        author_id=author,
        author_handle=f"@{author}",
        text=f"{TOPICS[center]} {n}",
        created_at=at,
        url=f"https://x.com/{author}/status/{n}",
        key=f"x:c{n}",
        received_at=at,
        source=SourceRef(topic="feedback.comments", partition=0, offset=n),
    )
    return SuggestionDetected(
        suggestion_id=f"{comment.key}#1",
        comment=comment,
        ask=whole_ask(comment.text),
        score=0.9,
        embedding=[float(x) for x in vector(center, n)],
        embedding_model="test",
        detected_at=at,
    )


def command_record(
    command_id: str, theme_id: str, kind: str, *, key: bytes = b"acme", **fields: Any
) -> Record:
    body = {
        "command_id": command_id,
        "product": "acme",
        "theme_id": theme_id,
        "kind": kind,
        "actor": "pm@acme",
        "issued_at": (T0 + timedelta(days=2)).isoformat(),
        **fields,
    }
    return Record(key=key, value=json.dumps(body).encode())


def seeded() -> tuple[MemoryThemeTables, Broker]:
    """Twelve suggestions by eight people about two topics, re-clustered into two themes."""
    tables = MemoryThemeTables(dim=DIM)
    broker = Broker(tables)
    for center in (0, 1):
        for i in range(6):
            n = center * 6 + i
            broker.apply(SERVICE.suggestion(tables, detected(n, center, f"user{center}{i % 4}"), now=T0))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=1)))
    assert len(tables.work("acme").themes.themes) == 2
    return tables, broker


def themes(tables: MemoryThemeTables) -> list[str]:
    """The two themes, the dark-mode one first."""
    live = tables.work("acme").themes.themes
    return sorted(live, key=lambda tid: min(m.text for m in live[tid].sample))


def positions(effects: Effects) -> dict[str, list[int]]:
    """Where each kind of effect stands in ``effects`` (by topic name, or the table written)."""
    where: dict[str, list[int]] = {}
    for index, item in enumerate(effects.items):
        name = item.topic.name if isinstance(item, Emit) else item.table
        where.setdefault(name, []).append(index)
    return where


def outcome_of(effects: Effects) -> CommandOutcome:
    (emit,) = effects.emits(THEME_OUTCOMES)
    assert emit.once and emit.partition == 3 and isinstance(emit.value, CommandOutcome)
    return emit.value


# -- suggestions and ticks --------------------------------------------------------------------


def test_a_suggestion_emits_its_member_record_then_stores_the_product() -> None:
    tables = MemoryThemeTables(dim=DIM)
    effects = SERVICE.suggestion(tables, detected(0, 0, "ana"), now=T0)

    assert effects.stepped and effects.passed_over is None
    (member,) = effects.emits(THEME_MEMBERS)
    assert member.key == "x:c0#1" and not member.once and member.partition is None
    assert isinstance(member.value, SuggestionThemed) and member.value.theme_id is None  # pooled
    assert member.value.author_handle == "@ana" and member.value.placed_at == T0
    where = positions(effects)
    assert max(where[THEME_MEMBERS.name]) < min(where[STATE] + where[MEMBERS])  # outputs before tables
    keys = {w.key for w in effects.writes()}
    assert {"meta:acme", "lineage:acme", "pool:x:c0#1", "x:c0#1"} <= keys


def test_a_redelivered_suggestion_is_passed_over_with_no_effect() -> None:
    tables = MemoryThemeTables(dim=DIM)
    Broker(tables).apply(SERVICE.suggestion(tables, detected(0, 0, "ana"), now=T0))

    again = SERVICE.suggestion(tables, detected(0, 0, "ana"), now=T0 + timedelta(hours=1))

    assert again.items == [] and not again.stepped and again.passed_over
    assert "re-delivered" in again.passed_over


def test_a_tick_after_a_burst_makes_themes_and_moves_every_member_into_one() -> None:
    tables, broker = seeded()
    dark, export = themes(tables)
    snapshots = {e.key: e.value for e in broker.sent if e.topic.name == THEMES.name}
    assert set(snapshots) == {dark, export}
    assert all(isinstance(s, ThemeChanged) and s.status is ThemeStatus.ACTIVE for s in snapshots.values())
    members = [tables.member(f"x:c{n}#1") for n in range(12)]
    assert all(m is not None and m["theme_id"] in (dark, export) for m in members)
    assert tables.state_table[f"theme:{dark}"]["member_count"] == 6


# -- commands ---------------------------------------------------------------------------------


def test_shipping_publishes_exactly_one_closure_once_before_the_outcome_then_the_tables() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    ship = command_record(
        "cmd-ship",
        dark,
        "set_status",
        status="shipped",
        title="Dark mode",
        release={"name": "Acme", "version": "2.4.0"},
    )

    effects = SERVICE.command(tables, ship, now=T0 + timedelta(days=3))

    (closure,) = effects.emits(CLOSURES)
    assert closure.once and closure.partition == 3 and closure.key == f"closure:{dark}:2.4.0"
    assert closure.checkpoint == "after-closure-published"
    assert isinstance(closure.value, ClosureEvent) and closure.value.people_count == 4
    outcome = outcome_of(effects)
    assert outcome.accepted and outcome.closure_key == closure.key
    where = positions(effects)
    assert where[CLOSURES.name][0] < min(where[THEMES.name]) < where[THEME_OUTCOMES.name][0]
    assert where[THEME_OUTCOMES.name][0] < min(where[STATE])  # then the tables
    (snapshot,) = [e.value for e in effects.emits(THEMES) if e.key == dark]
    assert isinstance(snapshot, ThemeChanged) and snapshot.lifecycle_status.value == "shipped"
    broker.apply(effects)
    assert tables.life(dark)["status"] == "shipped"  # type: ignore[index]
    assert tables.outcome("cmd-ship") == outcome.model_dump(mode="json")


def test_a_redelivered_command_reports_its_stored_outcome_and_nothing_else() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    plan = command_record("cmd-1", dark, "set_status", status="planned")
    first = SERVICE.command(tables, plan, now=T0 + timedelta(days=3))
    broker.apply(first)

    again = SERVICE.command(tables, plan, now=T0 + timedelta(days=4))

    assert len(again.items) == 1 and outcome_of(again) == outcome_of(first)
    before = len(broker.sent)
    broker.apply(again)
    assert len(broker.sent) == before  # the ledger keeps one copy


def test_a_command_keyed_by_another_product_is_rejected_and_changes_nothing() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)

    effects = SERVICE.command(
        tables, command_record("cmd-2", dark, "set_cost", key=b"other", cost={"size": "M"}), now=T0
    )

    assert len(effects.items) == 1 and effects.writes() == []
    outcome = outcome_of(effects)
    assert not outcome.accepted and outcome.code == "wrong_key" and "other" in (outcome.message or "")


def test_an_unreadable_command_gets_its_rejection() -> None:
    tables = MemoryThemeTables(dim=DIM)
    effects = SERVICE.command(tables, Record(key=b"acme", value=b"{not json", offset=17), now=T0)
    outcome = outcome_of(effects)
    assert outcome.code == "invalid_command" and outcome.command_id == f"{COMMANDS}:3:17"


def test_cost_release_and_refusals_are_recorded_with_their_outcome() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    now = T0 + timedelta(days=3)
    cost = SERVICE.command(tables, command_record("c-cost", dark, "set_cost", cost={"size": "M"}), now=now)
    broker.apply(cost)
    assert outcome_of(cost).accepted and tables.life(dark)["cost"]["size"] == "M"  # type: ignore[index]
    release = SERVICE.command(
        tables,
        command_record("c-rel", dark, "attach_release", release={"name": "Acme", "version": "1"}),
        now=now,
    )
    assert outcome_of(release).accepted and release.emits(CLOSURES) == []
    refused = SERVICE.command(tables, command_record("c-no", dark, "set_status", status="declined"), now=now)
    assert outcome_of(refused).code == "reason_required"
    assert [w.key for w in refused.writes() if w.key.startswith("outcome:")] == ["outcome:c-no"]


def test_merge_publishes_the_merged_theme_and_the_survivor() -> None:
    tables, _ = seeded()
    dark, export = themes(tables)

    effects = SERVICE.command(tables, command_record("c-m", dark, "merge", source_ids=[export]), now=T0)

    assert outcome_of(effects).accepted
    snapshots = {e.key: e.value for e in effects.emits(THEMES)}
    merged = snapshots[export]
    assert (
        isinstance(merged, ThemeChanged)
        and merged.status is ThemeStatus.MERGED
        and merged.merged_into == dark
    )
    assert TableWrite(STATE, f"theme:{export}", None) in effects.writes()
    assert effects.emits(THEME_MEMBERS) == []  # members follow ``merged_into``; their records stay


def test_split_moves_the_named_members_into_a_new_theme() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    held = [m.suggestion_id for m in tables.work("acme").themes.themes[dark].sample][:2]

    effects = SERVICE.command(
        tables,
        command_record("c-s", dark, "split", parts=[{"new_theme_id": "t-night", "member_ids": held}]),
        now=T0,
    )

    assert outcome_of(effects).accepted, outcome_of(effects).message
    assert {e.key: e.value.theme_id for e in effects.emits(THEME_MEMBERS)} == dict.fromkeys(held, "t-night")  # type: ignore[union-attr]


def test_a_place_moves_an_ask_in_no_theme_into_the_theme_and_stores_it_there() -> None:
    tables, broker = seeded()
    dark, export = themes(tables)
    # a third topic, asked once: the re-cluster leaves it in no theme
    lone = detected(12, 1, "walker")
    lone = lone.model_copy(update={"embedding": [float(x) for x in vector(2, 12)]})
    broker.apply(SERVICE.suggestion(tables, lone, now=T0 + timedelta(days=1, hours=1)))
    assert tables.work("acme").themes.locate(lone.suggestion_id) == "pool"

    effects = SERVICE.command(
        tables, command_record("c-p", dark, "place", suggestion_id=lone.suggestion_id),
        now=T0 + timedelta(days=2),
    )
    broker.apply(effects)

    outcome = outcome_of(effects)
    assert outcome.accepted, outcome.message
    assert [(c.theme_id, c.kind) for c in outcome.changes] == [(dark, "place")]
    (member,) = [e.value for e in effects.emits(THEME_MEMBERS)]
    assert isinstance(member, SuggestionThemed)
    assert (member.suggestion_id, member.theme_id) == (lone.suggestion_id, dark)
    assert TableWrite(STATE, f"pool:{lone.suggestion_id}", None) in effects.writes()
    tables.forget()
    stored = tables.work("acme").themes  # read back from the tables
    assert stored.locate(lone.suggestion_id) == dark and stored.themes[dark].pinned == {lone.suggestion_id}
    assert {e.key for e in effects.emits(THEMES)} == {dark}
    assert export in stored.themes


def test_a_review_confirms_a_possible_duplicate_and_its_member_record_says_so() -> None:
    tables, _ = seeded()
    record = dict(tables.member("x:c8#1") or {})
    tables.members_table["x:c8#1"] = {
        **record,
        "duplicate_of": "x:c0#1",
        "duplicate_kind": "review",
        "similarity": 0.8,
    }
    dark, _ = themes(tables)

    effects = SERVICE.command(
        tables, command_record("c-r", "pool", "confirm_duplicate", suggestion_id="x:c8#1"), now=T0
    )

    assert outcome_of(effects).accepted, outcome_of(effects).message
    (member,) = [e.value for e in effects.emits(THEME_MEMBERS) if e.key == "x:c8#1"]
    assert isinstance(member, SuggestionThemed)
    assert member.duplicate_kind is DuplicateKind.CONFIRMED and member.theme_id == dark
    again = SERVICE.command(
        tables, command_record("c-r2", "pool", "reject_duplicate", suggestion_id="x:c9#1"), now=T0
    )
    assert outcome_of(again).code == "not_a_possible_duplicate"


def test_erasure_tombstones_the_person_and_keeps_their_old_suggestions_out() -> None:
    tables, broker = seeded()
    hashed = hash_author("x", "user00")  # wrote x:c0 and x:c4
    now = T0 + timedelta(days=3)

    effects = SERVICE.command(
        tables, command_record("c-e", "any", "erase_author", author_hash=hashed), now=now
    )
    broker.apply(effects)

    assert outcome_of(effects).accepted
    tombstones = {e.key for e in effects.emits(THEME_MEMBERS) if e.value is None}
    assert tombstones == {"x:c0#1", "x:c4#1"}
    assert tables.member("x:c0#1") is None and tables.erased_at("acme", hashed) == now.isoformat()
    where = positions(effects)
    assert max(where[THEME_MEMBERS.name]) < min(where[MEMBERS]) < where[THEME_OUTCOMES.name][0]
    late = SERVICE.suggestion(tables, detected(0, 0, "user00"), now=now)
    assert late.items == [] and "erased" in (late.passed_over or "")


# -- properties -------------------------------------------------------------------------------

Step = tuple[str, int, int]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("suggest"), st.integers(0, 1), st.integers(0, 5)),
        st.tuples(st.just("again"), st.integers(0, 20), st.integers(0, 0)),
        st.tuples(st.just("tick"), st.integers(0, 1), st.integers(0, 0)),
        st.tuples(
            st.sampled_from(["plan", "ship", "cost", "wrong_key", "garbage", "repeat"]),
            st.integers(0, 2),
            st.integers(0, 0),
        ),
    ),
    min_size=1,
    max_size=24,
)


def run(sequence: list[Step]) -> list[tuple[str, Effects, str | None]]:
    """Run ``sequence`` on fresh tables: each input's kind, its effects and the id of a new
    suggestion (None for the other inputs).
    """
    tables = MemoryThemeTables(dim=DIM)
    broker = Broker(tables)
    asked: list[SuggestionDetected] = []
    commands: list[Record] = []
    out: list[tuple[str, Effects, str | None]] = []
    for index, (kind, a, b) in enumerate(sequence):
        now = T0 + timedelta(hours=index)
        new: str | None = None
        if kind == "suggest":
            event = detected(len(asked), a, f"user{b}", at=now)
            asked.append(event)
            new = event.suggestion_id
            effects = SERVICE.suggestion(tables, event, now=now)
        elif kind == "again" and asked:
            effects = SERVICE.suggestion(tables, asked[a % len(asked)], now=now)
        elif kind in ("tick", "again"):
            kind = "tick"
            effects = SERVICE.tick(tables, "acme", idle=bool(a), now=now)
        else:
            record = command_of(kind, a, index, tables, commands)
            commands.append(record)
            effects = SERVICE.command(tables, record, now=now)
        broker.apply(effects)
        out.append((kind, effects, new))
    return out


def command_of(kind: str, a: int, index: int, tables: MemoryThemeTables, earlier: list[Record]) -> Record:
    """A command record of ``kind`` on the ``a``-th live theme (an earlier record for ``repeat``)."""
    if kind == "repeat" and earlier:
        return earlier[a % len(earlier)]
    if kind == "garbage":
        return Record(key=b"acme", value=b"[1, 2]", offset=index)
    live = sorted(tables.work("acme").themes.themes)
    target = live[a % len(live)] if live else "t-none"
    if kind == "cost":
        return command_record(f"cmd-{index}", target, "set_cost", cost={"points": 3})
    if kind == "ship":
        release = {"name": "Acme", "version": f"{index}"}
        return command_record(f"cmd-{index}", target, "set_status", status="shipped", release=release)
    key = b"elsewhere" if kind == "wrong_key" else b"acme"
    return command_record(f"cmd-{index}", target, "set_status", key=key, status="planned")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_every_input_ends_in_exactly_one_output_or_a_recorded_rejection(sequence: list[Step]) -> None:
    for kind, effects, new in run(sequence):
        outcomes = effects.emits(THEME_OUTCOMES)
        if kind == "again":  # a re-delivered suggestion: its record is there already
            assert effects.items == [] and effects.passed_over
        elif kind == "suggest":  # a new suggestion: exactly one member record, then stored once
            assert [e.key for e in effects.emits(THEME_MEMBERS)].count(str(new)) == 1
            assert [w.key for w in effects.writes() if w.table == MEMBERS].count(str(new)) == 1
            assert outcomes == []
        elif kind == "tick":
            assert outcomes == [] and effects.emits(CLOSURES) == []
        else:  # a command: one outcome (accepted or the rejection), published once; a closure first
            assert len(outcomes) == 1 and outcomes[0].once
            at = effects.items.index(outcomes[0])
            closures = [i for i, e in enumerate(effects.items) if isinstance(e, Emit) and e.topic == CLOSURES]
            assert len(closures) <= 1 and all(i < at for i in closures)
            outcome = outcomes[0].value
            assert isinstance(outcome, CommandOutcome)
            recorded = [w for w in effects.writes() if w.key == f"outcome:{outcome.command_id}"]
            # a decision is recorded with its outcome; a stored outcome reported again, a wrong key
            # and an unreadable record are answered by the outcome alone
            assert len(recorded) == (0 if len(effects.items) == 1 else 1)
            if outcome.code in ("wrong_key", "invalid_command"):
                assert len(effects.items) == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_replaying_the_same_inputs_on_fresh_tables_gives_the_same_effects(sequence: list[Step]) -> None:
    first = [effects for _, effects, _ in run(sequence)]
    second = [effects for _, effects, _ in run(sequence)]
    assert first == second


def test_member_vectors_come_from_the_detected_embedding() -> None:
    tables = MemoryThemeTables(dim=DIM)
    event = detected(0, 1, "ana")
    Broker(tables).apply(SERVICE.suggestion(tables, event, now=T0))
    pooled = tables.work("acme").themes.pool["x:c0#1"]
    assert np.allclose(pooled.vector, np.asarray(event.embedding, dtype=np.float32))


def two_asks(n: int, author: str) -> list[SuggestionDetected]:
    """One comment of ``author`` that asks for two things: one of each topic."""
    first, second = f"{TOPICS[0]} please", f"{TOPICS[1]} too"
    text = f"{first}. {second}"
    base = detected(n, 0, author)
    comment = base.comment.model_copy(update={"text": text})
    spans = ((first, 0, len(first)), (second, len(first) + 2, len(text)))
    return [
        base.model_copy(
            update={
                "suggestion_id": f"{comment.key}#{ordinal}",
                "comment": comment,
                "ask": AskSpan(text=ask, start=start, end=end),
                "embedding": [float(x) for x in vector(center, n)],
            }
        )
        for ordinal, (center, (ask, start, end)) in enumerate(zip((0, 1), spans, strict=True), start=1)
    ]


def test_a_comment_with_two_asks_is_two_members_of_two_themes_and_one_person_in_each() -> None:
    tables = MemoryThemeTables(dim=DIM)
    broker = Broker(tables)
    for center in (0, 1):
        for i in range(6):
            n = center * 6 + i
            broker.apply(SERVICE.suggestion(tables, detected(n, center, f"user{center}{i % 4}"), now=T0))
    for event in two_asks(40, "both"):
        broker.apply(SERVICE.suggestion(tables, event, now=T0))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=1)))

    first, second = (tables.member(f"x:c40#{ordinal}") for ordinal in (1, 2))
    assert first is not None and second is not None
    assert first["theme_id"] != second["theme_id"] and None not in (first["theme_id"], second["theme_id"])
    assert first["comment_id"] == second["comment_id"] == "c40"
    assert first["text"] == f"{TOPICS[0]} please" and second["text"] == f"{TOPICS[1]} too"
    comment = first["comment_text"]
    assert comment[first["ask_start"] : first["ask_end"]] == first["text"]
    assert comment[second["ask_start"] : second["ask_end"]] == second["text"]
    snapshots = {e.key: e.value for e in broker.sent if e.topic.name == THEMES.name}
    for theme_id in (first["theme_id"], second["theme_id"]):
        snapshot = snapshots[theme_id]
        assert isinstance(snapshot, ThemeChanged)
        assert snapshot.member_count == 7 and snapshot.author_count == 5  # four people and "both"


def test_a_command_the_worker_could_not_apply_is_answered_as_failed_and_stores_nothing() -> None:
    from models.themes.command_effects import failed_command_effects

    tables, _ = seeded()
    dark, _ = themes(tables)
    record = command_record("c-boom", dark, "set_status", status="planned")

    effects = failed_command_effects(record, KeyError("members"), now=T0)

    outcome = outcome_of(effects)
    assert (outcome.command_id, outcome.accepted, outcome.code) == ("c-boom", False, "processing_failed")
    assert "KeyError" in (outcome.message or "") and effects.writes() == []
    assert failed_command_effects(Record(key=b"acme", value=b"{not json"), KeyError("x"), now=T0).items == []


def test_a_suggestion_delivered_again_after_its_member_entry_was_lost_is_counted_once() -> None:
    tables, broker = seeded()
    suggestion = detected(100, 0, "newcomer")
    now = T0 + timedelta(days=2)
    for item in SERVICE.suggestion(tables, suggestion, now=now).items:
        # the worker dies once the state's changelog has the step and before the members' has it
        if isinstance(item, TableWrite) and item.table == STATE:
            tables.apply(item)
    tables.forget()  # the worker taking the product over rebuilds it from the tables
    placed = tables.work("acme").themes.locate(suggestion.suggestion_id)
    assert placed not in (None, "pool")
    mentions = tables.work("acme").themes.themes[placed].mention_count

    broker.apply(SERVICE.suggestion(tables, suggestion, now=now))

    member = tables.member(suggestion.suggestion_id)
    assert member is not None and member["duplicate_of"] != suggestion.suggestion_id
    assert member["theme_id"] == placed
    assert tables.work("acme").themes.themes[placed].mention_count == mentions


def test_a_suggestion_whose_member_entry_was_stored_without_its_state_is_placed_again_once() -> None:
    tables, broker = seeded()
    first, second = detected(100, 0, "newcomer"), detected(101, 0, "latecomer")
    now = T0 + timedelta(days=2)
    dark = themes(tables)[0]
    count = tables.work("acme").themes.themes[dark].member_count
    steps = tables.work("acme").steps
    emitted: list[Emit] = []
    for suggestion in (first, second):
        effects = SERVICE.suggestion(tables, suggestion, now=now)
        emitted.extend(effects.emits())
        for item in effects.writes():
            # the worker dies once the members' changelog has both steps, before the state's has them
            if item.table == MEMBERS:
                tables.apply(item)
    assert tables.member_step(second.suggestion_id) == steps + 2
    tables.forget()  # the worker taking the product over rebuilds it from the tables
    assert tables.work("acme").steps == steps
    assert tables.work("acme").themes.themes[dark].member_count == count

    again = [SERVICE.suggestion(tables, suggestion, now=now) for suggestion in (first, second)]
    for effects in again:
        assert effects.passed_over is None and effects.stepped
        broker.apply(effects)

    # placed again from the same state: the same snapshots and themes, each counted once (which
    # near-duplicate a member names may differ: a worker taking a product over refills the window
    # of recent suggestions from the stored ones)
    replayed = [e for effects in again for e in effects.emits()]
    assert [e.value for e in emitted if e.topic == THEMES] == [e.value for e in replayed if e.topic == THEMES]
    assert [(e.key, e.value.theme_id) for e in emitted if e.topic == THEME_MEMBERS] == [  # type: ignore[union-attr]
        (e.key, e.value.theme_id) for e in replayed if e.topic == THEME_MEMBERS  # type: ignore[union-attr]
    ]
    assert tables.work("acme").themes.themes[dark].member_count == count + 2
    assert {tables.member(s.suggestion_id)["theme_id"] for s in (first, second)} == {dark}  # type: ignore[index]
    assert tables.member_step(second.suggestion_id) == tables.work("acme").steps == steps + 2
    assert "product_step" not in (tables.member(first.suggestion_id) or {})
    tables.forget()
    assert all(SERVICE.suggestion(tables, s, now=now).passed_over for s in (first, second))


def test_themes_are_serialized_before_a_step_only_when_it_may_re_cluster(monkeypatch: Any) -> None:
    # Only a re-cluster merges themes away (and needs their records from before the step):
    # serializing every theme for every suggestion would cost O(themes) per suggestion.
    tables, broker = seeded()
    taken: list[int] = []
    real = service_module.snapshot_before
    monkeypatch.setattr(service_module, "snapshot_before", lambda work: taken.append(1) or real(work))
    last = tables.work("acme").themes.last_recluster_at
    assert last is not None
    soon = last + timedelta(minutes=1)

    broker.apply(SERVICE.suggestion(tables, detected(40, 0, "user40", at=soon), now=soon))
    broker.apply(SERVICE.tick(tables, "acme", idle=False, now=soon + timedelta(minutes=1)))
    assert taken == [] and tables.work("acme").themes.last_recluster_at == last

    later = last + ENGINE.config.recluster_interval + timedelta(minutes=1)
    broker.apply(SERVICE.suggestion(tables, detected(41, 1, "user41", at=later), now=later))
    assert taken == [1] and tables.work("acme").themes.last_recluster_at == later
    broker.apply(SERVICE.suggestion(tables, detected(42, 1, "user42", at=later), now=later))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=later))  # idle, with one new: re-clusters
    assert taken == [1, 1]


def test_the_tables_name_every_product_they_hold_loaded_or_not() -> None:
    # a worker that took partitions over asks its stored products to load (streams/themes.py)
    tables = MemoryThemeTables(dim=DIM)
    broker = Broker(tables)
    broker.apply(SERVICE.suggestion(tables, detected(0, 0, "ana"), now=T0))
    other = detected(1, 1, "bo")
    other = other.model_copy(update={"comment": other.comment.model_copy(update={"product": "zeta"})})
    broker.apply(SERVICE.suggestion(tables, other, now=T0))
    tables.forget()

    assert tables.stored_products() == {"acme", "zeta"} and not tables.loaded
