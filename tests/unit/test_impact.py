"""The impact of what shipped: event-time weeks, praise, and the impact service without a broker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import CommentAccepted, CommentClassified, SourceRef, SuggestionDetected, Verdict
from contracts.impact import ClosureImpact, PraiseDetected
from contracts.lifecycle import ClosureEvent, hash_author
from contracts.topics import CLOSURE_IMPACT, CLOSURES
from models.impact import (
    WEEK,
    Ask,
    Praise,
    is_praise,
    week_after,
    week_figures,
    weeks_ended,
)
from models.themes.effects import Effects, Emit
from models.themes.impact_effects import ImpactService
from tests.fakes import MemoryThemeTables
from tests.unit.test_theme_commands import DIM, vector
from tests.unit.test_themes_service import SERVICE, Record, command_record, detected
from tests.unit.test_themes_service import Broker as ServiceBroker

CUT = datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC)
IMPACT = ImpactService()


# -- weeks and figures -------------------------------------------------------------------------


def test_weeks_after_shipping_are_event_time_weeks_of_seven_days() -> None:
    assert week_after(CUT, CUT) is None
    assert week_after(CUT + timedelta(seconds=1), CUT) == 1
    assert week_after(CUT + WEEK, CUT) == 1
    assert week_after(CUT + WEEK + timedelta(seconds=1), CUT) == 2
    assert week_after(CUT + 12 * WEEK, CUT) == 12
    assert week_after(CUT + 12 * WEEK + timedelta(seconds=1), CUT) is None
    assert weeks_ended(CUT, None) == 0
    assert weeks_ended(CUT, CUT + WEEK) == 0  # nothing after the end of week 1 seen yet
    assert weeks_ended(CUT, CUT + WEEK + timedelta(seconds=1)) == 1
    assert weeks_ended(CUT, CUT + 40 * WEEK) == 12


def test_asking_that_stops_after_shipping_is_a_change_of_minus_one() -> None:
    asks = [Ask(CUT - timedelta(days=d), f"p{d % 5}") for d in range(1, 28, 2)]  # 14 asks in 4 weeks
    figures = week_figures(asks, [], cutoff=CUT, week=3)
    assert (figures.weeks_before, figures.asks_before, figures.people_before) == (4, 14, 5)
    assert figures.asks_before_per_week == 3.5
    assert (figures.asks_after, figures.asks_after_per_week, figures.change) == (0, 0.0, -1.0)


def test_after_figures_count_the_week_and_the_weeks_so_far() -> None:
    asks = [
        Ask(CUT - 27 * WEEK, "old"),  # older than the 26 weeks before: not counted
        *(Ask(CUT - timedelta(days=d), "p") for d in range(1, 85, 7)),  # 12 asks over 12 weeks
        Ask(CUT + timedelta(days=2), "a"),
        Ask(CUT + timedelta(days=3), "a"),
        Ask(CUT + timedelta(days=9), "b"),
    ]
    praise = [Praise(CUT + timedelta(days=1), "p", True), Praise(CUT + timedelta(days=10), "q", False)]
    week1 = week_figures(asks, praise, cutoff=CUT, week=1)
    week2 = week_figures(asks, praise, cutoff=CUT, week=2)
    assert (week1.weeks_before, week1.asks_before, week1.asks_before_per_week) == (12, 12, 1.0)
    assert (week1.asks_in_week, week1.people_in_week, week1.asks_after, week1.change) == (2, 1, 2, 1.0)
    assert (week2.asks_in_week, week2.asks_after, week2.people_after) == (1, 3, 2)
    assert week2.asks_after_per_week == 1.5
    assert (week1.follow_up_praise, week1.praising_askers, week1.praise_in_week) == (1, 1, 1)
    assert (week2.follow_up_praise, week2.praising_askers, week2.praising_people) == (2, 1, 2)
    with pytest.raises(ValueError):
        week_figures(asks, praise, cutoff=CUT, week=13)


def test_asks_before_are_averaged_over_the_weeks_the_theme_was_asked_for_up_to_26() -> None:
    young = [Ask(CUT - timedelta(days=3), "a"), Ask(CUT - timedelta(days=1), "b")]
    assert week_figures(young, [], cutoff=CUT, week=1).asks_before_per_week == 2.0  # one week observed
    sparse = [Ask(CUT - 20 * WEEK, "a"), Ask(CUT - timedelta(days=1), "b")]
    figures = week_figures(sparse, [], cutoff=CUT, week=1)
    assert (figures.weeks_before, figures.asks_before, figures.asks_before_per_week) == (20, 2, 0.1)
    weekly = [Ask(CUT - 40 * WEEK, "a"), *(Ask(CUT - d * WEEK, "b") for d in range(27))]
    figures = week_figures(weekly, [], cutoff=CUT, week=1)
    # the ask at the cut-off counts as before; the one exactly 26 weeks back is out, as is the older one
    assert (figures.weeks_before, figures.asks_before) == (25, 26)


def test_no_asks_before_gives_no_change() -> None:
    figures = week_figures([Ask(CUT + timedelta(hours=1), "a")], [], cutoff=CUT, week=1)
    assert figures.asks_before_per_week == 0.0 and figures.change is None


def classified(text: str, *, rating: int | None, verdict: Verdict = Verdict.NOT_SUGGESTION,
               reason: str = "classifier") -> CommentClassified:
    return CommentClassified(
        key="x:1", comment=comment(1, "ana", CUT, text=text, rating=rating), verdict=verdict, reason=reason,
        threshold=0.5, classifier_version="t", classified_at=CUT,
    )


def test_praise_is_a_positive_comment_that_is_not_an_ask() -> None:
    assert is_praise(classified("ok", rating=5))
    assert not is_praise(classified("ok", rating=3))
    assert is_praise(classified("Love the new dark mode, thank you!", rating=None))
    assert not is_praise(classified("I love it but it crashes", rating=None))
    assert not is_praise(classified("great, please add csv", rating=None))
    assert not is_praise(classified("great", rating=5, verdict=Verdict.SUGGESTION))
    assert not is_praise(classified("great", rating=5, verdict=Verdict.MODERATED, reason="promo_spam"))
    assert not is_praise(classified("great", rating=5, reason="no_units"))
    assert is_praise(classified("Love the new dark mode", rating=None, reason="praise"))  # plain praise


# -- the service -------------------------------------------------------------------------------


def comment(n: int, author: str, at: datetime, *, text: str = "it works", rating: int | None = None
            ) -> CommentAccepted:
    return CommentAccepted(
        comment_id=f"p{n}", platform="x", product="acme", author_id=author, text=text, created_at=at,
        key=f"x:p{n}", received_at=at, rating=rating,
        source=SourceRef(topic="feedback.comments", partition=0, offset=n),
    )


def praise(n: int, author: str, at: datetime, center: int) -> PraiseDetected:
    return PraiseDetected(
        comment=comment(n, author, at), embedding=[float(x) for x in vector(center, 500 + n)],
        embedding_model="test", detected_at=at,
    )


class Broker(ServiceBroker):
    """The agent's effect sink in memory (publish-once records by ledger key), and the impacts."""

    def impacts(self) -> dict[str, ClosureImpact]:
        """The latest record of each key of the compacted topic."""
        latest: dict[str, ClosureImpact] = {}
        for emit in self.sent:
            if emit.topic.name == CLOSURE_IMPACT.name:
                assert isinstance(emit.value, ClosureImpact) and emit.once and emit.partition == 3
                latest[emit.key] = emit.value
        return latest


def suggest(broker: Broker, item: SuggestionDetected) -> None:
    tables = broker.tables
    effects = SERVICE.suggestion(tables, item, now=CUT)
    after = IMPACT.after_suggestion(tables, item, effects, partition=3, now=CUT)
    broker.apply(effects)
    broker.apply(after)


def command(broker: Broker, record: Record) -> Effects:
    effects = IMPACT.after_command(
        broker.tables, record, SERVICE.command(broker.tables, record, now=CUT), partition=3, now=CUT
    )
    broker.apply(effects)
    return effects


def shipped() -> tuple[Broker, str, str]:
    """Theme A (dark mode) asked 3 times a week by 4 people for 4 weeks, theme B (csv) by others;
    A ships on CUT's day; returns the broker, A's id and the closure id.
    """
    tables = MemoryThemeTables(dim=DIM)
    broker = Broker(tables)
    start = CUT - 4 * WEEK + timedelta(hours=1)
    for n in range(12):
        suggest(broker, detected(n, 0, f"a{n % 4}", at=start + n * timedelta(days=2, hours=8)))
        suggest(broker, detected(100 + n, 1, f"b{n % 4}", at=start + n * timedelta(days=2, hours=8)))
    broker.apply(SERVICE.tick(tables, "acme", idle=True, now=CUT))
    live = tables.work("acme").themes.themes
    theme_a = next(tid for tid, rec in live.items() if any(m.text.startswith("dark") for m in rec.sample))
    release = {"name": "Acme 2", "version": "2.0", "date": CUT.date().isoformat()}
    effects = command(broker, command_record("c1", theme_a, "set_status", status="shipped", release=release))
    (closure,) = [e.value for e in effects.emits(CLOSURES)]
    assert isinstance(closure, ClosureEvent)
    return broker, theme_a, closure.closure_id


def test_a_closure_where_asking_stops_after_shipping() -> None:
    broker, theme_a, closure_id = shipped()
    at = CUT + timedelta(days=1)
    suggest(broker, detected(200, 0, "late", at=at))  # one more ask of A in week 1
    broker.apply(IMPACT.praise(broker.tables, praise(1, "a1", at, center=1), partition=3, now=CUT))  # asker
    broker.apply(IMPACT.praise(broker.tables, praise(2, "zoe", at, center=0), partition=3, now=CUT))  # near A
    broker.apply(IMPACT.praise(broker.tables, praise(3, "bob", at, center=1), partition=3, now=CUT))  # near B
    assert broker.impacts() == {}  # week 1 has not ended yet
    for n in range(1, 5):  # only B is asked for afterwards; its asks move event time on
        suggest(broker, detected(300 + n, 1, f"b{n}", at=CUT + n * WEEK + timedelta(hours=2)))
    impacts = broker.impacts()
    assert sorted(impacts) == [f"{closure_id}:{week}" for week in (1, 2, 3, 4)]
    week1, week4 = impacts[f"{closure_id}:1"], impacts[f"{closure_id}:4"]
    assert week1.theme_id == theme_a and week1.release is not None and week1.release.version == "2.0"
    assert (week1.asks_before, week1.people_before, week1.weeks_before) == (12, 4, 4)
    assert week1.asks_before_per_week == 3.0
    assert (week1.asks_in_week, week1.asks_after) == (1, 1)
    assert (week1.follow_up_praise, week1.praising_askers) == (2, 1)
    assert (week4.asks_in_week, week4.asks_after, week4.asks_after_per_week) == (0, 1, 0.25)
    assert week4.change == -0.9167
    assert week4.praising_people == 2 and week4.version == 1
    assert week1.week_end == CUT + WEEK and week1.shipped_at == CUT


def test_a_late_ask_publishes_its_week_again_in_a_new_version_and_redelivery_adds_nothing() -> None:
    broker, _, closure_id = shipped()
    for n in range(1, 4):
        suggest(broker, detected(300 + n, 1, f"b{n}", at=CUT + n * WEEK + timedelta(hours=2)))
    assert broker.impacts()[f"{closure_id}:2"].asks_in_week == 0
    late = detected(400, 0, "late", at=CUT + WEEK + timedelta(days=1))
    suggest(broker, late)
    week2 = broker.impacts()[f"{closure_id}:2"]
    assert (week2.version, week2.asks_in_week, week2.asks_after) == (2, 1, 1)
    assert broker.impacts()[f"{closure_id}:1"].version == 1  # week 1 did not change
    count = len(broker.sent)
    suggest(broker, late)  # delivered again: passed over, nothing new
    broker.apply(IMPACT.after_tick(broker.tables, "acme", Effects([]), partition=3, now=CUT))
    assert len(broker.sent) == count


def test_a_redelivered_ship_command_follows_the_closure_once() -> None:
    broker, theme_a, closure_id = shipped()
    release = {"name": "Acme 2", "version": "2.0", "date": CUT.date().isoformat()}
    record = command_record("c1", theme_a, "set_status", status="shipped", release=release)
    state = json.dumps(broker.tables.impact("acme"), sort_keys=True)
    command(broker, record)
    assert json.dumps(broker.tables.impact("acme"), sort_keys=True) == state
    assert list(broker.tables.impact("acme")["closures"]) == [closure_id]  # type: ignore[index]


def test_a_follow_up_closure_is_not_followed_as_a_change_of_its_own() -> None:
    broker, theme_a, closure_id = shipped()
    first = next(e.value for e in broker.sent if e.topic.name == CLOSURES.name)
    assert isinstance(first, ClosureEvent)
    key = f"{closure_id}:follow-up:someone"
    follow_up = first.model_copy(update={"closure_key": key, "closure_id": key, "follow_up_of": closure_id})
    effects = Effects([Emit(CLOSURES, key, follow_up, partition=3, once=True)])
    record = command_record("c9", theme_a, "set_status", status="planned")
    assert IMPACT.after_command(broker.tables, record, effects, partition=3, now=CUT) is effects
    assert list(broker.tables.impact("acme")["closures"]) == [closure_id]  # type: ignore[index]


def test_praise_before_anything_shipped_or_after_twelve_weeks_is_not_kept() -> None:
    tables = MemoryThemeTables(dim=DIM)
    assert IMPACT.praise(tables, praise(1, "a", CUT, center=0), partition=3, now=CUT).passed_over
    broker, _, _ = shipped()
    effects = IMPACT.praise(broker.tables, praise(2, "a1", CUT + 13 * WEEK, center=0), partition=3, now=CUT)
    broker.apply(effects)
    closures: dict[str, Any] = broker.tables.impact("acme")["closures"]  # type: ignore[index]
    assert all(not closure["praise"] for closure in closures.values())


class WordsEmbedder:
    """An embedder that places a text by its first word ("dark" near theme A, "csv" near theme B)
    and counts the texts it embeds."""

    dim = DIM

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        rows = [vector(0 if text.startswith("dark") else 1, 502) for text in texts]
        return np.stack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)


def bare_praise(n: int, author: str, at: datetime, text: str) -> PraiseDetected:
    """Praise as the classify stage sends it since version 2: no embedding."""
    return PraiseDetected(comment=comment(n, author, at, text=text), detected_at=at)


def test_praise_without_a_vector_is_embedded_only_when_the_neighbourhood_decides() -> None:
    model = WordsEmbedder()
    impact = ImpactService(embedder=model)
    at = CUT + timedelta(days=1)
    assert impact.praise(MemoryThemeTables(dim=DIM), bare_praise(1, "zoe", at, "dark and lovely"),
                         partition=3, now=CUT).passed_over  # nothing of the product shipped
    broker, _, closure_id = shipped()
    broker.apply(impact.praise(broker.tables, bare_praise(2, "a1", at, "csv is nice"), partition=3, now=CUT))
    assert model.texts == []  # an asker's praise follows the closure whatever it says
    broker.apply(impact.praise(broker.tables, bare_praise(3, "zoe", CUT + 13 * WEEK, "dark"), partition=3,
                               now=CUT))
    assert model.texts == []  # after the twelve weeks: nothing to decide
    broker.apply(impact.praise(broker.tables, bare_praise(4, "zoe", at, "dark mode, finally"), partition=3,
                               now=CUT))
    broker.apply(impact.praise(broker.tables, bare_praise(5, "bob", at, "csv export works"), partition=3,
                               now=CUT))
    assert model.texts == ["dark mode, finally", "csv export works"]  # each embedded once, by its words
    kept = broker.tables.impact("acme")["closures"][closure_id]["praise"]  # type: ignore[index]
    assert sorted(kept) == ["x:p2", "x:p4"]  # the asker, and the stranger near the shipped theme
    without_model = ImpactService()
    broker.apply(without_model.praise(broker.tables, bare_praise(6, "eve", at, "dark"), partition=3, now=CUT))
    assert "x:p6" not in broker.tables.impact("acme")["closures"][closure_id]["praise"]  # type: ignore[index]


def test_the_classify_stage_s_praise_event_carries_no_vector() -> None:
    event = bare_praise(1, "zoe", CUT, "great")
    assert event.schema_version == 2 and event.embedding is None and event.embedding_model is None
    old = PraiseDetected.model_validate(
        {**event.model_dump(mode="json"), "schema_version": 1, "embedding": [1.0] + [0.0] * (DIM - 1),
         "embedding_model": "test"}
    )
    assert old.schema_version == 1 and old.embedding is not None  # version 1 records are read as before


def test_a_praise_embedding_of_another_size_raises_for_the_dead_letter_path() -> None:
    broker, _, _ = shipped()
    wrong = PraiseDetected(comment=comment(9, "zoe", CUT + timedelta(days=1)), embedding=[1.0, 0.0],
                           embedding_model="test", detected_at=CUT)
    with pytest.raises(ValueError, match="dimensions"):
        IMPACT.praise(broker.tables, wrong, partition=3, now=CUT)


def test_an_erased_person_leaves_the_impact_figures() -> None:
    broker, _, closure_id = shipped()
    at = CUT + timedelta(days=1)
    broker.apply(IMPACT.praise(broker.tables, praise(1, "a1", at, center=1), partition=3, now=CUT))
    suggest(broker, detected(301, 1, "b1", at=CUT + WEEK + timedelta(hours=2)))
    assert broker.impacts()[f"{closure_id}:1"].praising_askers == 1
    erase = command_record("e1", "*", "erase_author", author_hash=hash_author("x", "a1"))
    command(broker, erase)
    week1 = broker.impacts()[f"{closure_id}:1"]
    assert (week1.version, week1.praising_askers, week1.follow_up_praise, week1.asks_before) == (2, 0, 0, 9)
    assert "a1" not in json.dumps(broker.tables.impact("acme"))
    assert hash_author("x", "a1") not in json.dumps(broker.tables.impact("acme"))


def test_release_date_sets_the_cutoff() -> None:
    broker, _, closure_id = shipped()
    state: dict[str, Any] = broker.tables.impact("acme")  # type: ignore[assignment]
    assert datetime.fromisoformat(state["closures"][closure_id]["cutoff"]) == CUT
    assert CUT.date() == date(2026, 3, 2)


# -- the monthly update ------------------------------------------------------------------------


def record(closure_id: str, week: int, *, version: int = 1, shipped: datetime = CUT, rate: float = 0.5
           ) -> ClosureImpact:
    return ClosureImpact(
        closure_id=closure_id, product="acme", theme_id="t1", title=f"Change {closure_id}",
        shipped_at=shipped,
        week=week, week_start=shipped + (week - 1) * WEEK, week_end=shipped + week * WEEK, version=version,
        weeks_before=12, asks_before=48, people_before=30, asks_before_per_week=4.0, asks_in_week=0,
        people_in_week=0, asks_after=int(rate * week), people_after=int(rate * week),
        asks_after_per_week=rate,
        change=rate / 4.0 - 1, praise_in_week=0, follow_up_praise=3, praising_askers=2, praising_people=3,
        computed_at=CUT,
    )


def test_the_monthly_update_says_how_asking_changed_after_earlier_releases() -> None:
    from models.closure import load_templates
    from models.impact import impact_sentences
    from models.theme_commands import monthly_update_event

    impacts = [
        record("a", 1), record("a", 2), record("a", 5),
        record("a", 6, rate=1.0), record("a", 6, version=2, rate=0.25),  # week 6 ends on 2026-04-13
        record("a", 9),  # ends in May
        record("b", 1, shipped=datetime(2026, 4, 2, tzinfo=UTC)),  # shipped in the month itself
    ]
    assert impact_sentences(impacts, product="acme", month="2026-03") == []  # "a" shipped in March
    april = impact_sentences(impacts, product="acme", month="2026-04")
    assert april == [
        "“Change a” (shipped 2026-03-02): 4.0 asks a week before, 0.2 in the 6 weeks after (-94%); "
        "3 said it works (2 of those who asked)."
    ]
    assert impact_sentences(impacts, product="other", month="2026-04") == []
    assert "in the 9 weeks after" in impact_sentences(impacts, product="acme", month="2026-05")[0]
    update = monthly_update_event([], product="acme", month="2026-04", templates=load_templates(),
                                  now=CUT, impacts=impacts)
    assert "How the asking changed after what shipped before:" in update.text and april[0] in update.text
    plain = monthly_update_event([], product="acme", month="2026-04", templates=load_templates(), now=CUT)
    assert "asking changed" not in plain.text


@given(
    st.lists(st.tuples(st.integers(-30 * 24, 14 * 7 * 24), st.integers(0, 6)), max_size=60),
    st.lists(st.tuples(st.integers(1, 14 * 7 * 24), st.integers(0, 6), st.booleans()), max_size=20),
)
@settings(max_examples=200, deadline=None)
def test_weekly_figures_add_up(
    asks_at: list[tuple[int, int]], praise_at: list[tuple[int, int, bool]]
) -> None:
    asks = [Ask(CUT + timedelta(hours=h), f"p{who}") for h, who in asks_at]
    praise = [Praise(CUT + timedelta(hours=h), f"p{who}", asker) for h, who, asker in praise_at]
    weeks = [week_figures(asks, praise, cutoff=CUT, week=k) for k in range(1, 13)]
    for k, figures in enumerate(weeks, start=1):
        assert figures.asks_after == sum(w.asks_in_week for w in weeks[:k])
        assert figures.follow_up_praise == sum(w.praise_in_week for w in weeks[:k])
        assert figures.people_in_week <= figures.asks_in_week and figures.people_after <= figures.asks_after
        assert figures.praising_askers <= figures.praising_people <= figures.follow_up_praise
        assert figures.asks_after_per_week == round(figures.asks_after / k, 4)
        assert (figures.change is None) == (figures.asks_before == 0)
    in_weeks = sum(1 for h, _ in asks_at if 0 < h <= 12 * 7 * 24)
    assert weeks[-1].asks_after == in_weeks  # every ask of the 12 weeks is in exactly one week


def test_praise_is_embedded_by_its_opening_words() -> None:
    from contracts.events import CommentFields
    from models.impact import PRAISE_WORDS_EMBEDDED, praise_text

    words = [f"w{i}" for i in range(200)]
    comment = CommentFields.model_construct(text="  ".join(words))
    assert praise_text(comment).split() == words[:PRAISE_WORDS_EMBEDDED]
    short = CommentFields.model_construct(text="Finally dark mode,\nthank you!")
    assert praise_text(short) == "Finally dark mode, thank you!"
