"""The impact of shipped closures, followed by the themes agent: (tables, input, effects) -> effects.

Why in the themes agent: a closure's impact needs the theme's members (where each ask was
placed, when, by whom), the theme's centre, the closure's cut-off and the praise that followed.
The first three live in the themes agent's tables, partitioned by product; the classify stage
sends comments judged praise to ``feedback.praise`` keyed by product (:mod:`streams.classify`),
so a product's suggestions, commands, ticks and praise all reach one partition and one worker,
and nothing is joined across partitions or read from the read model.

State: ``impact:<product>`` in ``theme-state`` (one record per product that shipped something):

* ``seen``: the latest event time (a comment's ``created_at``) seen by the impact of the product;
* ``closures``: per shipped closure id its themes, cut-off, title and release, the theme's centre
  and neighbourhood threshold when it shipped, the people who asked before shipping (author
  hashes), its follow-up praise by comment key, and per week the version and figures last published.

Weeks are event-time weeks (:mod:`models.impact`): week ``k`` is published once a comment written
after its end is seen, and published again (``version + 1``) when a late ask or praise, an
erasure or a re-clustering changes its figures. Each (closure, week, version) is published once
through the ledger of ``feedback.closure-impact`` (``ledger_key`` ``{closure_id}:{week}#v{version}``,
the record key ``{closure_id}:{week}`` so that compaction keeps the latest); the state is written
after the records. A crash in between re-delivers the input, which derives the same versions
from the same state, and the ledger lets nothing out twice.

Figures are computed from the member records (the table, overlaid with the writes of the step
that just ran), so they follow what the theme holds now: asks placed after shipping are members
like any other (the closure shows them as asked after shipping). A shipped theme merged into
another later, or split, is followed under the ids it had when it shipped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import ValidationError

from contracts.events import SuggestionDetected
from contracts.impact import WEEKS_BEFORE, ClosureImpact, PraiseDetected
from contracts.lifecycle import ClosureEvent, CommandKind, CommandOutcome, ThemeCommand, hash_author
from contracts.topics import CLOSURE_IMPACT, CLOSURES, THEME_OUTCOMES
from models.closure_selection import ThemeSpread
from models.embedding import Embedder, l2_normalize
from models.impact import (
    WEEK,
    Ask,
    Praise,
    in_neighbourhood,
    praise_text,
    week_after,
    week_bounds,
    week_figures,
    weeks_ended,
)
from models.theme_mapping import RawRecord
from models.themes.askers import askers_of
from models.themes.effects import MEMBERS, Effect, Effects, Emit
from models.themes.tables import ThemeTables, impact_key, member_record, set_state
from models.themes.workflow import ProductWork

MAX_PRAISE = 5000
"""Follow-up praise kept per closure (a bound on the state record; later praise is not counted)."""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class ImpactService:
    """Follows each shipped closure of a product for 12 event-time weeks (see the module docstring).

    Each method returns the :class:`Effects` to apply after (or, for a command, within) the
    themes service's own; ``partition`` is the input record's partition, where the records
    published once go. ``embedder`` (the pipeline's model, shared with the classify stage) embeds
    a praise comment that comes without a vector when the neighbourhood test needs one; without
    it such praise follows a closure only when its author asked.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder

    def after_command(
        self, tables: ThemeTables, record: RawRecord, effects: Effects, *, partition: int, now: datetime
    ) -> Effects:
        """The command's ``effects`` with the impact's inserted right after its shipped closure
        (before its outcome and tables: a re-delivered command whose outcome is stored emits no
        closure again), or after its erasure; else ``effects`` unchanged.
        """
        # a follow-up closure (one person a product manager added after shipping) is no change of its own
        closures = [
            e for e in effects.emits(CLOSURES)
            if isinstance(e.value, ClosureEvent) and e.value.outcome == "shipped"
            and e.value.follow_up_of is None
        ]
        if closures:
            closure = closures[0].value
            assert isinstance(closure, ClosureEvent)
            overlay = _member_writes(effects)
            work = tables.work(closure.product)
            extra = self._register(tables, closure, work, overlay, partition=partition, now=now)
            at = effects.items.index(closures[0]) + 1
            items = effects.items[:at] + extra + effects.items[at:]
            return Effects(items, effects.stepped, effects.passed_over)
        erased = _erasure(record, effects)
        if erased is None:
            return effects
        product, person = erased
        state = tables.impact(product)
        if state is None:
            return effects
        state = _copy(state)
        for closure in state["closures"].values():
            closure["askers"] = [p for p in closure["askers"] if p != person]
            closure["praise"] = {k: v for k, v in closure["praise"].items() if v["person"] != person}
        extra = self._evaluate(
            tables, product, state, _member_writes(effects), dirty=set(state["closures"]),
            partition=partition, now=now, force_write=True,
        )
        return Effects([*effects.items, *extra], effects.stepped, effects.passed_over)

    def after_suggestion(
        self, tables: ThemeTables, detected: SuggestionDetected, effects: Effects, *, partition: int,
        now: datetime,
    ) -> Effects:
        """What a placed suggestion changes: weeks that end by its time, weeks its late ask changes."""
        product = detected.comment.product
        stored = tables.impact(product)
        if stored is None or effects.passed_over:
            return Effects([])
        state = _copy(stored)
        at = detected.comment.created_at
        dirty = {cid for cid, closure in state["closures"].items() if _touches_published(closure, at)}
        state["seen"] = _later(state.get("seen"), at)
        return Effects(self._evaluate(
            tables, product, state, _member_writes(effects), dirty=dirty, partition=partition, now=now
        ))

    def after_tick(self, tables: ThemeTables, product: str, effects: Effects, *, partition: int,
                   now: datetime) -> Effects:
        """A time step: weeks ended by the event time seen, and changes a re-clustering made."""
        stored = tables.impact(product)
        if stored is None:
            return Effects([])
        state = _copy(stored)
        overlay = _member_writes(effects)  # a re-clustering that moved members may change figures
        dirty = set(state["closures"]) if overlay else set()
        return Effects(
            self._evaluate(tables, product, state, overlay, dirty=dirty, partition=partition, now=now)
        )

    def praise(
        self, tables: ThemeTables, praise: PraiseDetected, *, partition: int, now: datetime
    ) -> Effects:
        """A comment judged praise: kept for each closure it follows (its author asked in the theme
        before shipping, or it is in the theme's neighbourhood, within the 12 weeks); then the
        weeks it ends or changes.
        """
        comment = praise.comment
        stored = tables.impact(comment.product)
        if stored is None:
            return Effects(passed_over=f"praise {comment.key}: nothing of {comment.product} shipped")
        person = hash_author(comment.platform.value, comment.author_id)
        erased = tables.erased_at(comment.product, person)
        if erased is not None and comment.created_at <= _at(erased):
            return Effects(passed_over=f"praise {comment.key} of an erased author passed over")
        state = _copy(stored)
        vector = None if praise.embedding is None else np.asarray(praise.embedding, dtype=np.float64)
        dirty: set[str] = set()
        kept = False
        for closure_id, closure in state["closures"].items():
            cutoff = _at(closure["cutoff"])
            if week_after(comment.created_at, cutoff) is None or comment.key in closure["praise"]:
                continue
            asker = person in closure["askers"]
            if not asker:
                if vector is None:  # embedded here, once, only when the neighbourhood decides
                    vector = self._praise_vector(praise)
                if vector is None or not in_neighbourhood(
                    _cosine(vector, closure["centre"]), closure["threshold"]
                ):
                    continue
            if len(closure["praise"]) >= MAX_PRAISE:
                continue
            closure["praise"][comment.key] = {
                "person": person, "at": comment.created_at.isoformat(), "asker": asker
            }
            kept = True
            if _touches_published(closure, comment.created_at):
                dirty.add(closure_id)
        state["seen"] = _later(state.get("seen"), comment.created_at)
        return Effects(self._evaluate(
            tables, comment.product, state, {}, dirty=dirty, partition=partition, now=now, force_write=kept
        ))

    def _praise_vector(self, praise: PraiseDetected) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        """The vector of a praise comment's opening words (:func:`models.impact.praise_text`), as
        the classify stage embedded them before version 2 of the event; None without a model.
        """
        if self.embedder is None:
            return None
        return np.asarray(self.embedder.embed([praise_text(praise.comment)])[0], dtype=np.float64)

    def _register(
        self,
        tables: ThemeTables,
        closure: ClosureEvent,
        work: ProductWork,
        overlay: dict[str, dict[str, Any] | None],
        *,
        partition: int,
        now: datetime,
    ) -> list[Effect]:
        """Start following ``closure`` (once: a re-delivered command finds it followed)."""
        state = _copy(tables.impact(closure.product) or {"seen": None, "closures": {}})
        members = _product_members(tables, closure.product, overlay)
        if closure.closure_id not in state["closures"]:
            cutoff = closure.asked_by or closure.generated_at
            theme_ids = sorted({closure.theme_id, *closure.merged_theme_ids})
            asks = askers_of(members.values(), set(theme_ids))
            centre, threshold = _neighbourhood(work, closure.theme_id)
            state["closures"][closure.closure_id] = {
                "closure_id": closure.closure_id,
                "theme_id": closure.theme_id,
                "theme_ids": theme_ids,
                "title": closure.title,
                "release": closure.release.model_dump(mode="json") if closure.release else None,
                "cutoff": cutoff.isoformat(),
                "centre": centre,
                "threshold": threshold,
                "askers": sorted({
                    hash_author(m.platform.value, m.author_id) for m in asks if m.asked_at <= cutoff
                }),
                "praise": {},
                "published": {},
            }
        for raw in members.values():
            state["seen"] = _later(state.get("seen"), _at(str(raw["asked_at"])))
        return self._evaluate(
            tables, closure.product, state, overlay, dirty=set(), partition=partition, now=now,
            force_write=True,
        )

    def _evaluate(
        self,
        tables: ThemeTables,
        product: str,
        state: dict[str, Any],
        overlay: dict[str, dict[str, Any] | None],
        *,
        dirty: set[str],
        partition: int,
        now: datetime,
        force_write: bool = False,
    ) -> list[Effect]:
        """Publish the weeks ended by ``state["seen"]`` not published yet, and the published weeks of
        ``dirty`` closures whose figures changed; then store ``state`` (when anything changed).
        """
        seen = _at(state["seen"]) if state.get("seen") else None
        items: list[Effect] = []
        members: dict[str, dict[str, Any]] | None = None
        for closure_id, closure in sorted(state["closures"].items()):
            cutoff = _at(closure["cutoff"])
            ended = weeks_ended(cutoff, seen)
            published = closure["published"]
            weeks = [k for k in range(1, ended + 1) if str(k) not in published]
            if closure_id in dirty:
                weeks = sorted({*weeks, *(int(k) for k in published)})
            if not weeks:
                continue
            if members is None:
                members = _product_members(tables, product, overlay)
            asks = [
                Ask(m.asked_at, hash_author(m.platform.value, m.author_id))
                for m in askers_of(members.values(), set(closure["theme_ids"]))
            ]
            praise = [Praise(_at(p["at"]), p["person"], bool(p["asker"])) for p in closure["praise"].values()]
            for week in weeks:
                figures = week_figures(asks, praise, cutoff=cutoff, week=week).to_dict()
                last = published.get(str(week))
                if last is not None and last["figures"] == figures:
                    continue
                version = 1 if last is None else int(last["version"]) + 1
                published[str(week)] = {"version": version, "figures": figures}
                items.append(_impact_emit(product, closure, week, version, figures, partition, now=now))
        if items or force_write:
            items.append(set_state(impact_key(product), state))
        return items


def _impact_emit(
    product: str, closure: dict[str, Any], week: int, version: int, figures: dict[str, Any],
    partition: int, *, now: datetime,
) -> Emit:
    cutoff = _at(closure["cutoff"])
    start, end = week_bounds(cutoff, week)
    event = ClosureImpact(
        closure_id=closure["closure_id"],
        product=product,
        theme_id=closure["theme_id"],
        title=closure["title"],
        release=closure["release"],
        shipped_at=cutoff,
        week=week,
        week_start=start,
        week_end=end,
        version=version,
        computed_at=now,
        **figures,
    )
    key = f"{closure['closure_id']}:{week}"
    return Emit(
        CLOSURE_IMPACT,
        key,
        event,
        partition=partition,
        once=True,
        ledger_key=f"{key}#v{version}",
        log=f"impact {key} v{version}: asks per week {event.asks_before_per_week} before, "
        f"{event.asks_after_per_week} after; follow-up praise {event.follow_up_praise}",
    )


def ledger_entry(key: bytes, value: bytes | None) -> str:
    """What the ledger of ``feedback.closure-impact`` remembers of a record: ``key#v<version>``
    (a record that is not a readable impact, e.g. a tombstone: its key alone).
    """
    text = key.decode("utf-8", "replace")
    try:
        version = json.loads(value or b"null")["version"]
    except (ValueError, TypeError, KeyError):
        return text
    return f"{text}#v{version}"


def _touches_published(closure: dict[str, Any], at: datetime) -> bool:
    """Whether a record written at ``at`` falls in what a published week of ``closure`` counted
    (the 26 weeks before the cut-off, or a published week after it).
    """
    published = closure["published"]
    if not published:
        return False
    cutoff = _at(closure["cutoff"])
    last_end = week_bounds(cutoff, max(int(k) for k in published))[1]
    return cutoff - WEEKS_BEFORE * WEEK < at <= last_end


def _neighbourhood(work: ProductWork, theme_id: str) -> tuple[list[float] | None, float | None]:
    """The theme's unit centre and its neighbourhood threshold (the lowest decile of its sampled
    members' cosines to the centre); ``(None, None)`` when the theme has no vectors in ``work``.
    """
    record = work.themes.themes.get(theme_id)
    if record is None:
        return None, None
    vectors = [m.vector for m in record.members]
    if not vectors:
        return None, None
    centre = record.centroid()
    spread = ThemeSpread.of(l2_normalize(np.asarray(vectors, dtype=np.float32)), centre)
    return [round(float(x), 6) for x in centre], round(spread.low, 4)


def _cosine(vector: np.ndarray[Any, np.dtype[np.float64]], centre: list[float] | None) -> float:
    """The cosine of ``vector`` to a unit ``centre`` (-1.0 when there is no centre)."""
    if centre is None:
        return -1.0
    if len(centre) != len(vector):
        raise ValueError(f"a praise embedding of {len(vector)} dimensions against a theme of {len(centre)}")
    norm = float(np.linalg.norm(vector))
    return float(vector @ np.asarray(centre, dtype=np.float64)) / norm if norm > 0 else -1.0


def _member_writes(effects: Effects) -> dict[str, dict[str, Any] | None]:
    """The member records a step writes (None: removed), by suggestion id."""
    writes = (w for w in effects.writes() if w.table == MEMBERS)
    return {w.key: None if w.value is None else member_record(w.value) for w in writes}


def _product_members(
    tables: ThemeTables, product: str, overlay: dict[str, dict[str, Any] | None]
) -> dict[str, dict[str, Any]]:
    """``product``'s member records by suggestion id: the table's, overlaid with ``overlay``."""
    members = {raw["suggestion_id"]: raw for raw in tables.members() if raw.get("product") == product}
    for suggestion_id, raw in overlay.items():
        if raw is None:
            members.pop(suggestion_id, None)
        elif raw.get("product") == product:
            members[suggestion_id] = raw
    return members


def _erasure(record: RawRecord, effects: Effects) -> tuple[str, str] | None:
    """``(product, author hash)`` when ``record`` is an accepted erasure, else None."""
    try:
        command = ThemeCommand.model_validate_json(record.value)
    except ValidationError:
        return None
    if command.kind is not CommandKind.ERASE_AUTHOR or command.author_hash is None:
        return None
    accepted = any(
        isinstance(e.value, CommandOutcome) and e.value.accepted for e in effects.emits(THEME_OUTCOMES)
    )
    return (command.product, command.author_hash) if accepted else None


def _later(stored: str | None, at: datetime) -> str:
    """The later of an ISO time (or None) and ``at``, as ISO."""
    return at.isoformat() if stored is None or at > _at(stored) else stored


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON-shaped state record (the service never changes what the table holds)."""
    return _deep(state)  # type: ignore[no-any-return]


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep(v) for v in value]
    return value

