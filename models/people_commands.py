"""Commands about people's suggestions rather than a theme's life: the review queue and erasure.

:func:`apply_review_command` settles a possible duplicate (confirm or reject) and
:func:`apply_erasure` forgets one person in one product. Like
:func:`models.theme_commands.apply_theme_command` they take the product's clustering and the
members it needs (the agent's member records) and return a
:class:`~models.theme_commands.CommandResult`; nothing here touches Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.events import DuplicateKind, SuggestionThemed
from contracts.lifecycle import CommandKind, CommandOutcome, ThemeCommand, hash_author
from models.duplicates import DuplicateConfig
from models.lifecycle import ThemeLifecycle
from models.theme_commands import CommandResult, reject, sync_lifecycle
from models.theme_mapping import ask_of
from models.themes.engine import ThemeEngine
from models.themes.people import Ask, ErasureResult, confirm_duplicate, erase_author
from models.themes.workflow import Placement, ProductWork, StepResult

REVIEW_KINDS = frozenset({CommandKind.CONFIRM_DUPLICATE, CommandKind.REJECT_DUPLICATE})


def _accepted(command: ThemeCommand, message: str, *, now: datetime) -> CommandOutcome:
    return CommandOutcome(
        command_id=command.command_id,
        product=command.product,
        theme_id=command.theme_id,
        kind=command.kind,
        accepted=True,
        message=message,
        decided_at=now,
    )


def apply_review_command(
    work: ProductWork,
    lifecycle: ThemeLifecycle,
    command: ThemeCommand,
    *,
    engine: ThemeEngine,
    member_of: Callable[[str], SuggestionThemed | None],
    members_of: Callable[[str], Iterable[SuggestionThemed]],
    now: datetime,
) -> CommandResult:
    """Confirm or reject the possible duplicate ``command.suggestion_id``.

    Confirmed, it is recorded as ``confirmed`` and counts for what it repeats (see
    :func:`models.themes.people.confirm_duplicate`); rejected, it is recorded as ``distinct``
    and stays where it is. Either way it leaves the review queue. ``members_of`` lists a theme's
    member records (to know whether the person has another suggestion in the theme it leaves).
    """
    lifecycle = sync_lifecycle(lifecycle, work, now=now)

    def refuse(code: str, message: str) -> CommandResult:
        return CommandResult(lifecycle, reject(command, code, message, now=now))

    if command.product != work.themes.product:
        return refuse("wrong_product", f"Commands of {command.product!r} reached {work.themes.product!r}.")
    assert command.suggestion_id is not None  # the contract's validator
    record = member_of(command.suggestion_id)
    if record is None or record.product != command.product:
        return refuse(
            "unknown_suggestion", f"No suggestion {command.suggestion_id!r} in {command.product!r}."
        )
    if record.duplicate_kind in (DuplicateKind.CONFIRMED, DuplicateKind.DISTINCT):
        return refuse(
            "already_reviewed",
            f"Suggestion {record.suggestion_id!r} was reviewed before ({record.duplicate_kind.value}).",
        )
    if record.duplicate_kind is not DuplicateKind.REVIEW or record.duplicate_of is None:
        return refuse(
            "not_a_possible_duplicate", f"Suggestion {record.suggestion_id!r} is not in the review queue."
        )
    original = member_of(record.duplicate_of)
    if original is None:
        return refuse("original_gone", f"Suggestion {record.duplicate_of!r}, which it may repeat, is gone.")
    if command.kind is CommandKind.REJECT_DUPLICATE:
        step = StepResult(
            placements=[
                Placement(
                    record.suggestion_id,
                    record.theme_id,
                    record.duplicate_of,
                    DuplicateKind.DISTINCT.value,
                    record.similarity,
                )
            ]
        )
        outcome = _accepted(
            command,
            f"{record.suggestion_id} is not a duplicate of "
            f"{record.duplicate_of}; it stays a suggestion of its own.",
            now=now,
        )
        return CommandResult(lifecycle, outcome, step)
    ask = ask_of(record)
    stays = (
        any(
            other.theme_id == record.theme_id
            and other.suggestion_id != record.suggestion_id
            and hash_author(other.platform.value, other.author_id) == ask.author_hash
            for other in members_of(record.theme_id)
        )
        if record.theme_id is not None
        else False
    )
    moved = confirm_duplicate(
        work,
        engine=engine,
        ask=ask,
        original=ask_of(original),
        similarity=record.similarity,
        author_stays_in_source=stays,
        now=now,
    )
    if isinstance(moved, str):
        return refuse("cannot_confirm", moved)
    lifecycle = sync_lifecycle(lifecycle, work, now=now)
    target = next((p.theme_id for p in moved.placements if p.suggestion_id == record.suggestion_id), None)
    outcome = _accepted(
        command,
        f"{record.suggestion_id} counts as a duplicate of {record.duplicate_of} "
        f"({'theme ' + target if target else 'the pool'}).",
        now=now,
    )
    return CommandResult(lifecycle, outcome, moved, changed=set(moved.merged))


@dataclass
class ErasureCommandResult:
    """An erasure's :class:`CommandResult` plus what the adapter deletes or rewrites."""

    result: CommandResult
    erasure: ErasureResult = field(default_factory=ErasureResult)


def apply_erasure(
    work: ProductWork,
    lifecycle: ThemeLifecycle,
    command: ThemeCommand,
    *,
    engine: ThemeEngine,
    duplicates: DuplicateConfig,
    members: Iterable[SuggestionThemed],
    now: datetime,
) -> ErasureCommandResult:
    """Forget the person ``command.author_hash`` in this product (see
    :func:`models.themes.people.erase_author`). ``members`` are the product's member records, or
    at least the person's and every exact repeat of theirs.
    Accepted also when the person had nothing here (an erasure must be repeatable).
    """
    assert command.author_hash is not None  # the contract's validator
    if command.product != work.themes.product:
        refused = reject(
            command,
            "wrong_product",
            f"Commands of {command.product!r} reached {work.themes.product!r}.",
            now=now,
        )
        return ErasureCommandResult(CommandResult(lifecycle, refused))
    theirs: list[Ask] = []
    others: list[Ask] = []
    for record in members:
        if record.product != command.product:
            continue
        ask = ask_of(record)
        (theirs if ask.author_hash == command.author_hash else others).append(ask)
    own_ids = {a.suggestion_id for a in theirs}
    repeats: dict[str, list[Ask]] = {}
    for other in sorted(others, key=lambda a: (a.asked_at, a.suggestion_id)):
        if other.exact and other.duplicate_of in own_ids:
            repeats.setdefault(other.duplicate_of, []).append(other)
    erased = erase_author(
        work,
        engine=engine,
        duplicates=duplicates,
        author_hash=command.author_hash,
        asks=theirs,
        repeats=repeats,
        now=now,
    )
    message = (
        f"forgot {len(erased.forgotten)} suggestions; {len(erased.step.changed)} themes recounted, "
        f"{len(erased.removed_themes)} removed"
    )
    outcome = _accepted(command, message, now=now)
    return ErasureCommandResult(CommandResult(lifecycle, outcome, erased.step), erased)
