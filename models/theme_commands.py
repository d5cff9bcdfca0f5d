"""A product manager's command applied to one product: lifecycle, clustering and closure, as data.

:func:`apply_theme_command` is what the themes agent runs for each :class:`ThemeCommand`:

1. the lifecycle learns the clustering's themes and merges (:func:`sync_lifecycle`);
2. the command becomes one or more lifecycle commands (a ``set_status`` to ``shipped`` with a
   release attaches it first) applied together: all accepted, or the whole command rejected;
3. a merge or split also changes the clustering (counts, samples, labels) through
   :func:`~models.themes.workflow.merge_themes` / :func:`~models.themes.workflow.split_theme`;
4. :func:`~models.lifecycle.closure_due` says whether a closure is owed.

Nothing here touches Kafka: the caller publishes the closure first, then stores the state,
so that a crash in between re-derives the same closure key and the closure ledger skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from contracts.events import (
    CostInput,
    LifecycleStatus,
    ReleaseRef,
    ScoreFactor,
    SuggestionThemed,
    ThemeScore,
)
from contracts.lifecycle import (
    ClosureEvent,
    CommandKind,
    CommandOutcome,
    HistoryChange,
    MonthlyItem,
    MonthlyUpdate,
    ThemeCommand,
)
from models.closure import (
    Asker,
    ClosureContent,
    ClosureTemplates,
    ClosureTheme,
    CommentRef,
    Person,
    build_closure,
    monthly_update,
)
from models.dates import month_label
from models.lifecycle import (
    AnyCommand,
    AttachRelease,
    ClosureTrigger,
    CommandApplied,
    CommandRefused,
    Decision,
    HistoryEntry,
    Merge,
    ReleaseInfo,
    SetCost,
    SetStatus,
    Split,
    ThemeLifecycle,
    ThemeState,
    apply_command,
    closure_due,
    follow_merge,
    register_theme,
)
from models.scoring import (
    DEFAULT_RULES,
    DEFAULT_WEIGHTS,
    CostEstimate,
    QuadrantRules,
    ScoreBreakdown,
    ScoringWeights,
    ThemeDemand,
    TShirtSize,
    score_theme,
)
from models.themes.engine import ThemeEngine
from models.themes.records import Suggestion, ThemeRecord
from models.themes.workflow import ProductWork, StepResult, merge_themes, split_theme

logger = logging.getLogger(__name__)

CLUSTERING_ACTOR = "clustering"


def release_info(release: ReleaseRef) -> ReleaseInfo:
    """The domain form of a release reference."""
    return ReleaseInfo(
        name=release.name, version=release.version, date=release.date, link=release.link, note=release.note
    )


def release_ref(release: ReleaseInfo | None) -> ReleaseRef | None:
    """The contract form of a release (None stays None)."""
    if release is None:
        return None
    return ReleaseRef(
        name=release.name, version=release.version, date=release.date, link=release.link, note=release.note
    )


def cost_estimate(cost: CostInput) -> CostEstimate:
    """The domain form of a cost estimate."""
    return CostEstimate(size=TShirtSize(cost.size.value) if cost.size else None, points=cost.points)


def cost_input(cost: CostEstimate) -> CostInput | None:
    """The contract form of a cost estimate; None when unknown."""
    if not cost.known:
        return None
    return CostInput.model_validate({"size": cost.size.value if cost.size else None, "points": cost.points})


def domain_commands(command: ThemeCommand) -> list[AnyCommand]:
    """The lifecycle commands one :class:`ThemeCommand` stands for, in the order they apply."""
    cid, tid, actor, why, at = (
        command.command_id, command.theme_id, command.actor, command.reason, command.issued_at
    )
    kind = command.kind
    if kind is CommandKind.SET_STATUS:
        assert command.status is not None  # the contract's validator
        steps: list[AnyCommand] = []
        if command.release is not None and command.status is LifecycleStatus.SHIPPED:
            steps.append(AttachRelease(command_id=f"{cid}/release", theme_id=tid, actor=actor, reason=why,
                                       issued_at=at, release=release_info(command.release)))
        status = LifecycleStatus(command.status.value)
        steps.append(
            SetStatus(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at, status=status)
        )
        return steps
    if kind is CommandKind.SET_COST:
        assert command.cost is not None
        return [SetCost(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                        cost=cost_estimate(command.cost))]
    if kind is CommandKind.ATTACH_RELEASE:
        assert command.release is not None
        return [AttachRelease(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                              release=release_info(command.release))]
    if kind is CommandKind.MERGE:
        return [Merge(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                      source_ids=tuple(command.source_ids))]
    parts = tuple((part.new_theme_id, tuple(part.member_ids)) for part in command.parts)
    return [Split(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at, parts=parts)]


def sync_lifecycle(lifecycle: ThemeLifecycle, work: ProductWork, *, now: datetime) -> ThemeLifecycle:
    """Track every live theme of the clustering and follow the merges it made."""
    for theme_id in work.themes.themes:
        lifecycle = register_theme(lifecycle, theme_id=theme_id)
    for theme_id, lineage in work.lineage.items():
        known = lifecycle.themes.get(theme_id)
        if lineage.merged_into is not None and (known is None or known.merged_into is None):
            lifecycle = follow_merge(lifecycle, old_id=theme_id, new_id=lineage.merged_into, now=now)
    return lifecycle


def history_change(theme_id: str, entry: HistoryEntry) -> HistoryChange:
    """The contract form of one history entry of ``theme_id``."""
    detail = ", ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
    return HistoryChange(
        theme_id=theme_id, kind=entry.kind, from_status=LifecycleStatus(entry.from_status.value),
        to_status=LifecycleStatus(entry.to_status.value), actor=entry.actor, reason=entry.reason,
        detail=detail, at=entry.at, issued_at=entry.issued_at,
    )


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
    split_members: list[tuple[str, list[Suggestion | str]]] = []
    if command.kind is CommandKind.SPLIT:
        found = _split_members(work, command, member_of)
        if isinstance(found, str):
            return CommandResult(lifecycle, reject(command, "member_not_in_theme", found, now=now))
        split_members = found
    before = lifecycle
    state = lifecycle
    outcome: Decision | None = None
    for step_command in domain_commands(command):
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
    closure = closure_due(before, state)
    changed = {tid for tid, record in state.themes.items() if before.themes.get(tid) != record}
    for merged_id, into_id in step.merged.items():
        step.changed.setdefault(into_id, command.kind.value)
        changed.add(merged_id)
    for theme_id in changed:
        if theme_id in work.themes.themes:
            step.changed.setdefault(theme_id, command.kind.value)
    return CommandResult(state, _outcome(command, accepted, state, now, closure), step, closure, changed)


def _split_members(
    work: ProductWork, command: ThemeCommand, member_of: Callable[[str], SuggestionThemed | None]
) -> list[tuple[str, list[Suggestion | str]]] | str:
    """Each part's members (held ids or stand-ins), or why the split cannot apply."""
    theme = work.themes.themes.get(command.theme_id)
    if theme is None:
        return f"Theme {command.theme_id!r} is not a live theme of {work.themes.product!r}."
    held = {m.suggestion_id for m in (*theme.sample, *theme.provisional)}
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
                ))
            else:
                return f"Suggestion {member_id!r} is not a member of theme {command.theme_id!r}."
        if not any(isinstance(item, str) for item in items):
            return (f"Part {part.new_theme_id!r} has none of the theme's sampled members, so its meaning is "
                    "unknown to the clustering; include at least one suggestion shown in the theme's sample.")
        parts.append((part.new_theme_id, items))
    return parts


def engagement_of(record: SuggestionThemed) -> int:
    """Likes + replies + shares of a member's comment (0 when the platform reports none)."""
    engagement = record.engagement
    if engagement is None:
        return 0
    return sum(v or 0 for v in (engagement.likes, engagement.replies, engagement.shares))


def theme_score(
    record: ThemeRecord,
    cost: CostEstimate,
    *,
    now: datetime,
    weights: ScoringWeights = DEFAULT_WEIGHTS,
    rules: QuadrantRules = DEFAULT_RULES,
) -> ThemeScore:
    """The score of a live theme from its demand and its cost estimate."""
    demand = ThemeDemand(
        theme_id=record.theme_id, distinct_authors=record.authors.count(), mentions=record.mention_count,
        weekly_counts=dict(record.weeks), total_engagement=record.engagement, negative_share=None,
        urgent_mentions=0, as_of=now,
    )
    return score_view(score_theme(demand, cost=cost, weights=weights, rules=rules))


def score_view(breakdown: ScoreBreakdown) -> ThemeScore:
    """The contract form of a score breakdown."""
    return ThemeScore(
        formula_version=breakdown.formula_version, impact=breakdown.impact, priority=breakdown.priority,
        cost_points_used=breakdown.cost_points_used, cost_normalized=breakdown.cost_normalized,
        cost_assumed=breakdown.cost_assumed, quadrant=breakdown.quadrant, hot_plan=breakdown.hot_plan,
        high_impact_threshold=breakdown.high_impact_threshold,
        factors=[ScoreFactor(name=f.name, raw=f.raw, normalized=f.normalized, weight=f.weight,
                             contribution=f.contribution, note=f.note) for f in breakdown.factors],
        notes=list(breakdown.notes), as_of=breakdown.as_of,
    )


def person_of(record: SuggestionThemed) -> Person:
    """The ask of one member record: who, and the original comment to reply under."""
    return Person(
        platform=record.platform, author_id=record.author_id, handle=record.author_handle,
        comment_id=record.comment_id, comment_url=record.url, thread_id=record.thread_id or record.comment_id,
        asked_at=record.asked_at,
    )


def closure_event(
    trigger: ClosureTrigger,
    *,
    product: str,
    title: str,
    members: Iterable[SuggestionThemed],
    templates: ClosureTemplates,
    command_id: str,
    now: datetime,
) -> ClosureEvent:
    """The closure for ``trigger``: everyone among ``members`` (the caller passes the members of
    the theme and of every theme merged into it, duplicates included) and the texts.
    """
    content = build_closure(
        theme=ClosureTheme(theme_id=trigger.theme_id, product=product, title=title, outcome=trigger.outcome,
                           reason=trigger.reason),
        people=[person_of(record) for record in members], release=trigger.release, templates=templates,
        now=now, closure_id=trigger.closure_key,
    )
    return closure_event_of(content, merged_theme_ids=trigger.merged_theme_ids, command_id=command_id)


def closure_event_of(
    content: ClosureContent, *, merged_theme_ids: Iterable[str], command_id: str
) -> ClosureEvent:
    """The contract form of a closure's content."""
    data = content.to_dict()
    data["release"] = release_ref(content.release)
    return ClosureEvent.model_validate(
        {**data, "merged_theme_ids": list(merged_theme_ids), "command_id": command_id}
    )


def lifecycle_of(states: Mapping[str, Mapping[str, Any]]) -> ThemeLifecycle:
    """A lifecycle from stored per-theme records (``ThemeState.to_dict`` values)."""
    themes = {tid: ThemeState.from_dict(data) for tid, data in states.items()}
    return ThemeLifecycle(themes=themes)


def closure_content_of(event: ClosureEvent) -> ClosureContent:
    """The domain form of a published closure (for the monthly update)."""
    return ClosureContent(
        closure_id=event.closure_id,
        closure_key=event.closure_key,
        theme=ClosureTheme(theme_id=event.theme_id, product=event.product, title=event.title,
                           outcome=event.outcome, reason=event.reason),
        release=release_info(event.release) if event.release else None,
        people=tuple(
            Asker(asker.platform, asker.author_id, asker.handle, tuple(
                CommentRef(c.comment_id, c.comment_url, c.thread_id, c.asked_at) for c in asker.comments
            ))
            for asker in event.people
        ),
        public_posts=(),
        replies=(),
        generated_at=event.generated_at,
        templates=event.templates,
    )


def monthly_update_event(
    closures: Iterable[ClosureEvent], *, product: str, month: str, templates: ClosureTemplates, now: datetime
) -> MonthlyUpdate:
    """"What we shipped in ``month``" for ``product``: its shipped closures generated that month (UTC)."""
    chosen = [
        closure_content_of(c) for c in closures
        if c.product == product and c.outcome == "shipped"
        and month_label(c.generated_at) == month
    ]
    content = monthly_update(chosen, month=month, templates=templates)
    return MonthlyUpdate(
        product=product,
        month=content.month,
        items=[MonthlyItem(theme_id=i.theme_id, title=i.title, people_count=i.people_count,
                           release=release_ref(i.release)) for i in content.items],
        releases=[ref for r in content.releases if (ref := release_ref(r)) is not None],
        distinct_people=content.distinct_people,
        text=content.text,
        published_at=now,
    )
