"""Contracts to domain and back, in one place: what the themes agent reads and publishes.

The wire forms (:mod:`contracts.events`, :mod:`contracts.lifecycle`) and the domain forms
(:mod:`models.lifecycle`, :mod:`models.scoring`, :mod:`models.closure`, :mod:`models.themes`)
meet only here: a command becomes lifecycle commands, a member record becomes an
:class:`~models.themes.people.Ask`, a theme record becomes its :class:`ThemeChanged` snapshot,
a detected suggestion becomes a :class:`Suggestion` and, once placed, its
:class:`SuggestionThemed` record; a closure trigger becomes its :class:`ClosureEvent`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from pydantic import ValidationError

from contracts.events import (
    CostInput,
    DuplicateKind,
    Engagement,
    LifecycleStatus,
    ReleaseRef,
    ScoreFactor,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
    ThemeScore,
    ThemeStatus,
)
from contracts.lifecycle import (
    ClosureAskJudged,
    ClosureEvent,
    CommandKind,
    CommandOutcome,
    HistoryChange,
    ThemeCommand,
    hash_author,
)
from models.closure import (
    Asker,
    ClosureContent,
    ClosureTemplates,
    ClosureTheme,
    CommentRef,
    Person,
    build_closure,
)
from models.closure_selection import Verdict
from models.lifecycle import (
    AnyCommand,
    AttachRelease,
    ClosureTrigger,
    HistoryEntry,
    KeepApart,
    Merge,
    Place,
    ReleaseInfo,
    Rename,
    SetCost,
    SetStatus,
    Split,
    ThemeLifecycle,
    ThemeState,
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
from models.themes.agreement import disagreement
from models.themes.closure_askers import AskerSelection
from models.themes.people import Ask
from models.themes.records import Suggestion, ThemeRecord
from models.themes.workflow import Lineage, Placement
from models.tone import Tone


class RawRecord(Protocol):
    """An input record as read from a topic: where it was and its raw bytes."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes: ...


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


def domain_commands(command: ThemeCommand, *, from_theme: str | None = None) -> list[AnyCommand]:
    """The lifecycle commands one :class:`ThemeCommand` stands for, in the order they apply
    (``from_theme``: for a ``place``, the theme that holds the ask now, None for none).
    """
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
    if kind is CommandKind.RENAME:
        return [Rename(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                       title=command.title or "")]
    if kind is CommandKind.PLACE:
        assert command.suggestion_id is not None  # the contract's validator
        return [Place(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                      suggestion_id=command.suggestion_id, from_theme=from_theme)]
    if kind is CommandKind.KEEP_APART:
        return [KeepApart(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at,
                          other_ids=tuple(command.source_ids))]
    parts = tuple((part.new_theme_id, tuple(part.member_ids)) for part in command.parts)
    return [Split(command_id=cid, theme_id=tid, actor=actor, reason=why, issued_at=at, parts=parts)]


def history_change(theme_id: str, entry: HistoryEntry) -> HistoryChange:
    """The contract form of one history entry of ``theme_id``."""
    detail = ", ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
    return HistoryChange(
        theme_id=theme_id, kind=entry.kind, from_status=LifecycleStatus(entry.from_status.value),
        to_status=LifecycleStatus(entry.to_status.value), actor=entry.actor, reason=entry.reason,
        detail=detail, at=entry.at, issued_at=entry.issued_at,
    )


def lifecycle_of(states: Mapping[str, Mapping[str, Any]]) -> ThemeLifecycle:
    """A lifecycle from stored per-theme records (``ThemeState.to_dict`` values)."""
    themes = {tid: ThemeState.from_dict(data) for tid, data in states.items()}
    return ThemeLifecycle(themes=themes)


def engagement_total(engagement: Engagement | None) -> int:
    """Likes + replies + shares of a comment (0 when the platform reports none)."""
    if engagement is None:
        return 0
    return sum(v or 0 for v in (engagement.likes, engagement.replies, engagement.shares))


def engagement_of(record: SuggestionThemed) -> int:
    """Likes + replies + shares of a member's comment (0 when the platform reports none)."""
    return engagement_total(record.engagement)


def tone_of(record: SuggestionThemed) -> Tone:
    """How a member's ask was made: its comment's words and store rating."""
    return Tone.of(record.comment_text, record.rating)


def ask_of(record: SuggestionThemed) -> Ask:
    """The state's view of a member record."""
    return Ask(
        suggestion_id=record.suggestion_id,
        theme_id=record.theme_id,
        author_hash=hash_author(record.platform.value, record.author_id),
        platform=record.platform.value,
        asked_at=record.asked_at,
        text=record.text,
        engagement=engagement_of(record),
        duplicate_of=record.duplicate_of,
        exact=record.duplicate_kind is DuplicateKind.EXACT,
        tone=tone_of(record),
    )


def theme_score(
    record: ThemeRecord,
    cost: CostEstimate,
    *,
    now: datetime,
    weights: ScoringWeights = DEFAULT_WEIGHTS,
    rules: QuadrantRules = DEFAULT_RULES,
    agreement: float | None = None,
) -> ThemeScore:
    """The score of a live theme from its demand, its cost estimate and, when measured, its
    ``agreement`` (:func:`theme_agreement`: a mixed theme's people count at its share).
    """
    demand = ThemeDemand(
        theme_id=record.theme_id, distinct_authors=record.authors.count(), mentions=record.mention_count,
        weekly_counts=dict(record.weeks), total_engagement=record.engagement,
        negative_share=record.tone.negative_share, rated_mentions=record.tone.rated,
        urgent_mentions=min(record.tone.urgent, record.mention_count), as_of=now, agreement=agreement,
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


def theme_snapshot(
    record: ThemeRecord,
    lineage: Lineage,
    *,
    change: str,
    now: datetime,
    status: ThemeStatus = ThemeStatus.ACTIVE,
    life: ThemeState | None = None,
    weights: ScoringWeights | None = None,
    found_threshold: float | None = None,
) -> ThemeChanged:
    """The public snapshot of one theme record, with its lifecycle and (if live) its score.

    ``status`` is the clustering's view: ``active``, ``emerging`` (a live theme still small) or
    ``merged``. With ``found_threshold`` (the level a theme is founded at) a live theme's
    ``agreement`` is measured on the members it holds with their vectors, and its score counts
    its people by it (:mod:`models.scoring`).
    """
    life = life or ThemeState(theme_id=record.theme_id)
    merged = status is ThemeStatus.MERGED
    lifecycle_status = LifecycleStatus.MERGED if merged else LifecycleStatus(life.status.value)
    agreement = None if merged or found_threshold is None else theme_agreement(record, found_threshold)
    score = None
    if not merged:
        score = theme_score(
            record, life.cost, now=now, weights=weights or ScoringWeights(), agreement=agreement
        )
    return ThemeChanged(
        theme_id=record.theme_id,
        product=record.product,
        status=status,
        merged_into=lineage.merged_into,
        merged_from=list(lineage.merged_from),
        split_from=lineage.split_from,
        label=record.label,
        keywords=list(record.keywords),
        title=record.shown_title,
        named=bool(record.name),
        representative_id=record.representative_id,
        representative_text=record.representative_text,
        member_count=record.member_count,
        mention_count=record.mention_count,
        author_count=record.authors.count(),
        first_seen=record.first_seen,
        last_seen=record.last_seen,
        platform_counts=dict(record.platforms),
        weekly_counts=dict(sorted(record.weeks.items())),
        change=change,
        changed_at=now,
        lifecycle_status=lifecycle_status,
        cost=cost_input(life.cost),
        release=release_ref(life.release),
        engagement=record.engagement,
        score=score,
        agreement=agreement,
    )


def theme_agreement(record: ThemeRecord, found_threshold: float) -> float | None:
    """The share of ``record``'s held members (sample and provisional) whose cosine to their mean
    direction is at least ``found_threshold`` (1 - :func:`models.themes.agreement.disagreement`);
    None for a theme that holds none.
    """
    members = record.members
    if not members:
        return None
    vectors = np.stack([np.asarray(member.vector, dtype=np.float32) for member in members])
    return round(1.0 - disagreement(vectors, found_threshold), 4)


def person_of(record: SuggestionThemed) -> Person:
    """The ask of one member record: who, and the original comment to reply under."""
    return Person(
        platform=record.platform, author_id=record.author_id, handle=record.author_handle,
        comment_id=record.comment_id, comment_url=record.url, thread_id=record.thread_id or record.comment_id,
        asked_at=record.asked_at, ask=record.text,
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
    selection: AskerSelection | None = None,
    note: str | None = None,
) -> ClosureEvent:
    """The closure for ``trigger``: everyone among ``members`` (the caller passes the thanked
    members of the theme and of every theme merged into it, duplicates included) and the texts;
    ``selection`` (the verdict on every ask) is recorded with its counts. The texts say what
    shipped with ``note`` (:func:`shipped_note`), else the release's whole note.
    """
    content = build_closure(
        theme=ClosureTheme(theme_id=trigger.theme_id, product=product, title=title, outcome=trigger.outcome,
                           reason=trigger.reason),
        people=[person_of(record) for record in members], release=trigger.release, templates=templates,
        now=now, closure_id=trigger.closure_key, note=note,
    )
    event = closure_event_of(content, merged_theme_ids=trigger.merged_theme_ids, command_id=command_id)
    if selection is None:
        return event
    return event.model_copy(update=selection_fields(selection))


def shipped_note(selection: AskerSelection) -> str | None:
    """What the closure's texts say shipped: the release note's lines about the theme, as
    sentences, or None (the whole note) when relevance was not judged. A theme whose only line
    is its title gets no note: the title says it.
    """
    if selection.shipped_lines is None:
        return None
    return " ".join(f"{line}." for line in selection.shipped_lines)


def selection_fields(selection: AskerSelection) -> dict[str, Any]:
    """The closure event's record of ``selection``: cut-off, rule, counts and the judged asks."""
    judged = [
        ClosureAskJudged(
            suggestion_id=member.suggestion_id, platform=member.platform, author_id=member.author_id,
            comment_id=member.comment_id, asked_at=member.asked_at, ask=member.text,
            verdict=judgement.verdict.value, rule=judgement.rule,
            release_similarity=judgement.release_similarity, centre_similarity=judgement.centre_similarity,
        )
        for member, judgement in selection.judged
        if judgement.verdict is not Verdict.AFTER_SHIPPING
    ]
    return {
        "asked_by": selection.cutoff,
        "selection_rule": selection.rule,
        "thanked_asks": selection.count(Verdict.THANKED),
        "held_asks": selection.count(Verdict.HELD),
        "left_out_asks": selection.count(Verdict.LEFT_OUT),
        "asked_after_shipping": selection.count(Verdict.AFTER_SHIPPING),
        "judged": judged,
    }


def closure_event_of(
    content: ClosureContent, *, merged_theme_ids: Iterable[str], command_id: str
) -> ClosureEvent:
    """The contract form of a closure's content."""
    data = content.to_dict()
    data["release"] = release_ref(content.release)
    return ClosureEvent.model_validate(
        {**data, "merged_theme_ids": list(merged_theme_ids), "command_id": command_id}
    )


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
                CommentRef(c.comment_id, c.comment_url, c.thread_id, c.asked_at, tuple(c.asks))
                for c in asker.comments
            ))
            for asker in event.people
        ),
        public_posts=(),
        replies=(),
        generated_at=event.generated_at,
        templates=event.templates,
    )


def default_title(record: ThemeRecord | None) -> str:
    """A closure's title when the product manager gave none with the command: the name a person
    gave the theme as it is (meant to be read in a sentence), else the title picked from the
    asks in quotes ("You asked for “Bring back the search button”" reads well for a verb
    phrase and a noun phrase alike), else the representative suggestion in quotes, cut to its
    first clause (at most 60 characters, whole words). Keywords ("teams / chats / delete")
    read as noise in a sentence; people's own words do not.
    """
    if record is not None and record.name:
        return record.name
    text = " ".join(((record.title or record.representative_text or record.label) if record else "").split())
    if not text:
        return "this change"
    clause = re.split(r"(?<=[.!?;:])\s", text, maxsplit=1)[0].rstrip(".!?;:")
    if len(clause) > 60:
        clause = clause[:61].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"“{clause}”"


def unreadable_command(message: RawRecord, error: ValidationError, *, now: datetime) -> CommandOutcome:
    """The rejection of a record on the commands topic that is not a valid :class:`ThemeCommand`."""
    command_id = f"{message.topic}:{message.partition}:{message.offset}"
    try:
        raw = json.loads(message.value)
        if isinstance(raw, dict) and isinstance(raw.get("command_id"), str) and raw["command_id"].strip():
            command_id = raw["command_id"].strip()[:256]
    except (ValueError, TypeError):
        pass
    product = (message.key or b"").decode("utf-8", "replace")[:256]
    return CommandOutcome(
        command_id=command_id,
        product=product,
        theme_id="",
        kind=None,
        accepted=False,
        code="invalid_command",
        message=str(error)[:2000],
        decided_at=now,
    )


def suggestion_of(detected: SuggestionDetected) -> Suggestion:
    """The clustering's view of a detected suggestion: the ask's text and embedding, its author key as
    ``platform:author_id``.
    """
    comment = detected.comment
    return Suggestion(
        suggestion_id=detected.suggestion_id,
        product=comment.product,
        author_key=f"{comment.platform.value}:{comment.author_id}",
        platform=comment.platform.value,
        created_at=comment.created_at,
        text=detected.ask.text,
        vector=np.asarray(detected.embedding, dtype=np.float32),
        engagement=engagement_total(comment.engagement),
        tone=Tone.of(comment.text, comment.rating),
    )


def suggestion_themed(
    detected: SuggestionDetected, placement: Placement, *, now: datetime
) -> SuggestionThemed:
    """The member record of a newly placed suggestion: who asked, where, and where it now lives."""
    comment = detected.comment
    return SuggestionThemed(
        suggestion_id=detected.suggestion_id,
        product=comment.product,
        theme_id=placement.theme_id,
        duplicate_of=placement.duplicate_of,
        duplicate_kind=DuplicateKind(placement.duplicate_kind) if placement.duplicate_kind else None,
        similarity=placement.similarity,
        platform=comment.platform,
        comment_id=comment.comment_id,
        author_id=comment.author_id,
        author_handle=comment.author_handle,
        url=comment.url,
        thread_id=comment.thread_id,
        text=detected.ask.text,
        ask_start=detected.ask.start,
        ask_end=detected.ask.end,
        comment_text=comment.text,
        asked_at=comment.created_at,
        engagement=comment.engagement,
        rating=comment.rating,
        placed_at=now,
    )


def moved_member(known: Mapping[str, Any], placement: Placement, *, now: datetime) -> SuggestionThemed:
    """A stored member record (``known``) after ``placement`` moved it; a placement that carries
    a duplicate kind (a person's review of a possible duplicate) also sets what it repeats.
    """
    update: dict[str, Any] = {"theme_id": placement.theme_id, "placed_at": now.isoformat()}
    if placement.duplicate_kind is not None:
        update.update(duplicate_of=placement.duplicate_of, duplicate_kind=placement.duplicate_kind)
    return SuggestionThemed.model_validate({**known, **update})


def handed_over(known: Mapping[str, Any], *, heir: str, now: datetime) -> SuggestionThemed:
    """A stored member record after an erasure handed its original over to ``heir``: the heir
    itself stops being a repeat; another repeat of the same original now repeats the heir.
    """
    mine = known["suggestion_id"] == heir
    return SuggestionThemed.model_validate(
        {
            **known,
            "duplicate_of": None if mine else heir,
            "duplicate_kind": None if mine else known.get("duplicate_kind"),
            "placed_at": now.isoformat(),
        }
    )
