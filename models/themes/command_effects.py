"""The effects of one record of the commands topic: a person's decision about a theme, a
possible duplicate, or a person's erasure.

Order (a crash anywhere in between re-delivers the command, which derives the same closure key
and outcome, and the publish-once ledgers let nothing out twice):

1. the closure the command causes (``feedback.closures``, once per closure key, on the
   command's partition);
2. the theme snapshots and member records of what the command changed, and the member records
   in ``theme-members``;
3. the outcome (``feedback.theme-outcomes``, once per command id, on the command's partition);
4. the tables: ``life:<theme>``, ``outcome:<command>``, then the product's clustering.

An erasure emits its tombstones (emptied themes, forgotten suggestions) with its snapshots and
member records, writes the member records and the ``erased:`` mark, then emits its outcome.
A command whose outcome is stored (applied before a crash) is reported again; a record that is
not a :class:`ThemeCommand`, or one keyed by another product, is answered by a rejection.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from contracts.events import SuggestionThemed
from contracts.lifecycle import ClosureEvent, CommandKind, CommandOutcome, ThemeCommand
from contracts.topics import CLOSURES, THEME_MEMBERS, THEME_OUTCOMES, THEMES
from models.closure_selection import Verdict
from models.lifecycle import ClosureTrigger, ThemeLifecycle, ThemeState
from models.people_commands import REVIEW_KINDS, apply_erasure, apply_review_command
from models.theme_commands import CommandResult, apply_theme_command, reject
from models.theme_mapping import (
    RawRecord,
    closure_event,
    default_title,
    lifecycle_of,
    shipped_note,
    unreadable_command,
)
from models.themes.asker_decisions import (
    DECISION_KINDS,
    closed_key,
    closed_record,
    decide_asker,
    decisions_of,
    placed_follow_up,
    with_decisions,
)
from models.themes.askers import askers_of, erasure_members, hand_over, members_of_theme
from models.themes.closure_askers import select_askers, with_placements
from models.themes.effects import Effect, Effects, Emit
from models.themes.step_effects import ThemeRules, snapshot_before, step_emits, stored_life
from models.themes.tables import (
    ThemeTables,
    erased_key,
    life_key,
    outcome_key,
    set_member,
    set_state,
    theme_key,
    work_writes,
)
from models.themes.workflow import ProductWork

AFTER_CLOSURE = "after-closure-published"
AFTER_OUTCOME = "after-outcome-published"


def outcome_emit(outcome: CommandOutcome, partition: int, *, checkpoint: str | None = None) -> Emit:
    """The outcome of a command, published once on the command's partition."""
    verdict = "accepted" if outcome.accepted else f"rejected ({outcome.code})"
    return Emit(
        THEME_OUTCOMES,
        outcome.command_id,
        outcome,
        partition=partition,
        once=True,
        checkpoint=checkpoint,
        log=f"command {outcome.command_id} on {outcome.theme_id}: {verdict}",
    )


def failed_command_effects(record: RawRecord, error: BaseException, *, now: datetime) -> Effects:
    """The rejection of a command the worker could not apply (it raised; the record is set aside
    on the dead-letter topic): whoever waits on the command learns it failed and why, instead of
    waiting for an outcome that never comes. Nothing of the command was stored.
    """
    try:
        command = ThemeCommand.model_validate_json(record.value)
    except ValidationError:  # answered as unreadable by command_effects; nothing more to say
        return Effects([])
    message = (
        f"the worker could not apply this command ({type(error).__name__}: {error}); it is set aside "
        "on the commands' dead-letter topic with its stage and reason"
    )
    outcome = reject(command, "processing_failed", message[:2000], now=now)
    return Effects([outcome_emit(outcome, record.partition)])


def command_effects(rules: ThemeRules, tables: ThemeTables, record: RawRecord, *, now: datetime) -> Effects:
    """Decode and apply one record of the commands topic (see the module's docstring)."""
    partition = record.partition
    try:
        command = ThemeCommand.model_validate_json(record.value)
    except ValidationError as error:
        return Effects([outcome_emit(unreadable_command(record, error, now=now), partition)])
    stored = tables.outcome(command.command_id)
    if stored is not None:  # applied before a crash: report it again (the ledger keeps one copy)
        return Effects([outcome_emit(CommandOutcome.model_validate(stored), partition)])
    key = (record.key or b"").decode("utf-8", "replace")
    if key != command.product:
        message = f"theme commands are keyed by product: key {key!r} is not {command.product!r}"
        return Effects([outcome_emit(reject(command, "wrong_key", message, now=now), partition)])
    work = tables.work(command.product)
    previous_pool = set(work.themes.pool)
    known = set(work.lineage) | set(work.themes.themes)
    lifecycle = lifecycle_of({tid: stored for tid in known if (stored := tables.life(tid)) is not None})
    if command.kind is CommandKind.ERASE_AUTHOR:
        return erasure_effects(rules, tables, command, work, lifecycle, partition, previous_pool, now=now)
    if command.kind in DECISION_KINDS:
        decided = decide_asker(rules, tables, command, work, partition, now=now)
        return Effects([
            *([decided.follow_up] if decided.follow_up else []),
            outcome_emit(decided.outcome, partition, checkpoint=AFTER_OUTCOME),
            *decided.writes,
            set_state(outcome_key(command.command_id), decided.outcome.model_dump(mode="json")),
        ])
    return decision_effects(rules, tables, command, work, lifecycle, partition, previous_pool, now=now)


def decision_effects(
    rules: ThemeRules,
    tables: ThemeTables,
    command: ThemeCommand,
    work: ProductWork,
    lifecycle: ThemeLifecycle,
    partition: int,
    previous_pool: set[str],
    *,
    now: datetime,
) -> Effects:
    """A theme command or a review of a possible duplicate: closure, snapshots, outcome, tables."""
    before = snapshot_before(work)

    def member_of(suggestion_id: str) -> SuggestionThemed | None:
        stored = tables.member(suggestion_id)
        return None if stored is None else SuggestionThemed.model_validate(stored)

    result: CommandResult
    if command.kind in REVIEW_KINDS:
        result = apply_review_command(
            work,
            lifecycle,
            command,
            engine=rules.engine,
            member_of=member_of,
            members_of=lambda theme_id: members_of_theme(tables.members(), theme_id),
            now=now,
        )
    else:
        result = apply_theme_command(
            work, lifecycle, command, engine=rules.engine, member_of=member_of, now=now
        )
    items: list[Effect] = []
    closed: list[Effect] = []
    if result.closure is not None:
        emit, note = closure_emit(rules, tables, command, work, result.closure, partition, now=now)
        items.append(emit)
        if isinstance(emit.value, ClosureEvent) and emit.value.outcome == "shipped":
            record = closed_record(result.closure, emit.value, note=note)
            closed.append(set_state(closed_key(result.closure.theme_id), record))
    lives = {
        tid: result.lifecycle.themes[tid].to_dict()
        for tid in result.changed
        if tid in result.lifecycle.themes
    }

    def life(theme_id: str) -> ThemeState | None:  # the snapshots show the lifecycle decided now
        return ThemeState.from_dict(lives[theme_id]) if theme_id in lives else stored_life(tables, theme_id)

    retired = {old: before[old] for old in result.step.merged if old in before}
    members = step_emits(
        tables,
        work,
        result.step,
        items,
        detected=None,
        now=now,
        retired=retired,
        life=life,
        weights=rules.weights,
        config=rules.engine.config,
    )
    items.extend(set_member(sid, payload) for sid, payload in members.items())
    outcome = result.outcome
    if command.kind is CommandKind.PLACE and outcome.accepted and command.suggestion_id in members:
        placed = SuggestionThemed.model_validate(members[command.suggestion_id])
        follow_up, updates, said = placed_follow_up(rules, tables, command, work, placed, partition, now=now)
        if follow_up is not None:
            items.insert(0, follow_up)  # published first: a crash after it re-derives the same key
        closed.extend(updates)
        outcome = outcome.model_copy(update={
            "message": said, "closure_key": follow_up.key if follow_up is not None else None,
        })
    items.append(outcome_emit(outcome, partition, checkpoint=AFTER_OUTCOME))
    items.extend(set_state(life_key(tid), state) for tid, state in lives.items())
    items.extend(closed)
    items.append(set_state(outcome_key(command.command_id), outcome.model_dump(mode="json")))
    everything = bool(result.step.merged) or result.step.reclustered
    items.extend(work_writes(work, result.step, previous_pool=previous_pool, everything=everything))
    return Effects(items)


def closure_emit(
    rules: ThemeRules,
    tables: ThemeTables,
    command: ThemeCommand,
    work: ProductWork,
    trigger: ClosureTrigger,
    partition: int,
    *,
    now: datetime,
) -> tuple[Emit, str | None]:
    """The closure ``trigger`` calls for, published once: of everyone who asked (duplicates
    included), those :func:`select_askers` thanks, with the verdict on every ask; and what its
    texts say shipped (:func:`~models.theme_mapping.shipped_note`, None: the release's note).
    """
    record = work.themes.themes.get(trigger.theme_id)
    title = command.title or default_title(record)
    named = bool(command.title) or bool(record is not None and record.name)  # a person's words, not the asks'
    members = askers_of(tables.members(), {trigger.theme_id, *trigger.merged_theme_ids})
    selection = select_askers(
        members, trigger=trigger, title=title, work=work, embedder=rules.embedder, named=named
    )
    if trigger.outcome == "shipped":  # a product manager's placements and decisions are final
        theme_ids = {trigger.theme_id, *trigger.merged_theme_ids}
        selection = with_placements(selection, record.pinned if record is not None else ())
        selection = with_decisions(selection, decisions_of(tables, theme_ids))
    note = shipped_note(selection)
    closure = closure_event(
        trigger,
        product=command.product,
        title=title,
        members=selection.with_verdict(Verdict.THANKED),
        templates=rules.templates,
        command_id=command.command_id,
        now=now,
        selection=selection,
        note=note,
    )
    return Emit(
        CLOSURES,
        trigger.closure_key,
        closure,
        partition=partition,
        once=True,
        checkpoint=AFTER_CLOSURE,
        log=f"closure {trigger.closure_key}: {trigger.outcome}, {closure.people_count} people, "
        f"{closure.comment_count} comments; asks thanked {closure.thanked_asks}, held {closure.held_asks}, "
        f"left out {closure.left_out_asks}, asked after shipping {closure.asked_after_shipping}",
    ), note


def erasure_effects(
    rules: ThemeRules,
    tables: ThemeTables,
    command: ThemeCommand,
    work: ProductWork,
    lifecycle: ThemeLifecycle,
    partition: int,
    previous_pool: set[str],
    *,
    now: datetime,
) -> Effects:
    """Forget one person in one product: theme state, member records (tombstoned on
    ``feedback.theme-members``), emptied themes (tombstoned on ``feedback.themes``); then
    remember the erasure so that their older suggestions, if delivered again, stay out.
    """
    hashed = command.author_hash
    assert hashed is not None  # the contract's validator
    relevant = erasure_members(tables.members(), product=command.product, author_hash=hashed)
    records = [SuggestionThemed.model_validate(raw) for raw in relevant.values()]
    done = apply_erasure(
        work, lifecycle, command, engine=rules.engine, duplicates=rules.duplicates, members=records, now=now
    )
    erased = done.erasure
    items: list[Effect] = [Emit(THEMES, theme_id, None) for theme_id in erased.removed_themes]
    members = step_emits(
        tables,
        work,
        done.result.step,
        items,
        detected=None,
        now=now,
        retired={},
        life=lambda tid: stored_life(tables, tid),
        weights=rules.weights,
        config=rules.engine.config,
    )
    for record in hand_over(relevant, erased, now=now):  # the first repeat now holds the item
        members[record.suggestion_id] = record.model_dump(mode="json")
        items.append(Emit(THEME_MEMBERS, record.suggestion_id, record))
    items.extend(Emit(THEME_MEMBERS, suggestion_id, None) for suggestion_id in erased.forgotten)
    items.extend(set_member(sid, payload) for sid, payload in members.items())
    items.extend(set_member(suggestion_id, None) for suggestion_id in erased.forgotten)
    for theme_id in erased.removed_themes:
        items.extend((set_state(theme_key(theme_id), None), set_state(life_key(theme_id), None)))
    stamp = max(tables.erased_at(command.product, hashed) or "", now.isoformat())
    items.append(set_state(erased_key(command.product, hashed), stamp))
    items.append(outcome_emit(done.result.outcome, partition))
    items.append(set_state(outcome_key(command.command_id), done.result.outcome.model_dump(mode="json")))
    items.extend(work_writes(work, done.result.step, previous_pool=previous_pool, everything=True))
    return Effects(items)
