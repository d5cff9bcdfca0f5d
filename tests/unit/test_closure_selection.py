"""Who a closure thanks: the time rule and the relevance bands, on vectors written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from models.closure_selection import (
    RULE_FAR_FROM_RELEASE,
    RULE_FAR_OTHER_CHANGE,
    RULE_MATCHES_RELEASE,
    RULE_MEMBER_OF_WHAT_SHIPPED,
    RULE_OTHER_CHANGE,
    RULE_OTHER_THEME,
    RULE_SOMETHING_ELSE,
    RULE_UNCERTAIN,
    SAME_IDEA,
    ThemeSpread,
    Verdict,
    asked_before,
    embed_what_shipped,
    judge_relevance,
    note_lines,
    shipped_cutoff,
    shipped_texts,
)

SHIPPED = datetime(2026, 5, 20, 15, 0, tzinfo=UTC)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def at_cosine(cosine: float, towards: int = 0, away: int = 1, dim: int = 4) -> np.ndarray:
    """A unit vector whose cosine with axis ``towards`` is ``cosine`` (the rest along ``away``)."""
    v = np.zeros(dim, dtype=np.float32)
    v[towards], v[away] = cosine, np.sqrt(1 - cosine**2)
    return v


def test_a_dated_release_counts_asks_up_to_the_end_of_its_day() -> None:
    cutoff = shipped_cutoff(date(2026, 5, 18), SHIPPED)
    assert asked_before(datetime(2026, 5, 18, 23, 59, tzinfo=UTC), cutoff)
    assert not asked_before(datetime(2026, 5, 19, 0, 0, tzinfo=UTC), cutoff)
    # an ask in another time zone is compared as the moment it is
    assert not asked_before(datetime(2026, 5, 19, 1, 30, tzinfo=UTC) + timedelta(hours=0), cutoff)


def test_an_undated_release_counts_asks_up_to_the_ship_command() -> None:
    cutoff = shipped_cutoff(None, SHIPPED)
    assert asked_before(SHIPPED, cutoff)
    assert not asked_before(SHIPPED + timedelta(seconds=1), cutoff)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        shipped_cutoff(None, SHIPPED.replace(tzinfo=None))
    with pytest.raises(ValueError):
        asked_before(datetime(2026, 5, 1), shipped_cutoff(None, SHIPPED))


def test_note_lines_keep_the_lines_that_can_name_a_change() -> None:
    note = "What's new\n• Dark mode is now available on every screen.\n• Fixes. Export your lists to a sheet."
    assert note_lines(note) == ["Dark mode is now available on every screen", "Export your lists to a sheet"]
    assert note_lines(None) == []
    # a period set apart from its line leaves no trailing space (the line must match the title)
    assert note_lines("View, pin, and manage the pinned chats . New emojis for you") == [
        "View, pin, and manage the pinned chats", "New emojis for you",
    ]


def test_what_shipped_is_the_title_and_the_note_line_closest_to_the_theme() -> None:
    note = "Dark mode is now available on every screen. Export your lists to a sheet."
    lines = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0)]).astype(np.float32)
    assert shipped_texts("“Exports”", note, lines, unit(0, 1, 0, 0)) == [
        "Exports", "Export your lists to a sheet",
    ]
    assert shipped_texts("Dark mode", note, None, unit(0, 1, 0, 0)) == ["Dark mode"]


def test_the_spread_is_the_median_and_lowest_decile_of_members_to_their_centre() -> None:
    members = np.stack([at_cosine(c) for c in (0.9, 0.8, 0.7, 0.6, 0.5)])
    spread = ThemeSpread.of(members, unit(1, 0, 0, 0))
    assert spread.typical == pytest.approx(0.7, abs=1e-6)
    assert spread.low == pytest.approx(0.54, abs=1e-6)
    assert spread.width == pytest.approx(0.16, abs=1e-6) and spread.floor == pytest.approx(0.38, abs=1e-6)
    with pytest.raises(ValueError):
        ThemeSpread.of(np.zeros((0, 4), dtype=np.float32), unit(1, 0, 0, 0))


def with_cosines(release: float, centre: float) -> np.ndarray:
    """A unit vector with cosine ``release`` to axis 0 (what shipped) and ``centre`` to axis 1."""
    return np.asarray([release, centre, np.sqrt(1 - release**2 - centre**2), 0], dtype=np.float32)


def test_asks_are_thanked_held_or_left_out_by_the_themes_own_bands() -> None:
    spread = ThemeSpread(typical=0.6, low=0.5)  # width 0.1, floor 0.4
    asks = np.stack([
        with_cosines(0.6, 0.55),  # belongs near what shipped, and no closer to the theme's centre
        with_cosines(0.45, 0.85),  # far closer to the theme's centre: asked for something else
        with_cosines(0.2, 0.2),  # far from what shipped
        with_cosines(0.5, 0.65),  # near enough, but 0.15 closer to the centre: uncertain
        with_cosines(0.35, 0.35),  # just below the theme's floor: uncertain
    ])
    judged = judge_relevance(suggestion_ids=["a", "b", "c", "d", "e"], ask_vectors=asks,
                             shipped_vectors=np.stack([unit(1, 0, 0, 0)]), centre=unit(0, 1, 0, 0),
                             spread=spread)
    assert [(j.suggestion_id, j.verdict, j.rule) for j in judged] == [
        ("a", Verdict.THANKED, RULE_MATCHES_RELEASE),
        ("b", Verdict.LEFT_OUT, RULE_SOMETHING_ELSE),
        ("c", Verdict.LEFT_OUT, RULE_FAR_FROM_RELEASE),
        ("d", Verdict.HELD, RULE_UNCERTAIN),
        ("e", Verdict.HELD, RULE_UNCERTAIN),
    ]
    assert judged[0].release_similarity == pytest.approx(0.6, abs=1e-3)
    assert judged[1].centre_similarity == pytest.approx(0.85, abs=1e-3)


def test_when_what_shipped_is_what_the_whole_theme_asked_asks_are_judged_against_that() -> None:
    spread = ThemeSpread(typical=0.8, low=0.7)  # width 0.1, floor 0.6
    centre = at_cosine(0.8, towards=0, away=1)  # what shipped (axis 0) sits like a typical member
    core = np.asarray([0.72, 0.66, 0.2, 0.0], dtype=np.float32)  # centre cosine 0.9, release 0.72
    core /= np.linalg.norm(core)
    (judged,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([core]),
                                shipped_vectors=np.stack([unit(1, 0, 0, 0)]), centre=centre, spread=spread)
    # much closer to the centre than to what shipped, as any single line on the theme's own topic is
    assert judged.verdict is Verdict.THANKED and judged.centre_similarity is not None
    assert judged.centre_similarity - (judged.release_similarity or 0) > spread.width

    elsewhere = at_cosine(0.3, towards=0, away=1)  # what shipped is far from this theme's centre
    (judged,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([core]),
                                shipped_vectors=np.stack([unit(1, 0, 0, 0)]), centre=elsewhere, spread=spread)
    assert judged.verdict is not Verdict.THANKED


def test_a_tight_theme_whose_release_says_what_it_asked_thanks_its_members() -> None:
    rng = np.random.default_rng(3)
    members = np.stack([unit(*(np.asarray([1, 0, 0, 0]) + rng.normal(0, 0.03, 4))) for _ in range(12)])
    centre = unit(*members.mean(axis=0))
    spread = ThemeSpread.of(members, centre)
    judged = judge_relevance(suggestion_ids=[str(i) for i in range(12)], ask_vectors=members,
                             shipped_vectors=np.stack([unit(1, 0, 0, 0)]), centre=centre, spread=spread)
    assert {j.verdict for j in judged} == {Verdict.THANKED}


def test_a_tight_theme_is_thanked_for_a_note_worded_otherwise_but_not_for_another_idea() -> None:
    # near-repeats of one ask: every member sits at about 0.95 to the centre, so the lowest decile
    # is far above what any release note's wording reaches (0.69 here)
    rng = np.random.default_rng(8)
    members = np.stack([unit(*(np.asarray([1.0, 0, 0, 0, 0, 0]) + rng.normal(0, 0.15, 6))) for _ in range(5)])
    centre = unit(*members.mean(axis=0))
    spread = ThemeSpread.of(members, centre)
    assert spread.low > 0.85 and spread.whole == SAME_IDEA
    note = unit(*(centre + 1.05 * unit(0, 0, 0, 0, 1, 1)))
    assert 0.65 < float(note @ centre) < spread.floor
    judged = judge_relevance(suggestion_ids=[str(i) for i in range(5)], ask_vectors=members,
                             shipped_vectors=np.stack([note]), centre=centre, spread=spread)
    assert {(j.verdict, j.rule) for j in judged} == {(Verdict.THANKED, RULE_MEMBER_OF_WHAT_SHIPPED)}

    # the same tight theme shipped in a release about something else thanks no one
    elsewhere = unit(*(centre + 2.0 * unit(0, 0, 0, 0, 1, 1)))
    assert float(elsewhere @ centre) < SAME_IDEA
    judged = judge_relevance(suggestion_ids=[str(i) for i in range(5)], ask_vectors=members,
                             shipped_vectors=np.stack([elsewhere]), centre=centre, spread=spread)
    assert Verdict.THANKED not in {j.verdict for j in judged}


def test_the_best_match_among_the_shipped_texts_decides() -> None:
    spread = ThemeSpread(typical=0.7, low=0.6)
    shipped = np.stack([unit(1, 0, 0, 0), unit(0, 0, 0, 1)])
    ask = np.stack([at_cosine(0.8, towards=3, away=1)])
    (judged,) = judge_relevance(suggestion_ids=["a"], ask_vectors=ask, shipped_vectors=shipped,
                                centre=unit(1, 0, 0, 0), spread=spread)
    assert judged.verdict is Verdict.THANKED


def test_relevance_needs_what_shipped_and_one_vector_per_ask() -> None:
    spread = ThemeSpread(typical=0.7, low=0.5)
    nothing = np.zeros((0, 4), dtype=np.float32)
    with pytest.raises(ValueError):
        judge_relevance(suggestion_ids=["a"], ask_vectors=nothing,
                        shipped_vectors=np.stack([unit(1, 0, 0, 0)]), centre=unit(1, 0, 0, 0), spread=spread)
    with pytest.raises(ValueError):
        judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([unit(1, 0, 0, 0)]),
                        shipped_vectors=nothing, centre=unit(1, 0, 0, 0), spread=spread)


def test_a_short_title_far_from_every_ask_still_thanks_the_members_of_the_theme_it_names() -> None:
    # The asks of one idea, close together; a two-word title sits farther from each of them than
    # they are from one another, but as close to their centre as an ordinary member.
    rng = np.random.default_rng(5)
    asks = np.stack([unit(*(np.asarray([1.0, 0.9, 0, 0, 0, 0]) + rng.normal(0, 0.3, 6))) for _ in range(6)])
    centre = unit(*asks.mean(axis=0))
    spread = ThemeSpread.of(asks, centre)
    title = unit(*(centre + 0.4 * unit(0, 0, 1, -1, 1, 0)))
    assert float(title @ centre) >= spread.low
    assert min(float(title @ ask) for ask in asks) < spread.floor  # the one-line view alone would miss one
    judged = judge_relevance(suggestion_ids=[str(i) for i in range(6)], ask_vectors=asks,
                             shipped_vectors=np.stack([title]), centre=centre, spread=spread)
    assert {j.verdict for j in judged} == {Verdict.THANKED}

    # an ask of another idea in the same theme is not thanked for it
    other = unit(0, 0, 1, 1, 0, 0)
    (stray,) = judge_relevance(suggestion_ids=["x"], ask_vectors=np.stack([other]),
                               shipped_vectors=np.stack([title]), centre=centre, spread=spread)
    assert stray.verdict is Verdict.LEFT_OUT


def test_every_note_line_about_the_theme_is_what_shipped_and_the_others_are_other_changes() -> None:
    note = "Notification settings, simplified. Mute alerts during meetings. Swipe to remove an account."
    by_text = {
        "Notifications": unit(1, 0.2, 0, 0),
        "Notification settings, simplified": unit(1, 0.1, 0, 0),
        "Mute alerts during meetings": unit(1, 0.6, 0, 0),
        "Swipe to remove an account": unit(0, 0, 1, 0),
    }

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([by_text[text] for text in texts]).astype(np.float32)

    centre = unit(1, 0, 0, 0)
    # without a spread, only the closest line; with one, every line as close as the lowest decile
    alone = embed_what_shipped("Notifications", note, centre, embed)
    assert alone.texts == ["Notifications", "Notification settings, simplified"]
    assert len(alone.other_vectors) == 2
    spread = ThemeSpread(typical=0.9, low=0.8)
    shipped = embed_what_shipped("Notifications", note, centre, embed, spread=spread)
    assert shipped.texts == [
        "Notifications", "Notification settings, simplified", "Mute alerts during meetings",
    ]
    assert shipped.vectors.shape == (3, 4)
    np.testing.assert_allclose(shipped.other_vectors, [by_text["Swipe to remove an account"]], atol=1e-6)
    assert embed_what_shipped("Notifications", None, centre, embed).other_vectors.shape == (0, 4)


def test_an_ask_closer_to_another_change_of_the_release_is_not_thanked_for_this_one() -> None:
    spread = ThemeSpread(typical=0.8, low=0.7)
    centre = unit(1, 0, 0, 0)
    shipped = np.stack([unit(1, 0.3, 0, 0)])
    ask = unit(1, 0.3, 0.6, 0)  # close to what shipped and to its theme: the bands thank it
    (alone,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([ask]), shipped_vectors=shipped,
                               centre=centre, spread=spread)
    assert alone.verdict is Verdict.THANKED

    def judged_with(change: np.ndarray) -> tuple[Verdict, str]:
        (judged,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([ask]),
                                    shipped_vectors=shipped, centre=centre, spread=spread,
                                    other_changes=np.stack([change]))
        return judged.verdict, judged.rule

    release = float(ask @ shipped[0])
    a_little_closer = unit(1, 0.3, 0.6, 0.4)
    assert release < float(ask @ a_little_closer) <= release + spread.width
    assert judged_with(a_little_closer) == (Verdict.HELD, RULE_OTHER_CHANGE)
    assert judged_with(ask) == (Verdict.LEFT_OUT, RULE_FAR_OTHER_CHANGE)  # it is that other change
    assert judged_with(unit(0, 0, 0, 1))[0] is Verdict.THANKED  # an unrelated change takes nothing


def test_an_ask_nearer_another_themes_centre_than_to_its_own_and_what_shipped_is_held() -> None:
    spread = ThemeSpread(typical=0.8, low=0.7)
    centre = unit(1, 0, 0, 0)
    shipped = np.stack([unit(1, 0.2, 0, 0)])
    ask = unit(1, 0.2, 0.9, 0)
    other_theme = unit(0.6, 0.2, 1, 0)
    (alone,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([ask]), shipped_vectors=shipped,
                               centre=centre, spread=spread)
    assert alone.verdict is Verdict.THANKED
    (judged,) = judge_relevance(suggestion_ids=["a"], ask_vectors=np.stack([ask]), shipped_vectors=shipped,
                                centre=centre, spread=spread, other_centres=np.stack([other_theme]))
    assert float(ask @ other_theme) > max(float(ask @ centre), float(ask @ shipped[0]))
    assert (judged.verdict, judged.rule) == (Verdict.HELD, RULE_OTHER_THEME)
    # the ask that matches what shipped stays thanked beside that other theme
    (member,) = judge_relevance(suggestion_ids=["b"], ask_vectors=shipped, shipped_vectors=shipped,
                                centre=centre, spread=spread, other_centres=np.stack([other_theme]))
    assert member.verdict is Verdict.THANKED
    # the contrast never turns a verdict that is not a thank into one
    (far,) = judge_relevance(suggestion_ids=["c"], ask_vectors=np.stack([unit(0, 0, 0, 1)]),
                             shipped_vectors=shipped, centre=centre, spread=spread,
                             other_centres=np.stack([other_theme]), other_changes=np.stack([other_theme]))
    assert far.verdict is Verdict.LEFT_OUT


def test_a_title_picked_from_the_asks_lets_the_theme_itself_stand_for_what_shipped() -> None:
    # The theme's own title, a word picked from its asks ("Live"), sits far from every ask: judged
    # against it, every member would be left out. Nobody but the theme named what shipped, so the
    # theme's centre stands for it: its members are thanked, a stray of another idea is not.
    rng = np.random.default_rng(7)
    asks = np.stack([unit(*(np.asarray([1.0, 0.8, 0, 0, 0, 0]) + rng.normal(0, 0.25, 6))) for _ in range(8)])
    centre = unit(*asks.mean(axis=0))
    spread = ThemeSpread.of(asks, centre)
    stray = unit(0, 0.1, 1, 1, 0, 0)
    word = unit(0, 0, 0, 0, 1, 0.3)  # the title's vector: unrelated to every ask

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([word for _ in texts]).astype(np.float32)

    def verdicts(named: bool, note: str | None = None) -> list[Verdict]:
        shipped = embed_what_shipped("Live", note, centre, embed, spread=spread, named=named)
        judged = judge_relevance(
            suggestion_ids=[str(i) for i in range(9)], ask_vectors=np.vstack([asks, stray]),
            shipped_vectors=shipped.vectors, centre=centre, spread=spread,
            other_changes=shipped.other_vectors,
        )
        return [j.verdict for j in judged]

    assert set(verdicts(named=True)) == {Verdict.LEFT_OUT}  # a product manager's "Live" is taken as said
    theme_only = verdicts(named=False)
    assert set(theme_only[:8]) == {Verdict.THANKED} and theme_only[8] is Verdict.LEFT_OUT
    shipped = embed_what_shipped("Live", None, centre, embed, named=False)
    assert shipped.texts == ["Live"] and shipped.other_vectors.shape == (0, 6) and shipped.by_theme
    np.testing.assert_allclose(shipped.vectors[0], centre, atol=1e-6)
    # a release note line names what shipped in someone's words: it is judged as before
    noted = verdicts(named=False, note="Share your hike live with the people you choose")
    assert set(noted) == {Verdict.LEFT_OUT}
