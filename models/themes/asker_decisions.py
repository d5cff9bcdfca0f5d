"""A product manager's say over who a closure thanks: include or exclude one person of a theme.

A decision (``include_asker`` / ``exclude_asker`` commands) names a person by their author hash
and a theme by its id. It is stored apart from the clustering (``askers:<theme>`` in the state
table), so that re-clusters, which move members and rebuild samples, never touch it; a closure of
the theme, or of a theme it was merged into, reads the decisions of every theme it closes. The
latest decision about a person wins; it is final: it overrides the verdict of the rules
(:mod:`models.closure_selection`) on that person's asks made before shipping. An ask made after
the change shipped is never thanked for it, whatever the decision.

After a theme shipped, its closure is remembered (``closed:<theme>``: key, trigger, title, the
people thanked). Including a person it did not thank publishes a *follow-up closure* for that
person alone (key ``{closure key}:+{author hash}``: the publish-once ledger lets it out once
whatever the number of commands); the people already thanked never hear twice, and no second
public post goes out. Excluding someone already thanked cannot take a published thanks back: the
outcome says so, and the decision holds for later closures of the theme.

:mod:`models.themes.command_effects` publishes what :func:`decide_asker` returns in its usual
order: the follow-up closure first, then the outcome, then the tables (decisions, the closure's
record, the outcome).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.events import LifecycleStatus, SuggestionThemed
from contracts.lifecycle import (
    ClosureAskJudged,
    ClosureEvent,
    CommandKind,
    CommandOutcome,
    HistoryChange,
    ThemeCommand,
    hash_author,
)
from contracts.topics import CLOSURES
from models.closure_selection import RULE_PLACED, AskJudgement, Verdict, asked_before
from models.lifecycle import ClosureTrigger, ReleaseInfo
from models.theme_commands import reject
from models.theme_mapping import closure_event
from models.themes.askers import askers_of, repeats_of
from models.themes.closure_askers import AskerSelection
from models.themes.effects import Emit, TableWrite
from models.themes.step_effects import ThemeRules, stored_life
from models.themes.tables import ThemeTables, set_state
from models.themes.workflow import ProductWork

DECISION_KINDS = frozenset({CommandKind.INCLUDE_ASKER, CommandKind.EXCLUDE_ASKER})
AFTER_FOLLOW_UP = "after-follow-up-closure-published"


def decisions_key(theme_id: str) -> str:
    """A theme's decisions about its askers: ``{author hash: decision}``."""
    return f"askers:{theme_id}"


def closed_key(theme_id: str) -> str:
    """The latest shipped closure of a theme: key, trigger, title, the people it thanked."""
    return f"closed:{theme_id}"


@dataclass(frozen=True)
class AskerDecision:
    """A product manager's decision about one person's asks in one theme."""

    author_hash: str
    include: bool
    actor: str
    reason: str
    command_id: str
    at: datetime

    @property
    def rule(self) -> str:
        what = "thanked" if self.include else "left out"
        because = f": {self.reason}" if self.reason else ""
        return f"product manager: {what} by {self.actor}'s decision{because}"

    def to_dict(self) -> dict[str, Any]:
        return {"author_hash": self.author_hash, "include": self.include, "actor": self.actor,
                "reason": self.reason, "command_id": self.command_id, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AskerDecision:
        return cls(author_hash=data["author_hash"], include=bool(data["include"]), actor=data["actor"],
                   reason=data.get("reason", ""), command_id=data["command_id"],
                   at=datetime.fromisoformat(data["at"]))

    @classmethod
    def of(cls, command: ThemeCommand, *, now: datetime) -> AskerDecision:
        assert command.author_hash is not None  # the contract's validator
        return cls(author_hash=command.author_hash, include=command.kind is CommandKind.INCLUDE_ASKER,
                   actor=command.actor, reason=command.reason, command_id=command.command_id, at=now)


def author_hash_of(member: SuggestionThemed) -> str:
    """The author hash of a member record's person."""
    return hash_author(member.platform.value, member.author_id)


def decisions_of(tables: ThemeTables, theme_ids: Iterable[str]) -> dict[str, AskerDecision]:
    """The standing decision about each person over ``theme_ids`` (the latest wins)."""
    chosen: dict[str, AskerDecision] = {}
    for theme_id in theme_ids:
        for raw in (tables.state(decisions_key(theme_id)) or {}).values():
            decision = AskerDecision.from_dict(raw)
            known = chosen.get(decision.author_hash)
            if known is None or decision.at >= known.at:
                chosen[decision.author_hash] = decision
    return chosen


def with_decisions(selection: AskerSelection, decisions: Mapping[str, AskerDecision]) -> AskerSelection:
    """``selection`` with each decided person's asks made before shipping thanked (included) or
    left out (excluded), the decision as their rule; asks after shipping stay as they were.
    """
    if not decisions or selection.cutoff is None:
        return selection
    judged: list[tuple[SuggestionThemed, AskJudgement]] = []
    overridden: set[str] = set()
    for member, by_rule in selection.judged:
        decision = decisions.get(author_hash_of(member))
        if decision is None or by_rule.verdict is Verdict.AFTER_SHIPPING:
            judged.append((member, by_rule))
            continue
        verdict = Verdict.THANKED if decision.include else Verdict.LEFT_OUT
        judged.append((member, AskJudgement(member.suggestion_id, verdict, decision.rule,
                                            by_rule.release_similarity, by_rule.centre_similarity)))
        overridden.add(decision.author_hash)
    if not overridden:
        return selection
    rule = f"{selection.rule}; a product manager decided for {len(overridden)} of the people"
    return replace(selection, judged=tuple(judged), rule=rule)


def closed_record(
    trigger: ClosureTrigger, closure: ClosureEvent, *, note: str | None = None
) -> dict[str, Any]:
    """What a follow-up needs of a shipped closure: its trigger, title, what its texts said
    shipped (``note``; None: the release's note), cut-off and who it thanked.
    """
    return {
        "closure_key": closure.closure_key,
        "trigger": trigger.to_dict(),
        "title": closure.title,
        "note": note,
        "asked_by": closure.asked_by.isoformat() if closure.asked_by else None,
        "thanked": sorted({hash_author(p.platform.value, p.author_id) for p in closure.people}),
    }


def _trigger_of(raw: Mapping[str, Any]) -> ClosureTrigger:
    return ClosureTrigger(
        theme_id=raw["theme_id"], outcome=raw["outcome"],
        release=ReleaseInfo.from_dict(raw["release"]) if raw.get("release") else None,
        reason=raw.get("reason", ""), merged_theme_ids=tuple(raw.get("merged_theme_ids", ())),
        closure_key=raw["closure_key"], at=datetime.fromisoformat(raw["at"]),
    )


def follow_up_key(closure_key: str, author_hash: str) -> str:
    """The key of the follow-up closure that thanks ``author_hash`` after ``closure_key``."""
    return f"{closure_key}:+{author_hash}"


def follow_up_closure(
    closed: Mapping[str, Any],
    asks: Sequence[SuggestionThemed],
    decision: AskerDecision,
    *,
    rules: ThemeRules,
    product: str,
    now: datetime,
    rule: str | None = None,
) -> ClosureEvent:
    """The follow-up closure that thanks one person a product manager added after shipping:
    replies in the threads of ``asks`` (their asks made before shipping), no public post;
    ``rule`` says why (default: the decision's).
    """
    rule = rule or decision.rule
    first = _trigger_of(closed["trigger"])
    key = follow_up_key(closed["closure_key"], decision.author_hash)
    trigger = ClosureTrigger(theme_id=first.theme_id, outcome=first.outcome, release=first.release,
                             reason=first.reason, merged_theme_ids=first.merged_theme_ids,
                             closure_key=key, at=first.at)
    event = closure_event(trigger, product=product, title=closed["title"], members=asks,
                          templates=rules.templates, command_id=decision.command_id, now=now,
                          note=closed.get("note"))
    judged = [
        ClosureAskJudged(suggestion_id=m.suggestion_id, platform=m.platform, author_id=m.author_id,
                         comment_id=m.comment_id, asked_at=m.asked_at, ask=m.text, verdict="thanked",
                         rule=rule)
        for m in asks
    ]
    return event.model_copy(update={
        "closure_key": key, "closure_id": key, "public_posts": [], "follow_up_of": closed["closure_key"],
        "judged": judged,
        "thanked_asks": len(asks), "selection_rule": rule,
        "asked_by": datetime.fromisoformat(closed["asked_by"]) if closed.get("asked_by") else None,
    })


def _merged_into(work: ProductWork, theme_id: str) -> set[str]:
    """``theme_id`` and every theme (transitively) merged into it."""
    found = {theme_id}
    grew = True
    while grew:
        extra = {tid for tid, lineage in work.lineage.items()
                 if lineage.merged_into in found and tid not in found}
        found |= extra
        grew = bool(extra)
    return found


@dataclass(frozen=True)
class DecisionResult:
    """What one decision command does: a follow-up closure to publish first (or None), the
    outcome, then the table writes.
    """

    outcome: CommandOutcome
    follow_up: Emit | None = None
    writes: tuple[TableWrite, ...] = ()


def decide_asker(
    rules: ThemeRules, tables: ThemeTables, command: ThemeCommand, work: ProductWork, partition: int, *,
    now: datetime,
) -> DecisionResult:
    """Store a product manager's decision about one asker; after shipping, thank an added person
    with a follow-up closure (see the module's docstring).
    """
    decision = AskerDecision.of(command, now=now)
    theme_id = command.theme_id
    known = theme_id in work.themes.themes or theme_id in work.lineage or tables.life(theme_id) is not None
    if command.product != work.themes.product or not known:
        message = f"{theme_id!r} is not a theme of {command.product!r}."
        return DecisionResult(reject(command, "unknown_theme", message, now=now))
    mine = [m for m in askers_of(tables.members(), _merged_into(work, theme_id))
            if author_hash_of(m) == decision.author_hash]
    if not mine:
        message = f"Person {decision.author_hash} did not ask in theme {theme_id!r}."
        return DecisionResult(reject(command, "not_an_asker", message, now=now))
    stored = dict(tables.state(decisions_key(theme_id)) or {})
    previous = stored.get(decision.author_hash)
    closed = tables.state(closed_key(theme_id))
    thanked = set(closed["thanked"]) if closed else set()
    if previous is not None and bool(previous["include"]) == decision.include and (
        closed is None or not decision.include or decision.author_hash in thanked
    ):
        state = "included" if decision.include else "excluded"
        message = f"Person {decision.author_hash} is already {state}."
        return DecisionResult(reject(command, "no_change", message, now=now))
    follow_up: Emit | None = None
    writes: list[TableWrite] = []
    message = "The decision holds for this theme's closures."
    if closed is not None and decision.include and decision.author_hash not in thanked:
        cutoff = datetime.fromisoformat(closed["asked_by"]) if closed.get("asked_by") else None
        before = [m for m in mine if cutoff is None or asked_before(m.asked_at, cutoff)]
        if not before:
            message = (f"Person {decision.author_hash} asked only after the change shipped "
                       f"({closed['closure_key']}); a closure never thanks an ask made after shipping.")
            return DecisionResult(reject(command, "asked_after_shipping", message, now=now))
        closure = follow_up_closure(closed, before, decision, rules=rules, product=command.product, now=now)
        follow_up = Emit(
            CLOSURES, closure.closure_key, closure, partition=partition, once=True,
            checkpoint=AFTER_FOLLOW_UP,
            log=f"follow-up closure {closure.closure_key}: 1 person, {closure.comment_count} comments",
        )
        now_thanked = sorted(thanked | {decision.author_hash})
        writes.append(set_state(closed_key(theme_id), {**closed, "thanked": now_thanked}))
        message = f"Thanked in the follow-up closure {closure.closure_key}; nobody else hears twice."
    elif closed is not None and decision.include and decision.author_hash in thanked:
        message = (f"Already thanked in {closed['closure_key']}; "
                   "the decision holds for later closures of this theme.")
    elif closed is not None and not decision.include and decision.author_hash in thanked:
        message = (f"Already thanked in {closed['closure_key']}: a published thanks cannot be taken back; "
                   "the decision holds for later closures of this theme.")
    life = stored_life(tables, theme_id)
    status = life.status if life is not None else LifecycleStatus.NEW
    outcome = CommandOutcome(
        command_id=command.command_id, product=command.product, theme_id=theme_id, kind=command.kind,
        accepted=True, message=message, closure_key=follow_up.key if follow_up else None,
        author_hash=decision.author_hash, decided_at=now,
        changes=[HistoryChange(
            theme_id=theme_id, kind=command.kind.value, from_status=status, to_status=status,
            actor=command.actor, reason=command.reason, at=now, issued_at=command.issued_at,
            detail=f"{'included' if decision.include else 'excluded'} {decision.author_hash}",
        )],
    )
    stored[decision.author_hash] = decision.to_dict()
    return DecisionResult(outcome, follow_up, (set_state(decisions_key(theme_id), stored), *writes))


def placed_follow_up(
    rules: ThemeRules,
    tables: ThemeTables,
    command: ThemeCommand,
    work: ProductWork,
    member: SuggestionThemed,
    partition: int,
    *,
    now: datetime,
) -> tuple[Emit | None, tuple[TableWrite, ...], str]:
    """An ask a product manager placed in a theme that has shipped: its person, when the closure
    did not thank them, no decision excludes them and the ask was made before shipping, is thanked
    by a follow-up closure of their own (the key an ``include_asker`` would use, so they never
    hear twice). The ask's repeats came with it (:func:`~contracts.events.follows_original`): the
    people who repeated it before shipping are thanked in the same follow-up, on the same terms.
    Returns the closure to publish first (or None), the closure record's update and what the
    outcome says.
    """
    theme_id = command.theme_id
    closed = tables.state(closed_key(theme_id))
    if closed is None:
        return None, (), "The ask is in the theme; its closure will thank it (asked before shipping)."
    theme_ids = _merged_into(work, theme_id)
    repeats = sorted(repeats_of(tables.members(), member.suggestion_id),
                     key=lambda m: (m.asked_at, m.suggestion_id))
    decisions = decisions_of(tables, theme_ids)
    cutoff = datetime.fromisoformat(closed["asked_by"]) if closed.get("asked_by") else None
    thanked = set(closed["thanked"])

    def why_not(ask: SuggestionThemed) -> str | None:
        person = author_hash_of(ask)
        if person in thanked:
            return f"Its person was thanked in {closed['closure_key']} already."
        decision = decisions.get(person)
        if decision is not None and not decision.include:
            return f"Its person is excluded from this theme's closures ({decision.rule}); not thanked."
        if cutoff is not None and not asked_before(ask.asked_at, cutoff):
            return f"Asked after the change shipped ({closed['closure_key']}): never thanked for it."
        return None

    chosen: dict[str, SuggestionThemed] = {}  # one ask a person, the placed one first
    for ask in (member, *repeats):
        if why_not(ask) is None:
            chosen.setdefault(author_hash_of(ask), ask)
    if not chosen:
        return None, (), why_not(member) or "Nobody to thank."
    first = next(iter(chosen))
    placement = AskerDecision(author_hash=first, include=True, actor=command.actor, reason=command.reason,
                              command_id=command.command_id, at=now)
    closure = follow_up_closure(closed, list(chosen.values()), placement, rules=rules,
                                product=command.product, now=now, rule=RULE_PLACED)
    people = "1 person" if len(chosen) == 1 else f"{len(chosen)} people (the ask and its repeats)"
    log = f"follow-up closure {closure.closure_key}: {people} (a placed ask)"
    emit = Emit(CLOSURES, closure.closure_key, closure, partition=partition, once=True,
                checkpoint=AFTER_FOLLOW_UP, log=log)
    record = {**closed, "thanked": sorted(thanked | set(chosen))}
    message = f"Thanked in the follow-up closure {closure.closure_key}; nobody else hears twice."
    if len(chosen) > 1:
        message = (f"Thanked, with {len(chosen) - 1} who repeated the ask, in the follow-up closure "
                   f"{closure.closure_key}; nobody else hears twice.")
    return emit, (set_state(closed_key(theme_id), record),), message
