"""A shipped closure through the themes service: the time rule and the relevance step, end to end
on the in-memory tables (the embedder is a fake that maps our own texts to known directions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np

from contracts.events import repeating, root_of
from contracts.lifecycle import ClosureEvent, hash_author
from contracts.topics import CLOSURES
from models.closure_selection import RULE_NO_MODEL, RULE_PLACED
from models.themes.asker_decisions import closed_key
from models.themes.effects import Effects
from tests.unit.test_theme_commands import DIM, TOPICS, vector
from tests.unit.test_themes_service import SERVICE, T0, command_record, detected, outcome_of, seeded, themes


class DirectionEmbedder:
    """Texts that mention one of ``directions``' words point along that axis; others along the last."""

    dim = DIM

    def __init__(self, directions: dict[str, int]) -> None:
        self.directions = directions
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            axis = next((a for word, a in self.directions.items() if word in text.lower()), DIM - 1)
            out[row, axis] = 1.0
        return out


def closure_of(effects: object) -> ClosureEvent:
    (emit,) = effects.emits(CLOSURES)  # type: ignore[attr-defined]
    assert isinstance(emit.value, ClosureEvent)
    return emit.value


def ship(
    dark: str, *, released: str | None, title: str = "Dark mode", note: str | None = None,
    command_id: str = "cmd-ship",
) -> object:
    release: dict[str, object] = {"name": "Acme", "version": "2.4.0"}
    if released:
        release["date"] = released
    if note:
        release["note"] = note
    return command_record(command_id, dark, "set_status", status="shipped", title=title, release=release)


def test_asks_made_after_the_release_stay_out_of_the_thanks_and_are_counted() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    for n in (20, 21):  # two more people ask for dark mode two days after the release
        late_ask = detected(n, 0, f"late{n}", at=T0 + timedelta(days=2))
        broker.apply(SERVICE.suggestion(tables, late_ask, now=T0))
    late = {f"c{n}" for n in (20, 21)}

    effects = SERVICE.command(tables, ship(dark, released=T0.date().isoformat()), now=T0 + timedelta(days=3))

    closure = closure_of(effects)
    thanked = {c.comment_id for person in closure.people for c in person.comments}
    assert thanked and not thanked & late
    assert closure.people_count == 4 and closure.asked_after_shipping == 2
    assert closure.thanked_asks == 6 and closure.held_asks == closure.left_out_asks == 0
    assert closure.asked_by is not None and all(c.asked_at <= closure.asked_by for p in closure.people
                                                for c in p.comments)
    assert {a.comment_id for a in closure.judged} == thanked  # later asks are counted, not listed
    assert all(a.rule == RULE_NO_MODEL for a in closure.judged)  # this service has no model
    (post,) = closure.public_posts  # the post thanks only the thanked
    assert len(post.mentioned_handles) == 4 and "@late" not in post.text


def test_without_a_release_date_the_ship_command_is_the_cut_off() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    broker.apply(SERVICE.suggestion(tables, detected(20, 0, "late", at=T0 + timedelta(days=4)), now=T0))

    closure = closure_of(SERVICE.command(tables, ship(dark, released=None), now=T0 + timedelta(days=3)))

    assert closure.asked_by == T0 + timedelta(days=3)
    assert closure.asked_after_shipping == 1 and closure.people_count == 4


def test_asks_for_what_shipped_are_thanked_and_a_release_of_something_else_thanks_nobody() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    model = DirectionEmbedder({"dark": 0, "export": 1})
    service = replace(SERVICE, embedder=model)
    assert TOPICS[0].startswith("dark")

    closure = closure_of(service.command(
        tables, ship(dark, released=T0.date().isoformat(), note="Dark mode is here for every screen."),
        now=T0 + timedelta(days=3),
    ))
    assert closure.people_count == 4 and closure.thanked_asks == 6
    assert all(a.verdict == "thanked" and a.release_similarity is not None for a in closure.judged)
    assert "Dark mode" in closure.selection_rule

    tables, _ = seeded()
    dark, _ = themes(tables)
    elsewhere = closure_of(service.command(
        tables, ship(dark, released=T0.date().isoformat(), title="Export to CSV", note="Export is here."),
        now=T0 + timedelta(days=3),
    ))
    assert elsewhere.people_count == 0 and elsewhere.left_out_asks == 6
    assert elsewhere.public_posts == [] and elsewhere.replies == []


def test_the_release_s_other_changes_are_contrasted_and_take_nobody_who_asked_for_this_one() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))

    closure = closure_of(service.command(
        tables, ship(dark, released=T0.date().isoformat(),
                     note="Dark mode is here for every screen. Export your lists to a sheet."),
        now=T0 + timedelta(days=3),
    ))

    assert closure.thanked_asks == 6 and closure.people_count == 4
    assert "1 other note lines" in closure.selection_rule
    assert "another theme's centre" in closure.selection_rule


def test_the_texts_say_what_shipped_for_the_theme_not_the_whole_release() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))
    note = "Dark mode is here for every screen. Export your lists to a sheet."
    excluded = hash_author("x", "user03")
    broker.apply(service.command(tables, command_record("cmd-ex", dark, "exclude_asker", author_hash=excluded,
                                                        reason="read it"), now=T0 + timedelta(days=2)))

    effects = service.command(tables, ship(dark, released=T0.date().isoformat(), note=note),
                              now=T0 + timedelta(days=3))
    broker.apply(effects)
    closure = closure_of(effects)

    assert closure.release is not None and closure.release.note == note  # the event keeps the whole note
    (post,) = closure.public_posts
    assert "Dark mode is here for every screen." in post.text
    assert not any("Export" in text for text in [post.text, *(reply.text for reply in closure.replies)])

    # a person a product manager includes after shipping hears the same
    assert tables.state(closed_key(dark))["note"] == "Dark mode is here for every screen."
    effects = service.command(tables, command_record("cmd-in", dark, "include_asker", author_hash=excluded,
                                                     reason="read it"), now=T0 + timedelta(days=4))
    follow_up = closure_of(effects)
    assert follow_up.follow_up_of == closure.closure_key and follow_up.replies
    assert not any("Export" in reply.text for reply in follow_up.replies)


def test_a_note_line_that_is_the_title_is_not_said_twice() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))

    closure = closure_of(service.command(
        tables, ship(dark, released=T0.date().isoformat(), title="Dark mode for every screen",
                     note="Dark mode for every screen. Export your lists to a sheet."),
        now=T0 + timedelta(days=3),
    ))

    for post in closure.public_posts:
        assert post.text.count("Dark mode for every screen") == 1 and "Export" not in post.text


def test_an_ask_a_product_manager_placed_in_the_theme_is_thanked_whatever_its_cosines() -> None:
    tables, broker = seeded()
    dark, export = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))
    stray = next(m.suggestion_id for m in tables.work("acme").themes.themes[export].sample)
    place = command_record("cmd-place", dark, "place", suggestion_id=stray, reason="a dark export")
    placed = service.command(tables, place, now=T0 + timedelta(days=2))
    broker.apply(placed)
    assert tables.work("acme").themes.themes[dark].pinned == {stray}

    closure = closure_of(service.command(
        tables, ship(dark, released=T0.date().isoformat(), note="Dark mode is here for every screen."),
        now=T0 + timedelta(days=3),
    ))

    verdicts = {a.suggestion_id: (a.verdict, a.rule) for a in closure.judged}
    # its words point elsewhere: the rules alone would leave it out
    assert verdicts[stray] == ("thanked", RULE_PLACED)
    assert closure.thanked_asks == 7 and closure.left_out_asks == 0


def test_an_ask_placed_in_a_theme_after_it_shipped_is_thanked_once_by_a_follow_up() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))
    asks = []
    for n, at in ((30, T0 + timedelta(hours=1)), (31, T0 + timedelta(hours=2)), (32, T0 + timedelta(days=2))):
        ask = detected(n, 1, "walker" if n < 32 else "latecomer", at=at)
        ask = ask.model_copy(update={"embedding": [float(x) for x in vector(n - 28, n)]})  # each alone
        broker.apply(service.suggestion(tables, ask, now=at))
        asks.append(ask.suggestion_id)
    assert all(tables.work("acme").themes.locate(sid) == "pool" for sid in asks)
    shipped = service.command(tables, ship(dark, released=T0.date().isoformat(), note="Dark mode is here."),
                              now=T0 + timedelta(days=3))
    broker.apply(shipped)
    first = closure_of(shipped)

    def place(n: int, sid: str) -> Effects:
        effects = service.command(tables, command_record(f"cmd-place-{n}", dark, "place", suggestion_id=sid),
                                  now=T0 + timedelta(days=4))
        broker.apply(effects)
        return effects

    effects = place(1, asks[0])
    follow_up = closure_of(effects)
    walker = hash_author("x", "walker")
    assert follow_up.closure_key == f"{first.closure_key}:+{walker}"
    assert follow_up.follow_up_of == first.closure_key
    assert [(a.suggestion_id, a.rule) for a in follow_up.judged] == [(asks[0], RULE_PLACED)]
    assert follow_up.public_posts == [] and len(follow_up.replies) == 1 and follow_up.people_count == 1
    outcome = outcome_of(effects)
    assert outcome.accepted and outcome.closure_key == follow_up.closure_key
    assert walker in tables.state(closed_key(dark))["thanked"]

    again = place(2, asks[1])  # the same person, another ask: they hear once
    assert again.emits(CLOSURES) == [] and "already" in (outcome_of(again).message or "")
    late = place(3, asks[2])  # asked after the release: never thanked for it
    assert late.emits(CLOSURES) == [] and "after the change shipped" in (outcome_of(late).message or "")


def test_a_repeat_goes_with_the_ask_it_repeats_when_a_product_manager_places_that_ask() -> None:
    tables, broker = seeded()
    dark, export = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))
    stray = next(m for m in tables.work("acme").themes.themes[export].sample)
    original = tables.member(stray.suggestion_id)
    assert original is not None
    # another person repeats the stray word for word while it is in "export"
    echo = detected(40, 1, "echo", at=T0 + timedelta(hours=2))
    echo = echo.model_copy(update={
        "comment": echo.comment.model_copy(update={"text": original["text"]}),
        "ask": echo.ask.model_copy(update={"text": original["text"], "end": len(original["text"])}),
        "embedding": [float(x) for x in stray.vector],
    })
    broker.apply(service.suggestion(tables, echo, now=T0 + timedelta(days=1, hours=1)))
    record = tables.member(echo.suggestion_id)
    assert record is not None and record["duplicate_kind"] == "exact"
    assert record["duplicate_of"] == stray.suggestion_id and record["theme_id"] == export

    broker.apply(service.command(
        tables, command_record("cmd-place", dark, "place", suggestion_id=stray.suggestion_id),
        now=T0 + timedelta(days=2),
    ))
    echo_hash = hash_author("x", "echo")
    exact = tables.work("acme").themes.themes[dark].authors.exact
    assert exact is not None and echo_hash in exact

    released = T0.date().isoformat()
    left = closure_of(service.command(
        tables, ship(export, released=released, title="Export", command_id="cmd-ship-export"),
        now=T0 + timedelta(days=3),
    ))
    assert echo.suggestion_id not in {a.suggestion_id for a in left.judged}
    assert "echo" not in {r.author_id for r in left.replies}
    placed = closure_of(service.command(tables, ship(dark, released=released, command_id="cmd-ship-dark"),
                                        now=T0 + timedelta(days=3)))
    assert "echo" in {r.author_id for r in placed.replies}


def test_an_ask_placed_after_shipping_brings_its_repeats_into_the_follow_up() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    service = replace(SERVICE, embedder=DirectionEmbedder({"dark": 0, "export": 1}))
    ask = detected(30, 1, "walker", at=T0 + timedelta(hours=1))
    ask = ask.model_copy(update={"embedding": [float(x) for x in vector(2, 30)]})  # alone
    echo = detected(31, 1, "echo", at=T0 + timedelta(hours=2))
    echo = echo.model_copy(update={"comment": echo.comment.model_copy(update={"text": ask.comment.text}),
                                   "ask": ask.ask, "embedding": ask.embedding})
    late = detected(32, 1, "latecomer", at=T0 + timedelta(days=2))  # repeats it after the release
    late = late.model_copy(update={"comment": late.comment.model_copy(update={"text": ask.comment.text}),
                                   "ask": ask.ask, "embedding": ask.embedding})
    for one in (ask, echo, late):
        broker.apply(service.suggestion(tables, one, now=one.comment.created_at))
    assert tables.member(echo.suggestion_id)["duplicate_kind"] == "exact"  # type: ignore[index]
    assert tables.work("acme").themes.locate(ask.suggestion_id) == "pool"
    shipped = service.command(tables, ship(dark, released=T0.date().isoformat(), note="Dark mode is here."),
                              now=T0 + timedelta(days=3))
    broker.apply(shipped)
    first = closure_of(shipped)

    effects = service.command(
        tables, command_record("cmd-place", dark, "place", suggestion_id=ask.suggestion_id),
        now=T0 + timedelta(days=4),
    )
    follow_up = closure_of(effects)
    walker, echoed = hash_author("x", "walker"), hash_author("x", "echo")
    assert follow_up.closure_key == f"{first.closure_key}:+{walker}"
    assert [(a.suggestion_id, a.rule) for a in follow_up.judged] == [
        (ask.suggestion_id, RULE_PLACED), (echo.suggestion_id, RULE_PLACED)
    ]
    assert follow_up.people_count == 2 and len(follow_up.replies) == 2 and follow_up.public_posts == []
    broker.apply(effects)
    assert {walker, echoed} <= set(tables.state(closed_key(dark))["thanked"])
    assert hash_author("x", "latecomer") not in tables.state(closed_key(dark))["thanked"]


def test_repeats_are_followed_through_repeats_of_repeats_and_a_circle_has_no_root() -> None:
    followers = {"r1": "a", "r2": "r1", "r3": "b", "c1": "c2", "c2": "c1"}
    assert repeating(followers, ["a"]) == {"r1", "r2"}
    assert repeating(followers, ["r1"]) == {"r2"}
    assert root_of(followers, "r2") == "a" and root_of(followers, "r3") == "b"
    assert root_of(followers, "c1") is None
