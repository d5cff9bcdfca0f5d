"""The dialogue service: one comment of a reply thread in, its effects out, as data.

Pure: the tables are read through plain mappings, the clock is passed in, and the result is an
:class:`DialogueEffects` the adapter applies in order: first the records (the thread's measures
on ``feedback.dialogue-threads``, then each week it changed on ``feedback.dialogue-weeks``),
then the table writes. A comment counted before changes nothing, so a re-delivery after a crash
between the records and the writes repeats the same records (compacted: latest wins) and no
count.

Tables (JSON-able values): ``dialogue-threads`` by thread key (:class:`ThreadState`) and
``dialogue-weeks`` by week key (thread key -> entry, :mod:`models.dialogue.weeks`). Both are
keyed under the product, which keys the input topic, so a product's threads and weeks live in
the partition its comments arrive on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured, ServiceLevel
from contracts.events import CommentClassified
from models.dialogue.threads import ThreadState, Turn, apply_turn, measure_thread
from models.dialogue.weeks import (
    ThreadEntry,
    aggregate_week,
    week_from_dict,
    week_key_of,
    week_to_dict,
    with_thread,
)

TableName = Literal["dialogue-threads", "dialogue-weeks"]
THREADS: TableName = "dialogue-threads"
WEEKS: TableName = "dialogue-weeks"


def turn_of(classified: CommentClassified) -> Turn | None:
    """The thread comment a classified comment is, or None when it belongs to no thread (no
    ``thread_id`` and no ``parent_id``: a post of its own, such as a store review).

    The thread is ``thread_id`` (the root post's id, as producers and the replay give it), else
    the ``parent_id`` (a direct reply to a root post).
    """
    comment = classified.comment
    thread_id = comment.thread_id or comment.parent_id
    if not thread_id:
        return None
    return Turn(
        key=comment.key,
        product=comment.product,
        platform=comment.platform,
        thread_id=thread_id,
        speaker=comment.speaker,
        created_at=comment.created_at,
        text=comment.text,
    )


@dataclass
class DialogueEffects:
    """What one comment does: records to publish, then table writes (value None deletes)."""

    thread: DialogueThreadMeasured | None = None
    weeks: list[DialogueWeekMeasured] = field(default_factory=list)
    writes: list[tuple[TableName, str, Any]] = field(default_factory=list)
    passed_over: str | None = None


def dialogue_step(
    classified: CommentClassified,
    *,
    threads: Mapping[str, Any],
    weeks: Mapping[str, Any],
    level_of: Callable[[str], ServiceLevel],
    now: datetime,
) -> DialogueEffects:
    """The effects of one comment on its thread and on the weeks the thread is counted in."""
    turn = turn_of(classified)
    if turn is None:
        return DialogueEffects(passed_over=f"{classified.key} belongs to no thread")
    stored = threads.get(turn.thread_key)
    before = None if stored is None else ThreadState.from_dict(stored)
    after = apply_turn(before, turn)
    if after is None:
        return DialogueEffects(passed_over=f"{turn.key} was counted in {turn.thread_key} before")
    level = level_of(turn.product)
    measured = measure_thread(after, level=level, now=now)
    effects = DialogueEffects(thread=measured)
    old_week = None if before is None else measure_thread(before, level=level, now=now).week
    changed: dict[str, dict[str, ThreadEntry]] = {}
    if old_week is not None and old_week != measured.week:  # an earlier customer message came late
        key = week_key_of(turn.product, turn.platform, old_week)
        changed[old_week] = with_thread(week_from_dict(weeks.get(key)), after.key, None)
    if measured.week is not None:
        key = week_key_of(turn.product, turn.platform, measured.week)
        entry = ThreadEntry.of(measured)
        changed[measured.week] = with_thread(week_from_dict(weeks.get(key)), after.key, entry)
    for week, entries in sorted(changed.items()):
        aggregate = aggregate_week(
            entries, product=turn.product, platform=turn.platform, week=week, level=level, now=now
        )
        effects.weeks.append(aggregate)
        effects.writes.append((WEEKS, week_key_of(turn.product, turn.platform, week), week_to_dict(entries)))
    effects.writes.append((THREADS, after.key, after.to_dict()))
    return effects
