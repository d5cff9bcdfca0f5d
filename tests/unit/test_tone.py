"""How an ask was made (urgency, store rating, engagement) reaches its theme's impact score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.events import (
    CommentAccepted,
    Engagement,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
)
from contracts.lifecycle import hash_author
from contracts.topics import THEME_MEMBERS, THEMES
from models.closure import load_templates
from models.themes.effects import Effects
from models.themes.service import ThemesService
from models.tone import NO_TONE, Tone, is_urgent
from tests.fakes import MemoryThemeTables, whole_ask
from tests.unit.test_theme_commands import DIM, ENGINE, TOPICS, vector
from tests.unit.test_themes_service import command_record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SERVICE = ThemesService(engine=ENGINE, templates=load_templates())


@pytest.mark.parametrize(
    "text",
    [
        "Offline maps please, ASAP: I lose signal on every ridge.",
        "Please add GPX export as soon as possible.",
        "We desperately need a dark mode for night hikes.",
        "No offline maps is a deal-breaker for backcountry trips.",
        "Uninstalling until you add elevation profiles.",
        "I'll probably stop using Trailmate if the maps stay online-only.",
        "Switching to another app that has offline maps.",
        "Cancelled my subscription. Add trail conditions and I'll be back.",
        "Needs a GPX export. Until then 2 stars.",
        "One star until you fix the map sync.",
    ],
)
def test_words_of_urgency_or_leaving_make_an_ask_urgent(text: str) -> None:
    assert is_urgent(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please add offline maps.",
        "Would love a dark mode, the app is great otherwise!",
        "I uninstalled and reinstalled but the map still shows no offline option, please add one.",
        "Deleted the app and redownloaded it, still no GPX export.",
        "Let me switch to another map layer while recording.",
        "Stop using miles on the Swiss trails, kilometres please.",
        "It would be nice to have an urgency-free summary of the hike.",
    ],
)
def test_plain_asks_and_troubleshooting_are_not_urgent(text: str) -> None:
    assert not is_urgent(text)


def test_a_tone_counts_ratings_and_never_goes_below_zero() -> None:
    assert Tone.of("Add offline maps", None) == Tone(urgent=0, rated=0, negative=0)
    assert Tone.of("Add offline maps asap", 2) == Tone(urgent=1, rated=1, negative=1)
    assert Tone.of("Add offline maps", 3) == Tone(urgent=0, rated=1, negative=0)
    total = Tone.of("x", 1) + Tone.of("y", 5) + Tone.of("z", None)
    assert total == Tone(urgent=0, rated=2, negative=1) and total.negative_share == 0.5
    assert NO_TONE.negative_share is None  # no rating: the tone is unknown, not neutral
    assert total - Tone(urgent=3, rated=1, negative=1) == Tone(urgent=0, rated=1, negative=0)
    assert Tone.from_dict(total.to_dict()) == total
    assert Tone.from_dict(None) == NO_TONE and NO_TONE.to_dict() == {}


def detected(n: int, center: int, *, text: str, rating: int | None, likes: int | None) -> SuggestionDetected:
    at = T0 + timedelta(minutes=n)
    comment = CommentAccepted(
        comment_id=f"c{n}", platform="app_store", product="acme", author_id=f"user{n}", text=text,
        created_at=at, rating=rating, engagement=Engagement(likes=likes) if likes is not None else None,
        key=f"app_store:c{n}", received_at=at,
        source=SourceRef(topic="feedback.comments", partition=0, offset=n),
    )
    return SuggestionDetected(
        suggestion_id=f"{comment.key}#1", comment=comment, ask=whole_ask(text), score=0.9,
        embedding=[float(x) for x in vector(center, n)], embedding_model="test", detected_at=at,
    )


def factors(snapshot: ThemeChanged) -> dict[str, float]:
    assert snapshot.score is not None
    return {f.name: f.raw for f in snapshot.score.factors}


def test_the_stream_counts_urgency_ratings_and_engagement_into_the_theme_s_score() -> None:
    tables = MemoryThemeTables(dim=DIM)
    sent = []
    # six reviews of one idea: two urgent, four rated (three of them 1-2 stars), 7 likes in all
    reviews = [
        (f"{TOPICS[0]}, asap please", 1, 3), (f"{TOPICS[0]} would be lovely", 5, None),
        (f"{TOPICS[0]}: uninstalling until then", 2, 4), (f"{TOPICS[0]} for my eyes", None, None),
        (f"add {TOPICS[0]}", 2, None), (f"{TOPICS[0]} someday", None, 0),
    ]
    for n, (text, rating, likes) in enumerate(reviews):
        effects = SERVICE.suggestion(tables, detected(n, 0, text=text, rating=rating, likes=likes), now=T0)
        sent.extend(effects.emits(THEME_MEMBERS))
        tables_apply(tables, effects)
    assert [m.value.rating for m in sent if isinstance(m.value, SuggestionThemed)] == [1, 5, 2, None, 2, None]

    effects = SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=1))
    (snapshot,) = [e.value for e in effects.emits(THEMES) if isinstance(e.value, ThemeChanged)]

    raw = factors(snapshot)
    assert raw["urgency"] == pytest.approx(2 / 6)
    assert raw["negative_tone"] == pytest.approx(3 / 4)
    assert raw["engagement"] == 7
    assert snapshot.score is not None
    notes = {f.name: f.note for f in snapshot.score.factors}
    assert notes["negative_tone"] == "3 of 4 rated mentions at 1 or 2 stars"
    assert "negative_share unknown" not in (snapshot.score.notes if snapshot.score else [])


def test_a_theme_without_ratings_has_an_unknown_tone_and_no_urgency_from_plain_asks() -> None:
    tables = MemoryThemeTables(dim=DIM)
    for n in range(6):
        effects = SERVICE.suggestion(
            tables, detected(n, 1, text=f"{TOPICS[1]} please, take {n}", rating=None, likes=None), now=T0
        )
        tables_apply(tables, effects)
    effects = SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=1))
    (snapshot,) = [e.value for e in effects.emits(THEMES) if isinstance(e.value, ThemeChanged)]

    raw = factors(snapshot)
    assert raw["urgency"] == 0 and raw["negative_tone"] == 0 and raw["engagement"] == 0
    assert snapshot.score is not None and "negative_share unknown" in snapshot.score.notes


def tables_apply(tables: MemoryThemeTables, effects: Effects) -> None:
    for write in effects.writes():
        tables.apply(write)


def test_an_erased_person_takes_the_tone_of_their_ask_out_of_the_theme() -> None:
    tables = MemoryThemeTables(dim=DIM)
    reviews = [(f"{TOPICS[0]} asap or I'm uninstalling", 1)]
    reviews += [(f"{TOPICS[0]}, take {n}", 5) for n in range(1, 6)]
    for n, (text, rating) in enumerate(reviews):
        review = detected(n, 0, text=text, rating=rating, likes=None)
        tables_apply(tables, SERVICE.suggestion(tables, review, now=T0))
    tables_apply(tables, SERVICE.tick(tables, "acme", idle=True, now=T0 + timedelta(days=1)))
    (theme,) = tables.work("acme").themes.themes.values()
    assert theme.tone == Tone(urgent=1, rated=6, negative=1)

    erased = SERVICE.command(
        tables, command_record("c-e", "any", "erase_author", author_hash=hash_author("app_store", "user0")),
        now=T0 + timedelta(days=2),
    )
    tables_apply(tables, erased)

    (theme,) = tables.work("acme").themes.themes.values()
    assert theme.tone == Tone(urgent=0, rated=5, negative=0)
    snapshots = [e.value for e in erased.emits(THEMES) if isinstance(e.value, ThemeChanged)]
    assert snapshots
    assert factors(snapshots[-1])["urgency"] == 0 and factors(snapshots[-1])["negative_tone"] == 0
