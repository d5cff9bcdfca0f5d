"""A theme's agreement: one idea in many words reads near 1, a grab bag of many small ideas below
``MIXED_AGREEMENT``; the snapshot carries it, the read model keeps it, the API flags the grab bag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.readmodel.project import project_theme
from api.readmodel.schema import ThemeRow
from api.reads import theme_read
from contracts.events import MIXED_AGREEMENT, ThemeStatus, is_mixed
from models.theme_mapping import theme_agreement, theme_snapshot
from models.themes.config import ThemeConfig
from models.themes.records import AuthorSet, Member, ThemeRecord
from models.themes.workflow import Lineage

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DIM = 32
FOUND = ThemeConfig().found_threshold


def record(vectors: np.ndarray) -> ThemeRecord:
    members = [
        Member(suggestion_id=f"x:{i}#1", text=f"ask {i}", vector=vector.astype(np.float32), created_at=T0,
               last_seen=T0, authors=[f"a{i}"])
        for i, vector in enumerate(vectors)
    ]
    authors = AuthorSet(cap=100)
    for member in members:
        authors.add(member.authors[0])
    return ThemeRecord(
        theme_id="t-1", product="trailmate", vector_sum=vectors.astype(np.float64).sum(axis=0),
        member_count=len(members), mention_count=len(members), authors=authors, first_seen=T0, last_seen=T0,
        sample=members,
    )


def unit_rows(rows: np.ndarray) -> np.ndarray:
    out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def one_idea(n: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, DIM))
    rows[:, 0] = 1.0
    return unit_rows(rows + rng.normal(0, 0.1, rows.shape))


def grab_bag(n: int = 12, seed: int = 0) -> np.ndarray:
    """Each member near an axis of its own: twelve small ideas."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, DIM))
    rows[np.arange(n), np.arange(n) % DIM] = 1.0
    return unit_rows(rows + rng.normal(0, 0.05, rows.shape))


def test_one_idea_agrees_and_a_grab_bag_does_not() -> None:
    tight = theme_agreement(record(one_idea()), FOUND)
    loose = theme_agreement(record(grab_bag()), FOUND)
    assert tight is not None and tight >= 0.9
    assert loose is not None and loose < MIXED_AGREEMENT
    assert not is_mixed(tight) and is_mixed(loose) and not is_mixed(None)


def test_the_snapshot_carries_agreement_when_live_and_not_when_merged() -> None:
    theme = record(grab_bag())
    live = theme_snapshot(theme, Lineage(), change="recluster", now=T0, found_threshold=FOUND)
    assert live.schema_version == 3 and live.agreement == theme_agreement(theme, FOUND)
    merged = theme_snapshot(theme, Lineage(merged_into="t-2"), change="merged", now=T0,
                            status=ThemeStatus.MERGED, found_threshold=FOUND)
    assert merged.agreement is None


def test_the_read_model_keeps_it_and_the_api_flags_a_grab_bag(database: Callable[[], Engine]) -> None:
    engine = database()
    for theme_id, vectors in (("t-bag", grab_bag()), ("t-one", one_idea())):
        theme = record(vectors)
        theme.theme_id = theme_id
        snapshot = theme_snapshot(theme, Lineage(), change="recluster", now=T0, found_threshold=FOUND)
        with Session(engine) as session, session.begin():
            project_theme(session, snapshot)
    with Session(engine) as session:
        bag, one = session.get(ThemeRow, "t-bag"), session.get(ThemeRow, "t-one")
        assert bag is not None and one is not None
        assert theme_read(bag).mixed and bag.agreement is not None and bag.agreement < MIXED_AGREEMENT
        assert not theme_read(one).mixed and theme_read(one).agreement == one.agreement


def test_a_grab_bag_ranks_below_one_idea_of_the_same_demand() -> None:
    """The same people, mentions and weeks: the grab bag's people count at its agreement's share."""
    bag = theme_snapshot(record(grab_bag()), Lineage(), change="recluster", now=T0, found_threshold=FOUND)
    one = theme_snapshot(record(one_idea()), Lineage(), change="recluster", now=T0, found_threshold=FOUND)
    unmeasured = theme_snapshot(record(grab_bag()), Lineage(), change="recluster", now=T0)
    assert bag.score is not None and one.score is not None and unmeasured.score is not None
    assert bag.author_count == one.author_count == 12
    assert bag.agreement is not None and is_mixed(bag.agreement)
    assert bag.score.priority < one.score.priority == unmeasured.score.priority
    people = next(f for f in bag.score.factors if f.name == "distinct_authors")
    assert people.raw == 12 and "counted as" in people.note and "mixed theme" in people.note
    assert bag.score.formula_version == one.score.formula_version == "impact-cost/2"
