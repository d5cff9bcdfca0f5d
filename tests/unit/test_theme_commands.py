"""Commands on a product's themes: lifecycle and clustering change together; closures name everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from contracts.events import Platform, SuggestionThemed
from contracts.lifecycle import ThemeCommand
from models.closure import load_templates
from models.lifecycle import LifecycleStatus, ThemeLifecycle
from models.scoring import CostEstimate, TShirtSize
from models.theme_commands import apply_theme_command, sync_lifecycle
from models.theme_mapping import closure_event, default_title, theme_score, theme_snapshot
from models.themes.config import ThemeConfig
from models.themes.engine import ThemeEngine
from models.themes.records import Suggestion
from models.themes.workflow import Lineage, ProductWork, tick

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIM = 16
ENGINE = ThemeEngine(
    ThemeConfig(join_threshold=0.9, reassign_threshold=0.8, min_cluster_size=3, min_samples=2, pca_dims=4,
                recluster_min_new=10_000, sample_per_theme=12)
)
TOPICS = {0: "dark mode at night", 1: "export my data to csv"}


def vector(center: int, index: int) -> np.ndarray:
    rng = np.random.default_rng(center * 1000 + index)
    v = np.zeros(DIM, dtype=np.float32)
    v[center] = 1.0
    v += rng.normal(0, 0.02, DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def build() -> tuple[ProductWork, dict[str, SuggestionThemed]]:
    """Two themes of 6 suggestions each, with member records as the agent keeps them."""
    work = ProductWork.new(product="acme", dim=DIM)
    members: dict[str, SuggestionThemed] = {}
    for center in (0, 1):
        for i in range(6):
            sid = f"x:{center}-{i}"
            at = T0 + timedelta(hours=i)
            ENGINE.add_suggestion(
                work.themes,
                Suggestion(sid, "acme", f"x:user{center}{i % 4}", "x", at, f"{TOPICS[center]} {i}",
                           vector(center, i), engagement=3),
                now=at, new_id=work.new_id,
            )
            members[sid] = SuggestionThemed(
                suggestion_id=sid, product="acme", theme_id=None, platform=Platform.X,
                comment_id=f"{center}-{i}", author_id=f"user{center}{i % 4}",
                author_handle=f"@user{center}{i % 4}", url=f"https://x.com/u/status/{center}{i}",
                text=f"{TOPICS[center]} {i}", ask_start=0, ask_end=len(f"{TOPICS[center]} {i}"),
                comment_text=f"{TOPICS[center]} {i}", asked_at=at, placed_at=at,
            )
    result = tick(work, engine=ENGINE, now=T0 + timedelta(days=1), idle=True)
    for placement in result.placements:
        members[placement.suggestion_id] = members[placement.suggestion_id].model_copy(
            update={"theme_id": placement.theme_id}
        )
    assert len(work.themes.themes) == 2
    return work, members


def command(kind: str, theme_id: str, n: int = 1, **fields: Any) -> ThemeCommand:
    return ThemeCommand.model_validate({
        "command_id": f"cmd-{n}", "product": "acme", "theme_id": theme_id, "kind": kind, "actor": "pm@acme",
        "issued_at": (T0 + timedelta(days=2)).isoformat(), **fields,
    })


def themes_of(work: ProductWork) -> list[str]:
    return sorted(work.themes.themes, key=lambda tid: min(m.text for m in work.themes.themes[tid].sample))


def test_ship_with_release_closes_once_and_thanks_every_distinct_person() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    now = T0 + timedelta(days=3)
    ship = command("set_status", dark, status="shipped", title="Dark mode",
                   release={"name": "Acme", "version": "2.4.0", "note": "Dark mode follows your system."})
    result = apply_theme_command(work, ThemeLifecycle(), ship, engine=ENGINE, member_of=members.get, now=now)
    assert result.outcome.accepted, result.outcome
    assert result.lifecycle.themes[dark].status is LifecycleStatus.SHIPPED
    assert result.closure is not None and result.closure.closure_key == f"closure:{dark}:2.4.0"
    kinds = [change.kind for change in result.outcome.changes]
    assert kinds == ["attach_release", "set_status"]
    closure = closure_event(
        result.closure, product="acme", title="Dark mode",
        members=[m for m in members.values() if m.theme_id == dark], templates=load_templates(),
        command_id=ship.command_id, now=now,
    )
    assert closure.people_count == 4  # six comments by four people
    assert closure.comment_count == 6
    assert {reply.comment_id for reply in closure.replies} == {f"0-{i}" for i in range(6)}
    post = closure.public_posts[0]
    assert post.platform is Platform.X and post.length <= 280 and "Dark mode" in post.text
    # the same command again: same outcome, no second closure
    again = apply_theme_command(work, result.lifecycle, ship, engine=ENGINE, member_of=members.get, now=now)
    assert again.closure is None and again.outcome.accepted


def test_illegal_transition_is_rejected_with_a_reason_and_changes_nothing() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    now = T0 + timedelta(days=3)
    declined = apply_theme_command(work, ThemeLifecycle(), command("set_status", dark, status="declined"),
                                   engine=ENGINE, member_of=members.get, now=now)
    assert not declined.outcome.accepted and declined.outcome.code == "reason_required"
    assert declined.lifecycle.themes[dark].status is LifecycleStatus.NEW
    wrong = command("set_status", dark, status="planned").model_copy(update={"product": "other"})
    assert apply_theme_command(work, ThemeLifecycle(), wrong, engine=ENGINE, member_of=members.get,
                               now=now).outcome.code == "wrong_product"


def test_merge_folds_counts_and_the_merged_askers_are_owed_the_closure() -> None:
    work, members = build()
    dark, export = themes_of(work)
    now = T0 + timedelta(days=3)
    before = work.themes.themes[dark].mention_count + work.themes.themes[export].mention_count
    merged = apply_theme_command(work, ThemeLifecycle(), command("merge", dark, source_ids=[export]),
                                 engine=ENGINE, member_of=members.get, now=now)
    assert merged.outcome.accepted
    assert merged.step.merged == {export: dark}
    assert export not in work.themes.themes and work.themes.themes[dark].mention_count == before
    assert work.themes.themes[dark].engagement == 12 * 3
    shipped = apply_theme_command(work, merged.lifecycle, command("set_status", dark, 2, status="shipped"),
                                  engine=ENGINE, member_of=members.get, now=now)
    assert shipped.closure is not None and shipped.closure.merged_theme_ids == (export,)
    set_cost = command("set_cost", export, 3, cost={"size": "S"})
    on_merged = apply_theme_command(work, shipped.lifecycle, set_cost, engine=ENGINE, member_of=members.get,
                                    now=now)
    assert on_merged.outcome.code == "merged_theme"


def test_split_moves_members_and_rejects_strangers() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    now = T0 + timedelta(days=3)
    part = [m.suggestion_id for m in work.themes.themes[dark].sample][:2]
    stranger = apply_theme_command(
        work, ThemeLifecycle(),
        command("split", dark, parts=[{"new_theme_id": "t-night", "member_ids": [part[0], "x:1-0"]}]),
        engine=ENGINE, member_of=members.get, now=now,
    )
    assert stranger.outcome.code == "member_not_in_theme"
    parts = [{"new_theme_id": "t-night", "member_ids": part}]
    split = apply_theme_command(
        work, ThemeLifecycle(), command("split", dark, 2, parts=parts), engine=ENGINE, member_of=members.get,
        now=now,
    )
    assert split.outcome.accepted, split.outcome
    assert work.themes.themes["t-night"].member_count == 2
    assert work.themes.themes[dark].member_count == 4
    assert work.lineage["t-night"].split_from == dark
    assert {p.suggestion_id for p in split.step.placements} == set(part)
    assert split.lifecycle.themes["t-night"].split_from == dark


def test_clustering_merges_are_followed_by_the_lifecycle() -> None:
    work, _ = build()
    dark, export = themes_of(work)
    work.lineage[export].merged_into = dark
    synced = sync_lifecycle(ThemeLifecycle(), work, now=T0)
    assert synced.themes[export].status is LifecycleStatus.MERGED
    assert synced.themes[export].merged_into == dark


@pytest.mark.parametrize("size, quadrant_known", [(None, False), (TShirtSize.XS, True)])
def test_score_carries_every_factor_and_flags_an_unknown_cost(
    size: TShirtSize | None, quadrant_known: bool
) -> None:
    work, _ = build()
    dark, _ = themes_of(work)
    score = theme_score(work.themes.themes[dark], CostEstimate(size=size), now=T0 + timedelta(days=1))
    assert {f.name for f in score.factors} == {
        "distinct_authors", "mentions", "growth", "engagement", "urgency", "negative_tone"
    }
    engagement = next(f for f in score.factors if f.name == "engagement")
    assert engagement.raw == 18
    assert score.cost_assumed is not quadrant_known
    assert (score.quadrant != "unknown_cost") is quadrant_known


@pytest.mark.parametrize(
    "raw, expected_id",
    [
        (b"{not json", "feedback.theme-commands:2:17"),
        (b'{"command_id": "c-9", "kind": "explode"}', "c-9"),
        (b'{"command_id": "c-10", "kind": "merge", "product": "acme", "theme_id": "t1", "actor": "a", '
         b'"issued_at": "2026-01-01T00:00:00Z"}', "c-10"),
        (b"\xff\xfe", "feedback.theme-commands:2:17"),
        (b'["c-11"]', "feedback.theme-commands:2:17"),
    ],
)
def test_an_unreadable_command_gets_a_rejection_not_a_crash(raw: bytes, expected_id: str) -> None:
    from pydantic import ValidationError

    from models.theme_mapping import unreadable_command

    class Message:
        topic, partition, offset, key, value = "feedback.theme-commands", 2, 17, b"acme", raw

    with pytest.raises(ValidationError) as caught:
        ThemeCommand.model_validate_json(raw)
    outcome = unreadable_command(Message(), caught.value, now=T0)
    assert not outcome.accepted and outcome.code == "invalid_command"
    assert outcome.command_id == expected_id and outcome.product == "acme" and outcome.message


def test_release_notes_are_read_with_their_dates() -> None:
    from pathlib import Path

    from youasked.release_proposals import parse_day, read_release_notes

    assert parse_day("2021年12月13日").isoformat() == "2021-12-13"  # type: ignore[union-attr]
    assert parse_day("2022-01-05 10:00:00").isoformat() == "2022-01-05"  # type: ignore[union-attr]
    assert parse_day("soon") is None and parse_day("2021-13-40") is None
    streams = Path(__file__).resolve().parents[3] / "shared" / "data" / "streams"
    path = streams / "microsoft_teams_releases.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    notes = read_release_notes(path)
    assert notes and all(note.text and note.version for note in notes)
    assert sum(note.released is not None for note in notes) == len(notes)


def test_a_theme_gets_a_title_from_its_asks_and_keeps_its_keywords_apart() -> None:
    work, _ = build()
    dark, _ = themes_of(work)
    record = work.themes.themes[dark]
    assert record.title.lower() in {"dark mode", "dark mode at night"}
    assert record.keywords and " / ".join(record.keywords) == record.label
    snapshot = theme_snapshot(record, Lineage(), change="recluster", now=T0)
    assert (snapshot.title, snapshot.named) == (record.title, False)


def test_a_rename_is_recorded_and_outlives_a_recluster() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    now = T0 + timedelta(days=3)
    renamed = apply_theme_command(work, ThemeLifecycle(), command("rename", dark, title="Night theme"),
                                  engine=ENGINE, member_of=members.get, now=now)
    assert renamed.outcome.accepted
    assert renamed.outcome.changes[0].kind == "rename" and "Night theme" in renamed.outcome.changes[0].detail
    assert renamed.step.changed == {dark: "rename"}
    picked = work.themes.themes[dark].title
    ENGINE.recluster(work.themes, now=now + timedelta(hours=1), new_id=work.new_id)
    record = work.themes.themes[dark]
    assert (record.shown_title, record.title) == ("Night theme", picked)
    snapshot = theme_snapshot(record, Lineage(), change="recluster", now=now)
    assert (snapshot.title, snapshot.named) == ("Night theme", True)
    again = apply_theme_command(work, renamed.lifecycle, command("rename", dark, 2, title="Night theme"),
                                engine=ENGINE, member_of=members.get, now=now)
    assert again.outcome.code == "no_change"
    back = apply_theme_command(work, renamed.lifecycle, command("rename", dark, 3, title=""),
                               engine=ENGINE, member_of=members.get, now=now)
    assert back.outcome.accepted and work.themes.themes[dark].shown_title == picked


@pytest.mark.parametrize("name_target", [False, True])
def test_a_given_title_survives_a_merge(name_target: bool) -> None:
    work, members = build()
    dark, export = themes_of(work)
    now = T0 + timedelta(days=3)
    life = apply_theme_command(work, ThemeLifecycle(), command("rename", export, title="CSV export"),
                               engine=ENGINE, member_of=members.get, now=now).lifecycle
    if name_target:
        life = apply_theme_command(work, life, command("rename", dark, 2, title="Dark mode"),
                                   engine=ENGINE, member_of=members.get, now=now).lifecycle
    merged = apply_theme_command(work, life, command("merge", dark, 3, source_ids=[export]),
                                 engine=ENGINE, member_of=members.get, now=now)
    assert merged.outcome.accepted
    expected = "Dark mode" if name_target else "CSV export"  # the target's own name wins
    assert work.themes.themes[dark].shown_title == expected
    ENGINE.recluster(work.themes, now=now + timedelta(hours=1), new_id=work.new_id)
    assert work.themes.themes[dark].shown_title == expected
    on_merged = apply_theme_command(work, merged.lifecycle, command("rename", export, 4, title="Export"),
                                    engine=ENGINE, member_of=members.get, now=now)
    assert on_merged.outcome.code == "merged_theme"


def test_a_rename_without_a_title_is_not_a_command() -> None:
    with pytest.raises(ValueError, match="rename command needs title"):
        command("rename", "t-1")


def test_a_closure_names_the_change_by_the_theme_title() -> None:
    work, _ = build()
    dark, export = themes_of(work)
    picked = work.themes.themes[dark].title
    assert default_title(work.themes.themes[dark]) == f"“{picked}”"
    work.themes.themes[export].name = "CSV export of your data"
    assert default_title(work.themes.themes[export]) == "CSV export of your data"
    assert default_title(None) == "this change"
