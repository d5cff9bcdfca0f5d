"""A product manager's command applied to one product: lifecycle, clustering and closure, as data.

:func:`apply_theme_command` is what the themes agent runs for each :class:`ThemeCommand`:

1. the lifecycle learns the clustering's themes and merges (:func:`sync_lifecycle`);
2. the command becomes one or more lifecycle commands (a ``set_status`` to ``shipped`` with a
   release attaches it first) applied together: all accepted, or the whole command rejected;
3. a merge or split also changes the clustering (counts, samples, labels) through
   :func:`~models.themes.workflow.merge_themes` / :func:`~models.themes.workflow.split_theme`,
   a rename the theme's title, a ``keep_apart`` the pairs no re-cluster merges;
4. :func:`~models.lifecycle.closure_due` says whether a closure is owed.

Nothing here touches Kafka: the caller publishes the closure first, then stores the state,
so that a crash in between re-derives the same closure key and the closure ledger skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from contracts.events import (
    SuggestionThemed,
)
from contracts.impact import ClosureImpact
from contracts.lifecycle import (
    ClosureAsker,
    ClosureEvent,
    CommandKind,
    CommandOutcome,
    HistoryChange,
    MonthlyItem,
    MonthlyUpdate,
    ThemeCommand,
)
from models.closure import (
    ClosureTemplates,
    monthly_update,
)
from models.dates import month_label
from models.impact import impact_sentences
from models.lifecycle import (
    ClosureTrigger,
    CommandApplied,
    CommandRefused,
    Decision,
    HistoryEntry,
    ThemeLifecycle,
    apply_command,
    closure_due,
    follow_merge,
    register_theme,
)
from models.theme_mapping import (
    closure_content_of,
    domain_commands,
    engagement_of,
    history_change,
    release_ref,
    tone_of,
)
from models.themes.engine import ThemeEngine
from models.themes.records import Member, Suggestion
from models.themes.workflow import ProductWork, StepResult, merge_themes, place_ask, split_theme

logger = logging.getLogger(__name__)


def sync_lifecycle(lifecycle: ThemeLifecycle, work: ProductWork, *, now: datetime) -> ThemeLifecycle:
    """Track every live theme of the clustering and follow the merges it made."""
    for theme_id in work.themes.themes:
        lifecycle = register_theme(lifecycle, theme_id=theme_id)
    for theme_id, lineage in work.lineage.items():
        known = lifecycle.themes.get(theme_id)
        if lineage.merged_into is not None and (known is None or known.merged_into is None):
            lifecycle = follow_merge(lifecycle, old_id=theme_id, new_id=lineage.merged_into, now=now)
    return lifecycle


@dataclass
class CommandResult:
    """What one command did. ``changed`` lists the themes whose lifecycle changed."""

    lifecycle: ThemeLifecycle
    outcome: CommandOutcome
    step: StepResult = field(default_factory=StepResult)
    closure: ClosureTrigger | None = None
    changed: set[str] = field(default_factory=set)


def _outcome(command: ThemeCommand, outcome: Decision, lifecycle: ThemeLifecycle, now: datetime,
             closure: ClosureTrigger | None) -> CommandOutcome:
    changes: list[HistoryChange] = []
    if isinstance(outcome, CommandApplied):
        for entry in outcome.entries:
            owner = next(
                (tid for tid, theme in lifecycle.themes.items() if entry in theme.history), command.theme_id
            )
            changes.append(history_change(owner, entry))
    return CommandOutcome(
        command_id=command.command_id, product=command.product, theme_id=command.theme_id, kind=command.kind,
        accepted=isinstance(outcome, CommandApplied),
        code=outcome.code if isinstance(outcome, CommandRefused) else None,
        message=outcome.message if isinstance(outcome, CommandRefused) else None,
        changes=changes, closure_key=closure.closure_key if closure else None, decided_at=now,
    )


def reject(command: ThemeCommand, code: str, message: str, *, now: datetime) -> CommandOutcome:
    """A rejection decided before the lifecycle saw the command (wrong product, unknown members)."""
    return CommandOutcome(
        command_id=command.command_id, product=command.product, theme_id=command.theme_id, kind=command.kind,
        accepted=False, code=code, message=message, decided_at=now,
    )


def apply_theme_command(
    work: ProductWork,
    lifecycle: ThemeLifecycle,
    command: ThemeCommand,
    *,
    engine: ThemeEngine,
    member_of: Callable[[str], SuggestionThemed | None],
    now: datetime,
) -> CommandResult:
    """Apply ``command`` to one product's clustering ``work`` and ``lifecycle``.

    ``member_of`` answers the member record of a suggestion id (the agent's members table).
    ``work`` is changed in place only when the command is accepted.
    """
    lifecycle = sync_lifecycle(lifecycle, work, now=now)
    previous = lifecycle.outcomes.get(command.command_id)
    if previous is not None:
        logger.info("command %s seen before; its first outcome stands", command.command_id)
        return CommandResult(lifecycle, _outcome(command, previous, lifecycle, now, None))
    if command.product != work.themes.product:
        return CommandResult(lifecycle, reject(command, "wrong_product",
                                               f"Theme commands of {command.product!r} reached "
                                               f"{work.themes.product!r}.", now=now))
    record = work.themes.themes.get(command.theme_id)
    if command.kind is CommandKind.RENAME and record is not None and record.name == (command.title or ""):
        message = f"Theme {command.theme_id!r} already has this title."
        return CommandResult(lifecycle, reject(command, "no_change", message, now=now))
    split_members: list[tuple[str, list[Suggestion | str]]] = []
    if command.kind is CommandKind.SPLIT:
        found = _split_members(work, command, member_of)
        if isinstance(found, str):
            return CommandResult(lifecycle, reject(command, "member_not_in_theme", found, now=now))
        split_members = found
    placing: tuple[Member | Suggestion, str | None] | None = None
    if command.kind is CommandKind.PLACE:
        located = _placed_member(work, command, member_of)
        if isinstance(located, _Refused):
            return CommandResult(lifecycle, reject(command, located.code, located.message, now=now))
        placing = located
    before = lifecycle
    state = lifecycle
    outcome: Decision | None = None
    for step_command in domain_commands(command, from_theme=placing[1] if placing else None):
        state, outcome = apply_command(state, step_command, now)
        if isinstance(outcome, CommandRefused):
            break
    assert outcome is not None
    if isinstance(outcome, CommandRefused):
        rejected = CommandRefused(command.command_id, outcome.code, outcome.message)
        kept = replace(before, outcomes={**before.outcomes, command.command_id: rejected})
        return CommandResult(kept, _outcome(command, rejected, kept, now, None))
    entries: list[HistoryEntry] = []
    for theme_id, theme in state.themes.items():
        old = before.themes.get(theme_id)
        entries.extend(theme.history[len(old.history) if old else 0:])
    accepted = CommandApplied(command.command_id, tuple(entries))
    state = replace(state, outcomes={**before.outcomes, command.command_id: accepted})
    step = StepResult()
    if command.kind is CommandKind.MERGE:
        live = tuple(s for s in command.source_ids if s in work.themes.themes)
        if live and command.theme_id in work.themes.themes:
            step = merge_themes(work, engine=engine, source_ids=live, into_id=command.theme_id, now=now)
    elif command.kind is CommandKind.SPLIT and command.theme_id in work.themes.themes:
        step = split_theme(work, engine=engine, theme_id=command.theme_id, parts=split_members, now=now)
    elif command.kind is CommandKind.RENAME and record is not None:
        record.name = command.title or ""
    elif command.kind is CommandKind.KEEP_APART:
        engine.keep_apart(work.themes, theme_id=command.theme_id, other_ids=tuple(command.source_ids))
    elif placing is not None and command.theme_id in work.themes.themes:
        member, from_theme = placing
        step = place_ask(work, engine=engine, theme_id=command.theme_id, member=member,
                         from_theme=from_theme, now=now)
    closure = closure_due(before, state)
    changed = {tid for tid, record in state.themes.items() if before.themes.get(tid) != record}
    for merged_id, into_id in step.merged.items():
        step.changed.setdefault(into_id, command.kind.value)
        changed.add(merged_id)
    for theme_id in changed:
        if theme_id in work.themes.themes:
            step.changed.setdefault(theme_id, command.kind.value)
    return CommandResult(state, _outcome(command, accepted, state, now, closure), step, closure, changed)


@dataclass(frozen=True)
class _Refused:
    code: str
    message: str


def _placed_member(
    work: ProductWork, command: ThemeCommand, member_of: Callable[[str], SuggestionThemed | None]
) -> tuple[Member | Suggestion, str | None] | _Refused:
    """The ask a ``place`` moves and the theme holding it now (None: in no theme), or a refusal's
    code and message: an ask unknown to the product, a repeat (counted with what it repeats:
    place that one), or one already in the theme.
    """
    sid = command.suggestion_id
    assert sid is not None  # the contract's validator
    where = work.themes.locate(sid)
    if where == "pool":
        return work.themes.pool[sid], None
    record = member_of(sid)
    if where is None and (record is None or record.product != work.themes.product):
        return _Refused("unknown_suggestion", f"No ask {sid!r} of {work.themes.product!r} is known.")
    if where is None and record is not None and record.duplicate_kind == "exact":
        return _Refused("repeat", f"Ask {sid!r} repeats {record.duplicate_of!r} word for word and is counted "
                                  f"with it; place {record.duplicate_of!r} instead.")
    holder = where if where is not None else (record.theme_id if record is not None else None)
    if holder == command.theme_id:
        return _Refused("no_change", f"Ask {sid!r} is in theme {command.theme_id!r} already.")
    if where is not None:
        held = next(m for m in work.themes.themes[where].members if m.suggestion_id == sid)
        return held, where
    assert record is not None
    if holder is None or holder not in work.themes.themes:
        message = f"Ask {sid!r} is in no live theme and not among the asks in no theme."
        return _Refused("unknown_suggestion", message)
    return Suggestion(
        suggestion_id=sid, product=record.product, author_key=f"{record.platform.value}:{record.author_id}",
        platform=record.platform.value, created_at=record.asked_at, text=record.text,
        vector=np.zeros(work.themes.dim, dtype=np.float32), engagement=engagement_of(record),
        tone=tone_of(record),
    ), holder


def _split_members(
    work: ProductWork, command: ThemeCommand, member_of: Callable[[str], SuggestionThemed | None]
) -> list[tuple[str, list[Suggestion | str]]] | str:
    """Each part's members (held ids or stand-ins), or why the split cannot apply."""
    theme = work.themes.themes.get(command.theme_id)
    if theme is None:
        return f"Theme {command.theme_id!r} is not a live theme of {work.themes.product!r}."
    held = {m.suggestion_id for m in theme.members}
    centroid = theme.centroid()
    parts: list[tuple[str, list[Suggestion | str]]] = []
    for part in command.parts:
        items: list[Suggestion | str] = []
        for member_id in part.member_ids:
            record = member_of(member_id)
            if member_id in held:
                items.append(member_id)
            elif record is not None and record.theme_id == command.theme_id:
                items.append(Suggestion(
                    suggestion_id=member_id, product=record.product,
                    author_key=f"{record.platform.value}:{record.author_id}", platform=record.platform.value,
                    created_at=record.asked_at, text=record.text,
                    vector=np.asarray(centroid, dtype=np.float32), engagement=engagement_of(record),
                    tone=tone_of(record),
                ))
            else:
                return f"Suggestion {member_id!r} is not a member of theme {command.theme_id!r}."
        if not any(isinstance(item, str) for item in items):
            return (f"Part {part.new_theme_id!r} has none of the theme's sampled members, so its meaning is "
                    "unknown to the clustering; include at least one suggestion shown in the theme's sample.")
        parts.append((part.new_theme_id, items))
    return parts


def monthly_update_event(
    closures: Iterable[ClosureEvent],
    *,
    product: str,
    month: str,
    templates: ClosureTemplates,
    now: datetime,
    impacts: Iterable[ClosureImpact] = (),
) -> MonthlyUpdate:
    """"What we shipped in ``month``" for ``product``: its shipped closures generated that month (UTC);
    with ``impacts`` (``feedback.closure-impact``), the text also says how the asking changed
    after what shipped in earlier months (:func:`models.impact.impact_sentences`).

    A follow-up closure (``follow_up_of``: people a product manager added after shipping) ships
    nothing of its own: its people count with the closure it follows, in that closure's month.
    """
    shipped = [c for c in closures if c.product == product and c.outcome == "shipped"]
    added: dict[str, list[ClosureAsker]] = {}
    for c in shipped:
        if c.follow_up_of is not None:
            added.setdefault(c.follow_up_of, []).extend(c.people)
    chosen = [
        closure_content_of(c.model_copy(update={"people": [*c.people, *added.get(c.closure_key, [])]}))
        for c in shipped
        if c.follow_up_of is None and month_label(c.generated_at) == month
    ]
    content = monthly_update(chosen, month=month, templates=templates)
    return MonthlyUpdate(
        product=product,
        month=content.month,
        items=[MonthlyItem(theme_id=i.theme_id, title=i.title, people_count=i.people_count,
                           release=release_ref(i.release)) for i in content.items],
        releases=[ref for r in content.releases if (ref := release_ref(r)) is not None],
        distinct_people=content.distinct_people,
        text=with_impact(content.text, impact_sentences(impacts, product=product, month=month)),
        published_at=now,
    )


def with_impact(text: str, sentences: list[str]) -> str:
    """A monthly update's ``text`` followed by how asking changed after earlier releases."""
    if not sentences:
        return text
    lines = [text, "", "How the asking changed after what shipped before:", *(f"- {s}" for s in sentences)]
    return "\n".join(lines)
