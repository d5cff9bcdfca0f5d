"""How the themes agent stores a product: a theme's record names its members by id, and each
sampled or provisional member has its own key, so a join writes what changed, not the whole sample.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.themes.effects import STATE
from models.themes.tables import sampled_key, theme_key
from tests.fakes import MemoryThemeTables
from tests.unit.test_themes_service import SERVICE, T0, Broker, command_record, detected, seeded, themes


def sampled_keys(tables: MemoryThemeTables) -> set[str]:
    return {key for key in tables.state_table if key.startswith("sampled:")}


def members_of_live_themes(tables: MemoryThemeTables) -> set[str]:
    live = tables.work("acme").themes.themes
    return {
        sampled_key(tid, member.suggestion_id)
        for tid, record in live.items()
        for member in [*record.sample, *record.provisional]
    }


def reloaded(tables: MemoryThemeTables) -> dict[str, Any]:
    """The product as a worker that takes the partition over reads it from the same tables."""
    fresh = MemoryThemeTables(dim=tables.dim)
    fresh.state_table, fresh.members_table = tables.state_table, tables.members_table
    return fresh.work("acme").themes.to_dict()


def test_a_theme_record_names_its_members_and_each_member_has_its_own_key() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    record = tables.state_table[theme_key(dark)]
    assert "sample" not in record and "provisional" not in record
    assert len(record["sample_ids"]) == 6 and record["member_count"] == 6
    assert sampled_keys(tables) == members_of_live_themes(tables)
    assert all(tables.state_table[sampled_key(dark, sid)]["id"] == sid for sid in record["sample_ids"])
    assert reloaded(tables) == tables.work("acme").themes.to_dict()


def test_a_join_writes_the_aggregates_and_the_new_member_not_the_sample() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)

    effects = SERVICE.suggestion(tables, detected(40, 0, "zoe"), now=T0 + timedelta(days=2))
    broker.apply(effects)

    written = [w.key for w in effects.writes() if w.table == STATE and w.key.startswith(("theme", "sampled"))]
    assert tables.state_table[theme_key(dark)]["member_count"] == 7
    assert written == [sampled_key(dark, "x:c40#1"), theme_key(dark)]  # not the six other members
    assert reloaded(tables) == tables.work("acme").themes.to_dict()


def test_a_repeat_rewrites_the_member_it_adds_to_only() -> None:
    tables, broker = seeded()
    dark, _ = themes(tables)
    first = tables.state_table[theme_key(dark)]["sample_ids"][0]
    text = tables.state_table[sampled_key(dark, first)]["text"]
    n = int(first.split("#")[0].removeprefix("x:c"))
    repeat = detected(n, 0, "zoe", at=T0 + timedelta(days=2))
    repeat = repeat.model_copy(update={
        "suggestion_id": "x:c99#1",
        "comment": repeat.comment.model_copy(update={"comment_id": "c99", "key": "x:c99", "text": text}),
    })  # fmt: skip

    effects = SERVICE.suggestion(tables, repeat, now=T0 + timedelta(days=2))
    broker.apply(effects)

    rewritten = {w.key for w in effects.writes() if w.key.startswith("sampled:")}
    assert rewritten <= {sampled_key(dark, first), sampled_key(dark, "x:c99#1")}
    assert sampled_keys(tables) == members_of_live_themes(tables)
    assert reloaded(tables) == tables.work("acme").themes.to_dict()


def test_a_merged_theme_leaves_no_member_keys_behind() -> None:
    tables, broker = seeded()
    dark, export = themes(tables)
    merge = command_record("cmd-merge", dark, "merge", source_ids=[export])

    broker.apply(SERVICE.command(tables, merge, now=T0 + timedelta(days=3)))

    assert theme_key(export) not in tables.state_table
    assert not any(key.startswith(f"sampled:{export}:") for key in tables.state_table)
    assert sampled_keys(tables) == members_of_live_themes(tables)
    assert reloaded(tables) == tables.work("acme").themes.to_dict()


def test_a_record_written_with_its_members_inline_is_read_and_rewritten_in_the_new_layout() -> None:
    tables, _ = seeded()
    dark, export = themes(tables)
    work = tables.work("acme")
    for tid, record in work.themes.themes.items():  # as a worker before this layout stored them
        tables.state_table[theme_key(tid)] = record.to_dict()
    for key in sampled_keys(tables):
        del tables.state_table[key]
    before = work.themes.to_dict()
    assert reloaded(tables) == before

    fresh = MemoryThemeTables(dim=tables.dim)
    fresh.state_table, fresh.members_table = tables.state_table, tables.members_table
    Broker(fresh).apply(SERVICE.suggestion(fresh, detected(41, 0, "zoe"), now=T0 + timedelta(days=2)))

    assert "sample" not in fresh.state_table[theme_key(dark)]  # the touched theme: new layout
    assert "sample" in fresh.state_table[theme_key(export)]  # the other: still readable as it was
    assert reloaded(fresh) == fresh.work("acme").themes.to_dict()


def test_a_record_naming_a_member_entry_never_written_loads_without_it() -> None:
    tables, _ = seeded()
    dark, _ = themes(tables)
    first, *rest = tables.state_table[theme_key(dark)]["sample_ids"]
    del tables.state_table[sampled_key(dark, first)]  # as after a batch of writes cut short

    fresh = MemoryThemeTables(dim=tables.dim)
    fresh.state_table, fresh.members_table = tables.state_table, tables.members_table
    record = fresh.work("acme").themes.themes[dark]

    assert [m.suggestion_id for m in record.sample] == rest and record.member_count == 6
