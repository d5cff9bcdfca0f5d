"""A product manager's say over who a closure thanks: include and exclude, before and after
shipping, kept across re-clusters, and the follow-up closure published once.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.lifecycle import ClosureEvent, CommandOutcome, hash_author
from contracts.topics import CLOSURES, THEME_OUTCOMES
from models.themes.asker_decisions import decisions_key
from models.themes.effects import Effects
from tests.fakes import MemoryThemeTables
from tests.unit.test_themes_service import SERVICE, T0, Broker, command_record, detected, seeded, themes

SHIP_AT = T0 + timedelta(days=3)


def person(author: str) -> str:
    return hash_author("x", author)


def decide(tables: MemoryThemeTables, broker: Broker, command_id: str, theme_id: str, kind: str, author: str,
           *, days: float = 2.5) -> Effects:
    record = command_record(command_id, theme_id, kind, author_hash=person(author), reason="read it")
    effects = SERVICE.command(tables, record, now=T0 + timedelta(days=days))
    broker.apply(effects)
    return effects


def ship(
    tables: MemoryThemeTables, broker: Broker, theme_id: str, *, command_id: str = "cmd-ship"
) -> ClosureEvent:
    record = command_record(command_id, theme_id, "set_status", status="shipped", title="Dark mode",
                            release={"name": "Acme", "version": "2.4.0"})
    effects = SERVICE.command(tables, record, now=SHIP_AT)
    broker.apply(effects)
    (closure,) = [e.value for e in effects.emits(CLOSURES)]
    assert isinstance(closure, ClosureEvent)
    return closure


def outcome(effects: Effects) -> CommandOutcome:
    (emit,) = effects.emits(THEME_OUTCOMES)
    assert isinstance(emit.value, CommandOutcome)
    return emit.value


def thanked(closure: ClosureEvent) -> set[str]:
    return {p.author_id for p in closure.people}


def test_an_excluded_person_is_left_out_of_the_closure_by_the_pms_rule() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)

    decided = outcome(decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user01"))
    closure = ship(tables, broker, dark)

    assert decided.accepted and decided.author_hash == person("user01")
    assert thanked(closure) == {"user00", "user02", "user03"}
    assert closure.people_count == 3 and closure.left_out_asks == 2 and closure.thanked_asks == 4
    left = [j for j in closure.judged if j.author_id == "user01"]
    assert {j.verdict for j in left} == {"left_out"} and all("pm@acme" in j.rule for j in left)
    assert "a product manager decided for 1 of the people" in closure.selection_rule
    (post,) = closure.public_posts
    assert post.people_on_platform == 3 and "@user01" not in post.text


def test_the_latest_decision_wins_and_a_repeat_changes_nothing() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user01", days=2.1)

    repeat = outcome(decide(tables, broker, "cmd-ex-2", dark, "exclude_asker", "user01", days=2.2))
    back = outcome(decide(tables, broker, "cmd-in", dark, "include_asker", "user01", days=2.3))
    closure = ship(tables, broker, dark)

    assert not repeat.accepted and repeat.code == "no_change"
    assert back.accepted and "user01" in thanked(closure) and closure.people_count == 4


def test_a_decision_survives_a_re_cluster() -> None:
    tables, broker = seeded()
    dark, other = themes(tables)
    decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user02")
    for n in range(20, 26):  # more asks of both topics, then a re-cluster
        broker.apply(SERVICE.suggestion(tables, detected(n, n % 2, f"late{n}", T0 + timedelta(days=2.6)),
                                        now=T0 + timedelta(days=2.6)))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=2.7)))
    assert set(themes(tables)) == {dark, other}  # stable ids through the re-cluster

    closure = ship(tables, broker, dark)

    assert "user02" not in thanked(closure) and "user00" in thanked(closure)
    assert {j.verdict for j in closure.judged if j.author_id == "user02"} == {"left_out"}


def test_including_someone_after_shipping_publishes_one_follow_up_for_them_alone() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user03")
    first = ship(tables, broker, dark)
    assert "user03" not in thanked(first)

    effects = decide(tables, broker, "cmd-in", dark, "include_asker", "user03", days=4)

    (emit,) = effects.emits(CLOSURES)
    follow_up = emit.value
    assert isinstance(follow_up, ClosureEvent) and emit.once
    assert emit.key == f"{first.closure_key}:+{person('user03')}" == follow_up.closure_key
    assert follow_up.follow_up_of == first.closure_key
    assert thanked(follow_up) == {"user03"} and follow_up.public_posts == []
    assert {r.author_id for r in follow_up.replies} == {"user03"}
    assert all(j.verdict == "thanked" for j in follow_up.judged) and follow_up.thanked_asks == 1
    answer = outcome(effects)
    assert answer.accepted and answer.closure_key == follow_up.closure_key
    assert effects.items.index(emit) < effects.items.index(effects.emits(THEME_OUTCOMES)[0])

    # the same command again, and another include of the same person: no second follow-up
    sent = len(broker.sent)
    again = SERVICE.command(tables, command_record("cmd-in", dark, "include_asker",
                                                   author_hash=person("user03")), now=T0 + timedelta(days=5))
    broker.apply(again)
    assert not again.emits(CLOSURES) and len(broker.sent) == sent  # its outcome was out already
    other = outcome(decide(tables, broker, "cmd-in-2", dark, "include_asker", "user03", days=6))
    assert not other.accepted and other.code == "no_change"
    assert len([e for e in broker.sent if e.topic == CLOSURES]) == 2  # the closure and one follow-up


def test_a_follow_up_left_half_done_by_a_crash_is_published_once() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user03")
    ship(tables, broker, dark)
    record = command_record("cmd-in", dark, "include_asker", author_hash=person("user03"))
    crashed = SERVICE.command(tables, record, now=T0 + timedelta(days=4))
    broker.apply(Effects(crashed.items[:1]))  # the follow-up went out, then the worker died

    redelivered = SERVICE.command(tables, record, now=T0 + timedelta(days=4, minutes=1))
    broker.apply(redelivered)

    assert [e.key for e in redelivered.emits(CLOSURES)] == [e.key for e in crashed.emits(CLOSURES)]
    assert len([e for e in broker.sent if e.topic == CLOSURES]) == 2  # the ledger kept one copy
    assert outcome(redelivered).accepted


def test_excluding_someone_already_thanked_cannot_take_it_back_and_says_so() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    ship(tables, broker, dark)

    effects = decide(tables, broker, "cmd-ex", dark, "exclude_asker", "user00", days=4)

    answer = outcome(effects)
    assert answer.accepted and not effects.emits(CLOSURES)
    assert answer.message is not None and "cannot be taken back" in answer.message
    assert person("user00") in tables.state(decisions_key(dark))


def test_someone_who_asked_only_after_shipping_is_never_thanked_for_it() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    ship(tables, broker, dark)
    late = detected(40, 0, "latecomer", SHIP_AT + timedelta(days=2))
    broker.apply(SERVICE.suggestion(tables, late, now=SHIP_AT + timedelta(days=2)))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=SHIP_AT + timedelta(days=2, hours=1)))

    answer = outcome(decide(tables, broker, "cmd-in", dark, "include_asker", "latecomer", days=6))

    assert not answer.accepted and answer.code in {"asked_after_shipping", "not_an_asker"}
    assert len([e for e in broker.sent if e.topic == CLOSURES]) == 1


def test_decisions_about_strangers_and_unknown_themes_are_rejected() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)

    stranger = outcome(decide(tables, broker, "cmd-1", dark, "include_asker", "nobody"))
    unknown = outcome(decide(tables, broker, "cmd-2", "no-such-theme", "exclude_asker", "user00"))

    assert not stranger.accepted and stranger.code == "not_an_asker"
    assert not unknown.accepted and unknown.code == "unknown_theme"
    assert tables.state(decisions_key(dark)) is None
