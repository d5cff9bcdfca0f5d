"""Reviews of possible duplicates and erasure of a person, on a product's real theme state."""

from __future__ import annotations

from datetime import timedelta

from contracts.events import DuplicateKind, Platform, SuggestionThemed
from contracts.lifecycle import hash_author
from models.duplicates import DuplicateConfig
from models.lifecycle import ThemeLifecycle
from models.people_commands import apply_erasure, apply_review_command
from models.themes.records import Suggestion
from models.themes.workflow import ProductWork
from tests.unit.test_theme_commands import ENGINE, T0, TOPICS, build, command, themes_of, vector

DUPLICATES = DuplicateConfig()


def as_review(members: dict[str, SuggestionThemed], sid: str, of: str) -> None:
    members[sid] = members[sid].model_copy(
        update={"duplicate_of": of, "duplicate_kind": DuplicateKind.REVIEW, "similarity": 0.8}
    )


def review(work: ProductWork, members: dict[str, SuggestionThemed], kind: str, sid: str, n: int = 1):  # type: ignore[no-untyped-def]
    def members_of(theme_id: str) -> list[SuggestionThemed]:
        return [m for m in members.values() if m.theme_id == theme_id]

    return apply_review_command(
        work,
        ThemeLifecycle(),
        command(kind, members[sid].theme_id or "pool", n, suggestion_id=sid),
        engine=ENGINE,
        member_of=members.get,
        members_of=members_of,
        now=T0 + timedelta(days=2),
    )


def test_a_confirmed_duplicate_moves_to_the_theme_it_repeats_and_its_author_with_it() -> None:
    work, members = build()
    dark, export = themes_of(work)
    as_review(members, "x:1-2", of="x:0-0")  # user12 asks only once, in the export theme
    hashed = hash_author("x", "user12")
    before = {
        tid: (t.member_count, t.mention_count, t.authors.count()) for tid, t in work.themes.themes.items()
    }

    result = review(work, members, "confirm_duplicate", "x:1-2")

    assert result.outcome.accepted, result.outcome.message
    dark_theme, export_theme = work.themes.themes[dark], work.themes.themes[export]
    assert (dark_theme.member_count, dark_theme.mention_count) == (before[dark][0] + 1, before[dark][1] + 1)
    assert (export_theme.member_count, export_theme.mention_count) == (
        before[export][0] - 1,
        before[export][1] - 1,
    )
    assert dark_theme.authors.contains(hashed) and not export_theme.authors.contains(hashed)
    assert dark_theme.holds("x:1-2") and not export_theme.holds("x:1-2")
    (placed,) = result.step.placements
    assert (placed.theme_id, placed.duplicate_of, placed.duplicate_kind) == (dark, "x:0-0", "confirmed")
    assert set(result.step.changed) == {dark, export}


def test_the_author_stays_counted_where_they_asked_something_else() -> None:
    work, members = build()
    _dark, export = themes_of(work)
    as_review(members, "x:1-0", of="x:0-0")  # user10 also wrote x:1-4 in the export theme
    result = review(work, members, "confirm_duplicate", "x:1-0")
    assert result.outcome.accepted
    assert work.themes.themes[export].authors.contains(hash_author("x", "user10"))


def test_confirming_the_only_member_of_a_theme_merges_that_theme() -> None:
    work, members = build()
    dark, export = themes_of(work)
    ENGINE.split_theme(
        work.themes,
        theme_id=export,
        parts=[("t-solo", [work.themes.themes[export].sample[0]])],
        now=T0 + timedelta(days=1),
    )
    solo_id = work.themes.themes["t-solo"].sample[0].suggestion_id
    members[solo_id] = members[solo_id].model_copy(update={"theme_id": "t-solo"})
    as_review(members, solo_id, of="x:0-1")

    result = review(work, members, "confirm_duplicate", solo_id)

    assert result.outcome.accepted
    assert result.step.merged == {"t-solo": dark} and "t-solo" not in work.themes.themes
    assert work.lineage["t-solo"].merged_into == dark
    assert any(p.suggestion_id == solo_id and p.duplicate_kind == "confirmed" for p in result.step.placements)


def test_a_rejected_duplicate_stays_where_it_is_as_a_suggestion_of_its_own() -> None:
    work, members = build()
    _dark, export = themes_of(work)
    as_review(members, "x:1-2", of="x:0-0")
    counts = {tid: t.member_count for tid, t in work.themes.themes.items()}
    result = review(work, members, "reject_duplicate", "x:1-2")
    assert result.outcome.accepted
    (placed,) = result.step.placements
    assert (placed.theme_id, placed.duplicate_kind) == (export, "distinct")
    assert {tid: t.member_count for tid, t in work.themes.themes.items()} == counts


def test_review_commands_refuse_what_is_not_in_the_queue() -> None:
    work, members = build()
    assert review(work, members, "confirm_duplicate", "x:1-2").outcome.code == "not_a_possible_duplicate"
    members["x:1-2"] = members["x:1-2"].model_copy(
        update={"duplicate_of": "x:0-0", "duplicate_kind": DuplicateKind.DISTINCT}
    )
    assert review(work, members, "confirm_duplicate", "x:1-2").outcome.code == "already_reviewed"
    as_review(members, "x:1-3", of="x:gone")
    assert review(work, members, "reject_duplicate", "x:1-3").outcome.code == "original_gone"
    unknown = apply_review_command(
        work,
        ThemeLifecycle(),
        command("reject_duplicate", "pool", suggestion_id="x:nobody"),
        engine=ENGINE,
        member_of=members.get,
        members_of=lambda _t: [],
        now=T0,
    )
    assert unknown.outcome.code == "unknown_suggestion"


def erase(work: ProductWork, members: dict[str, SuggestionThemed], platform: str, author: str, n: int = 9):  # type: ignore[no-untyped-def]
    return apply_erasure(
        work,
        ThemeLifecycle(),
        command("erase_author", "*", n, author_hash=hash_author(platform, author)),
        engine=ENGINE,
        duplicates=DUPLICATES,
        members=list(members.values()),
        now=T0 + timedelta(days=3),
    )


def repeat(
    work: ProductWork, members: dict[str, SuggestionThemed], *, of: str, author: str, sid: str
) -> None:
    """``author`` repeats ``of`` word for word: one more mention of it, as the workflow counts it."""
    target = members[of]
    at = T0 + timedelta(hours=20)
    ENGINE.add_mention(
        work.themes,
        target_id=of,
        theme_id=target.theme_id,
        author_key=f"x:{author}",
        platform="x",
        at=at,
        now=at,
    )
    members[sid] = target.model_copy(
        update={
            "suggestion_id": sid,
            "comment_id": sid,
            "author_id": author,
            "author_handle": f"@{author}",
            "duplicate_of": of,
            "duplicate_kind": DuplicateKind.EXACT,
            "asked_at": at,
        }
    )


def test_erasure_takes_a_persons_texts_mentions_and_hash_out_of_every_theme() -> None:
    work, members = build()
    dark, export = themes_of(work)
    repeat(work, members, of="x:1-2", author="user00", sid="x:r1")  # user00 repeats someone in export
    repeat(work, members, of="x:0-0", author="user99", sid="x:r2")  # someone repeats user00 in dark
    hashed = hash_author("x", "user00")
    dark_before = work.themes.themes[dark]
    counts = (dark_before.member_count, dark_before.mention_count)
    export_mentions = work.themes.themes[export].mention_count
    texts_before = {m.text for t in work.themes.themes.values() for m in t.sample}

    done = erase(work, members, "x", "user00")

    assert done.result.outcome.accepted
    assert sorted(done.erasure.forgotten) == ["x:0-0", "x:0-4", "x:r1"]
    assert done.erasure.handed_over == {"x:0-0": "x:r2"}  # user99's repeat keeps the ask alive
    dark_theme, export_theme = work.themes.themes[dark], work.themes.themes[export]
    # x:0-4 leaves; x:0-0 stays as user99's; the mentions of user00 (x:0-0, x:0-4) go
    assert (dark_theme.member_count, dark_theme.mention_count) == (counts[0] - 1, counts[1] - 2)
    assert export_theme.mention_count == export_mentions - 1
    for theme in work.themes.themes.values():
        assert not theme.authors.contains(hashed)
        for member in (*theme.sample, *theme.provisional):
            assert hashed not in member.authors
            assert member.suggestion_id not in {"x:0-0", "x:0-4", "x:r1"}
        assert theme.representative_id not in {"x:0-0", "x:0-4"}
    texts_after = {m.text for t in work.themes.themes.values() for m in t.sample}
    assert f"{TOPICS[0]} 4" in texts_before and f"{TOPICS[0]} 4" not in texts_after
    assert all(item.suggestion_id not in {"x:0-0", "x:0-4"} for item in work.themes.pool.values())
    assert all(w.suggestion_id not in {"x:0-0", "x:0-4"} for w in work.window.items)
    assert set(done.result.step.changed) == {dark, export}


def test_erasure_removes_a_theme_left_empty_and_is_repeatable() -> None:
    work, members = build()
    _dark, export = themes_of(work)
    held = next(m for m in work.themes.themes[export].sample if m.suggestion_id == "x:1-2")
    ENGINE.split_theme(work.themes, theme_id=export, parts=[("t-solo", [held])], now=T0 + timedelta(days=1))
    members["x:1-2"] = members["x:1-2"].model_copy(update={"theme_id": "t-solo"})

    done = erase(work, members, "x", "user12")
    assert done.erasure.removed_themes == ["t-solo"] and "t-solo" not in work.themes.themes

    for sid in done.erasure.forgotten:
        members.pop(sid)
    again = erase(work, members, "x", "user12", n=10)
    assert again.result.outcome.accepted and again.erasure.forgotten == []
    assert again.result.step.changed == {}


def test_a_pooled_suggestion_of_an_erased_person_leaves_the_pool() -> None:
    work, members = build()
    at = T0 + timedelta(days=1, hours=1)
    far = vector(5, 1)  # near no theme: it waits in the pool
    ENGINE.add_suggestion(
        work.themes,
        Suggestion("x:p1", "acme", "x:loner", "x", at, "a lone idea", far),
        now=at,
        new_id=work.new_id,
    )
    assert "x:p1" in work.themes.pool
    members["x:p1"] = SuggestionThemed(
        suggestion_id="x:p1",
        product="acme",
        theme_id=None,
        platform=Platform.X,
        comment_id="p1",
        author_id="loner",
        text="a lone idea",
        ask_start=0,
        ask_end=11,
        comment_text="a lone idea",
        asked_at=at,
        placed_at=at,
    )
    done = erase(work, members, "x", "loner")
    assert done.erasure.forgotten == ["x:p1"] and "x:p1" not in work.themes.pool
