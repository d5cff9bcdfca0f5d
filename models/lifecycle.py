"""A theme's life after clustering: the product manager's decisions, as a pure state machine.

Statuses: ``new -> under_review -> planned -> in_progress -> shipped``; ``declined`` from any
open status; ``merged`` (with ``merged_into``) when a theme is folded into another, after which
it follows its successor (:func:`effective_status`) and takes no command of its own.

Rules (each rejection is a :class:`CommandRefused` with a stable ``code``):

- open statuses (new, under_review, planned, in_progress) may move to any other open status,
  forward or back (work gets re-planned), to ``shipped`` or to ``declined``;
- ``shipped`` and ``declined`` are final: their closure has been published to the people who
  asked, so reopening would contradict it. Reconsidering means a new theme;
- declining needs a ``reason``: the closure tells the askers why;
- shipping does not need a release: the closure then says "in our latest update";
- merge sources and target must be distinct, known, open themes; split parts need new ids and
  disjoint, non-empty member subsets (the caller decides them);
- the same ``command_id`` applied again is a no-op that reports the first outcome, accepted or
  rejected, so an at-least-once command stream is safe.

:func:`closure_due` compares the states before and after one command and says when a closure
must be published; its key ``closure:{theme_id}:{release_version or 'none'}`` is stable, so an
at-least-once publisher can de-duplicate on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from contracts.events import LifecycleStatus
from models.scoring import CostEstimate

logger = logging.getLogger(__name__)


"""Where a theme is in its life: the contract's enum, so the domain and the events cannot differ."""


OPEN_STATUSES = frozenset(
    {LifecycleStatus.NEW, LifecycleStatus.UNDER_REVIEW, LifecycleStatus.PLANNED, LifecycleStatus.IN_PROGRESS}
)
CLOSED_STATUSES = frozenset({LifecycleStatus.SHIPPED, LifecycleStatus.DECLINED})


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class ReleaseInfo:
    """The release a theme ships in: ``note`` is the human text of what changed."""

    name: str
    version: str
    date: date | None = None
    link: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "date": self.date.isoformat() if self.date else None,
            "link": self.link,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleaseInfo:
        """Inverse of :meth:`to_dict`."""
        released = data.get("date")
        return cls(name=data["name"], version=data["version"], link=data.get("link"), note=data.get("note"),
                   date=date.fromisoformat(released) if released else None)


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command carries; ``issued_at`` is when the actor issued it (timezone-aware)."""

    command_id: str
    theme_id: str
    actor: str
    reason: str = ""
    issued_at: datetime


@dataclass(frozen=True, kw_only=True)
class SetStatus(Command):
    status: LifecycleStatus


@dataclass(frozen=True, kw_only=True)
class SetCost(Command):
    cost: CostEstimate


@dataclass(frozen=True, kw_only=True)
class AttachRelease(Command):
    release: ReleaseInfo


@dataclass(frozen=True, kw_only=True)
class Merge(Command):
    """Fold ``source_ids`` into the command's ``theme_id`` (the target)."""

    source_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Split(Command):
    """Split parts off ``theme_id``: each ``(new_theme_id, member_ids)``; unlisted members stay."""

    parts: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, kw_only=True)
class Rename(Command):
    """Give the theme a title of a person's choosing (``""``: back to the title picked from the asks)."""

    title: str


@dataclass(frozen=True, kw_only=True)
class KeepApart(Command):
    """Record that ``other_ids`` are other ideas than the command's theme (a person read them side
    by side); no status changes.
    """

    other_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Place(Command):
    """Move ``suggestion_id`` into the command's theme: a person read the ask and found it asks
    for this theme's idea. ``from_theme`` is the theme that held it (None: it was in no theme).
    """

    suggestion_id: str
    from_theme: str | None = None


AnyCommand = SetStatus | SetCost | AttachRelease | Merge | Split | Rename | KeepApart | Place


@dataclass(frozen=True)
class HistoryEntry:
    """One accepted change: who, when (applied and issued), why, and from -> to."""

    command_id: str
    kind: str
    actor: str
    reason: str
    at: datetime
    issued_at: datetime
    from_status: LifecycleStatus
    to_status: LifecycleStatus
    detail: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "kind": self.kind,
            "actor": self.actor,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "issued_at": self.issued_at.isoformat(),
            "from": self.from_status.value,
            "to": self.to_status.value,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryEntry:
        """Inverse of :meth:`to_dict`."""
        return cls(
            command_id=data["command_id"], kind=data["kind"], actor=data["actor"], reason=data["reason"],
            at=datetime.fromisoformat(data["at"]), issued_at=datetime.fromisoformat(data["issued_at"]),
            from_status=LifecycleStatus(data["from"]), to_status=LifecycleStatus(data["to"]),
            detail=dict(data["detail"]),
        )


@dataclass(frozen=True)
class CommandApplied:
    command_id: str
    entries: tuple[HistoryEntry, ...]
    accepted: Literal[True] = True

    def to_dict(self) -> dict[str, Any]:
        entries = [entry.to_dict() for entry in self.entries]
        return {"command_id": self.command_id, "accepted": True, "entries": entries}


RejectCode = Literal[
    "unknown_theme",
    "merged_theme",
    "theme_closed",
    "illegal_transition",
    "no_change",
    "reason_required",
    "invalid_merge",
    "invalid_split",
    "invalid_pair",
    "member_not_in_theme",
]


@dataclass(frozen=True)
class CommandRefused:
    command_id: str
    code: RejectCode
    message: str
    accepted: Literal[False] = False

    def to_dict(self) -> dict[str, Any]:
        return {"command_id": self.command_id, "accepted": False, "code": self.code, "message": self.message}


Decision = CommandApplied | CommandRefused


def decision_from_dict(data: Mapping[str, Any]) -> Decision:
    """Inverse of ``CommandApplied.to_dict`` / ``CommandRefused.to_dict``."""
    if data["accepted"]:
        return CommandApplied(data["command_id"], tuple(HistoryEntry.from_dict(e) for e in data["entries"]))
    return CommandRefused(data["command_id"], data["code"], data["message"])


@dataclass(frozen=True)
class ThemeState:
    """One theme's lifecycle record; ``history`` holds every accepted change, oldest first."""

    theme_id: str
    status: LifecycleStatus = LifecycleStatus.NEW
    cost: CostEstimate = field(default_factory=CostEstimate)
    release: ReleaseInfo | None = None
    merged_into: str | None = None
    split_from: str | None = None
    closure_reason: str = ""
    history: tuple[HistoryEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "theme_id": self.theme_id, "status": self.status.value, "cost": self.cost.to_dict(),
            "release": self.release.to_dict() if self.release else None, "merged_into": self.merged_into,
            "split_from": self.split_from, "closure_reason": self.closure_reason,
            "history": [entry.to_dict() for entry in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThemeState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            theme_id=data["theme_id"], status=LifecycleStatus(data["status"]),
            cost=CostEstimate.from_dict(data["cost"]),
            release=ReleaseInfo.from_dict(data["release"]) if data["release"] else None,
            merged_into=data["merged_into"], split_from=data["split_from"],
            closure_reason=data["closure_reason"],
            history=tuple(HistoryEntry.from_dict(entry) for entry in data["history"]),
        )


@dataclass(frozen=True)
class ThemeLifecycle:
    """One product's theme lifecycles and every command outcome seen (by command id).

    Never mutated: :func:`apply_command` returns a new value.
    """

    themes: Mapping[str, ThemeState] = field(default_factory=dict)
    outcomes: Mapping[str, Decision] = field(default_factory=dict)

    def theme(self, theme_id: str) -> ThemeState:
        """The theme's record; KeyError when unknown."""
        return self.themes[theme_id]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (for a state store); :meth:`from_dict` restores it."""
        return {
            "schema_version": 1,
            "themes": [theme.to_dict() for theme in self.themes.values()],
            "outcomes": [outcome.to_dict() for outcome in self.outcomes.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThemeLifecycle:
        if data.get("schema_version") != 1:
            raise ValueError(f"unsupported lifecycle schema_version {data.get('schema_version')!r}")
        themes = (ThemeState.from_dict(theme) for theme in data["themes"])
        outcomes = (decision_from_dict(outcome) for outcome in data["outcomes"])
        return cls(themes={t.theme_id: t for t in themes}, outcomes={o.command_id: o for o in outcomes})


def register_theme(state: ThemeLifecycle, *, theme_id: str) -> ThemeLifecycle:
    """Track a theme the clustering created, as ``new``; a theme already tracked is left as is."""
    if theme_id in state.themes:
        return state
    return replace(state, themes={**state.themes, theme_id: ThemeState(theme_id=theme_id)})


def follow_merge(
    state: ThemeLifecycle, *, old_id: str, new_id: str, now: datetime, actor: str = "clustering"
) -> ThemeLifecycle:
    """Record a merge the clustering made (a re-cluster folded ``old_id`` into ``new_id``).

    The old theme follows its successor from now on, like after a merge command. A closed
    theme is left as it is: its closure was published and stays true.
    """
    _require_aware(now, "now")
    state = register_theme(register_theme(state, theme_id=new_id), theme_id=old_id)
    old = state.themes[old_id]
    if old.status not in OPEN_STATUSES or old_id == new_id:
        return state
    entry = HistoryEntry(
        command_id=f"clustering:{old_id}:{new_id}", kind="merge", actor=actor,
        reason="the re-cluster found the same idea", at=now, issued_at=now, from_status=old.status,
        to_status=LifecycleStatus.MERGED, detail={"merged_into": new_id},
    )
    merged = replace(old, status=LifecycleStatus.MERGED, merged_into=new_id, history=(*old.history, entry))
    return replace(state, themes={**state.themes, old_id: merged})


def successor(state: ThemeLifecycle, theme_id: str) -> str:
    """The theme that ``theme_id`` was (transitively) merged into, or itself."""
    seen = {theme_id}
    current = state.themes[theme_id]
    while current.merged_into is not None:
        if current.merged_into in seen:  # cannot happen through apply_command; fail loudly
            raise ValueError(f"merge cycle through {current.merged_into}")
        seen.add(current.merged_into)
        current = state.themes[current.merged_into]
    return current.theme_id


def effective_status(state: ThemeLifecycle, theme_id: str) -> LifecycleStatus:
    """A theme's status, following merges to the successor."""
    return state.themes[successor(state, theme_id)].status


def merged_members(state: ThemeLifecycle, theme_id: str) -> tuple[str, ...]:
    """Every theme (transitively) merged into ``theme_id``, sorted: their askers are owed its closure."""
    return tuple(
        sorted(
            other for other, record in state.themes.items()
            if record.merged_into is not None and successor(state, other) == theme_id
        )
    )


def _reject(command: Command, code: RejectCode, message: str) -> CommandRefused:
    return CommandRefused(command.command_id, code, message)


def _entry(command: Command, now: datetime, kind: str, before: LifecycleStatus, after: LifecycleStatus,
           detail: Mapping[str, str] | None = None) -> HistoryEntry:
    return HistoryEntry(
        command_id=command.command_id, kind=kind, actor=command.actor, reason=command.reason, at=now,
        issued_at=command.issued_at, from_status=before, to_status=after, detail=dict(detail or {}),
    )


def _check_target(state: ThemeLifecycle, command: Command) -> CommandRefused | ThemeState:
    theme = state.themes.get(command.theme_id)
    if theme is None:
        return _reject(command, "unknown_theme", f"No theme {command.theme_id!r} is tracked.")
    if theme.status is LifecycleStatus.MERGED:
        target = successor(state, theme.theme_id)
        return _reject(
            command, "merged_theme",
            f"Theme {theme.theme_id!r} was merged into {target!r}; act on {target!r} instead.",
        )
    return theme


def _set_status(theme: ThemeState, command: SetStatus, now: datetime) -> CommandRefused | list[ThemeState]:
    before, after = theme.status, command.status
    if after is LifecycleStatus.MERGED:
        return _reject(command, "illegal_transition", "Use a Merge command to merge themes.")
    if before in CLOSED_STATUSES:
        return _reject(
            command, "theme_closed",
            f"Theme {theme.theme_id!r} is {before.value}, which is final: its closure was published.",
        )
    if before is after:
        return _reject(command, "no_change", f"Theme {theme.theme_id!r} is already {after.value}.")
    if after is LifecycleStatus.DECLINED and not command.reason.strip():
        return _reject(
            command, "reason_required",
            "Declining needs a reason: the people who asked are told why.",
        )
    closure_reason = command.reason if after in CLOSED_STATUSES else theme.closure_reason
    entry = _entry(command, now, "set_status", before, after)
    return [replace(theme, status=after, closure_reason=closure_reason, history=(*theme.history, entry))]


def _set_cost(theme: ThemeState, command: SetCost, now: datetime) -> CommandRefused | list[ThemeState]:
    if theme.status in CLOSED_STATUSES:
        return _reject(command, "theme_closed", f"Theme {theme.theme_id!r} is {theme.status.value}.")
    detail = {"cost": str(command.cost.story_points) if command.cost.known else "unknown"}
    entry = _entry(command, now, "set_cost", theme.status, theme.status, detail)
    return [replace(theme, cost=command.cost, history=(*theme.history, entry))]


def _attach_release(
    theme: ThemeState, command: AttachRelease, now: datetime
) -> CommandRefused | list[ThemeState]:
    if theme.status is LifecycleStatus.DECLINED:
        return _reject(command, "theme_closed", f"Theme {theme.theme_id!r} was declined.")
    if theme.status is LifecycleStatus.SHIPPED and theme.release is not None:
        return _reject(
            command, "theme_closed",
            f"Theme {theme.theme_id!r} shipped in {theme.release.version}; that closure is published.",
        )
    detail = {"release": f"{command.release.name} {command.release.version}"}
    entry = _entry(command, now, "attach_release", theme.status, theme.status, detail)
    return [replace(theme, release=command.release, history=(*theme.history, entry))]


def _rename(theme: ThemeState, command: Rename, now: datetime) -> list[ThemeState]:
    """A rename changes no status: any theme not merged away may be renamed, a closed one too
    (its closure was published under its old title and stays as it is).
    """
    entry = _entry(command, now, "rename", theme.status, theme.status, {"title": command.title})
    return [replace(theme, history=(*theme.history, entry))]


def _keep_apart(
    state: ThemeLifecycle, theme: ThemeState, command: KeepApart, now: datetime
) -> CommandRefused | list[ThemeState]:
    """Both sides of each pair get an entry naming the other; a closed theme may be one of them
    (it stays in the product's lists), a theme merged away may not.
    """
    others = command.other_ids
    if not others or len(set(others)) != len(others) or theme.theme_id in others:
        return _reject(command, "invalid_pair", "Keeping apart needs distinct themes other than this one.")
    changed: list[ThemeState] = []
    for other_id in others:
        other = state.themes.get(other_id)
        if other is None or other.status is LifecycleStatus.MERGED:
            status = "unknown" if other is None else "merged"
            return _reject(command, "invalid_pair", f"Theme {other_id!r} is {status}.")
        entry = _entry(command, now, "keep_apart", other.status, other.status, {"apart_from": theme.theme_id})
        changed.append(replace(other, history=(*other.history, entry)))
    entry = _entry(command, now, "keep_apart", theme.status, theme.status, {"apart_from": ",".join(others)})
    return [replace(theme, history=(*theme.history, entry)), *changed]


def _place(
    state: ThemeLifecycle, theme: ThemeState, command: Place, now: datetime
) -> CommandRefused | list[ThemeState]:
    """The theme the ask joins names it and where it came from; the theme it left (when one held
    it and is tracked) names it and where it went. No status changes: a closed theme may take an
    ask too (after shipping, a follow-up closure thanks its person: ``placed_follow_up``).
    """
    if command.from_theme == theme.theme_id:
        message = f"{command.suggestion_id!r} is in theme {theme.theme_id!r} already."
        return _reject(command, "no_change", message)
    origin = command.from_theme or "alone"
    entry = _entry(command, now, "place", theme.status, theme.status,
                   {"suggestion": command.suggestion_id, "from": origin})
    changed = [replace(theme, history=(*theme.history, entry))]
    source = state.themes.get(command.from_theme) if command.from_theme else None
    if source is not None and source.status is not LifecycleStatus.MERGED:
        left = _entry(command, now, "place", source.status, source.status,
                      {"suggestion": command.suggestion_id, "to": theme.theme_id})
        changed.append(replace(source, history=(*source.history, left)))
    return changed


def _merge(
    state: ThemeLifecycle, target: ThemeState, command: Merge, now: datetime
) -> CommandRefused | list[ThemeState]:
    sources = command.source_ids
    if not sources or len(set(sources)) != len(sources) or target.theme_id in sources:
        return _reject(command, "invalid_merge", "Merge needs distinct sources other than the target.")
    if target.status not in OPEN_STATUSES:
        return _reject(
            command, "invalid_merge",
            f"Target {target.theme_id!r} is {target.status.value}; only open themes take merges.",
        )
    changed: list[ThemeState] = []
    for source_id in sources:
        source = state.themes.get(source_id)
        if source is None or source.status not in OPEN_STATUSES:
            status = "unknown" if source is None else source.status.value
            return _reject(command, "invalid_merge", f"Source {source_id!r} is {status}; it must be open.")
        detail = {"merged_into": target.theme_id}
        entry = _entry(command, now, "merge", source.status, LifecycleStatus.MERGED, detail)
        changed.append(replace(source, status=LifecycleStatus.MERGED, merged_into=target.theme_id,
                               history=(*source.history, entry)))
    entry = _entry(command, now, "merge", target.status, target.status, {"absorbed": ",".join(sources)})
    return [replace(target, history=(*target.history, entry)), *changed]


def _split(
    state: ThemeLifecycle, theme: ThemeState, command: Split, now: datetime
) -> CommandRefused | list[ThemeState]:
    if theme.status not in OPEN_STATUSES:
        return _reject(command, "invalid_split", f"Theme {theme.theme_id!r} is {theme.status.value}.")
    new_ids = [new_id for new_id, _ in command.parts]
    members = [member for _, subset in command.parts for member in subset]
    if not command.parts or len(set(new_ids)) != len(new_ids) or theme.theme_id in new_ids:
        return _reject(command, "invalid_split", "Split needs distinct new theme ids.")
    if any(new_id in state.themes for new_id in new_ids):
        return _reject(command, "invalid_split", "A new theme id of the split is already in use.")
    if any(not subset for _, subset in command.parts) or len(set(members)) != len(members):
        return _reject(command, "invalid_split", "Each part needs members, and no member two parts.")
    changed = [replace(theme, history=(*theme.history, _entry(
        command, now, "split", theme.status, theme.status, {"split_into": ",".join(new_ids)})))]
    for new_id, subset in command.parts:
        entry = _entry(command, now, "split", theme.status, theme.status,
                       {"split_from": theme.theme_id, "members": ",".join(subset)})
        # the part keeps the decision taken on the whole; its cost needs its own estimate
        changed.append(ThemeState(theme_id=new_id, status=theme.status, release=theme.release,
                                  split_from=theme.theme_id, history=(entry,)))
    return changed


def apply_command(
    state: ThemeLifecycle, command: AnyCommand, now: datetime
) -> tuple[ThemeLifecycle, Decision]:
    """Apply one command at ``now`` (timezone-aware); returns the new state and the outcome.

    A command id seen before returns ``state`` unchanged with the first outcome.
    """
    _require_aware(now, "now")
    _require_aware(command.issued_at, "issued_at")
    previous = state.outcomes.get(command.command_id)
    if previous is not None:
        logger.info("command %s already applied; reporting its first outcome", command.command_id)
        return state, previous
    result: CommandRefused | list[ThemeState]
    checked = _check_target(state, command)
    if isinstance(checked, CommandRefused):
        result = checked
    elif isinstance(command, SetStatus):
        result = _set_status(checked, command, now)
    elif isinstance(command, SetCost):
        result = _set_cost(checked, command, now)
    elif isinstance(command, AttachRelease):
        result = _attach_release(checked, command, now)
    elif isinstance(command, Merge):
        result = _merge(state, checked, command, now)
    elif isinstance(command, Rename):
        result = _rename(checked, command, now)
    elif isinstance(command, KeepApart):
        result = _keep_apart(state, checked, command, now)
    elif isinstance(command, Place):
        result = _place(state, checked, command, now)
    else:
        result = _split(state, checked, command, now)
    if isinstance(result, CommandRefused):
        logger.info("command %s rejected: %s", command.command_id, result.code)
        return replace(state, outcomes={**state.outcomes, command.command_id: result}), result
    outcome = CommandApplied(command.command_id, tuple(theme.history[-1] for theme in result))
    themes = {**state.themes, **{theme.theme_id: theme for theme in result}}
    return ThemeLifecycle(themes=themes, outcomes={**state.outcomes, command.command_id: outcome}), outcome


@dataclass(frozen=True)
class ClosureTrigger:
    """A closure to publish: for ``theme_id`` and the themes merged into it, keyed by ``closure_key``."""

    theme_id: str
    outcome: Literal["shipped", "declined"]
    release: ReleaseInfo | None
    reason: str
    merged_theme_ids: tuple[str, ...]
    closure_key: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "theme_id": self.theme_id,
            "outcome": self.outcome,
            "release": self.release.to_dict() if self.release else None,
            "reason": self.reason,
            "merged_theme_ids": list(self.merged_theme_ids),
            "closure_key": self.closure_key,
            "at": self.at.isoformat(),
        }


def closure_key(theme_id: str, release: ReleaseInfo | None) -> str:
    """``closure:{theme_id}:{release_version or 'none'}``: stable across retries."""
    return f"closure:{theme_id}:{release.version if release else 'none'}"


def closure_due(state_before: ThemeLifecycle, state_after: ThemeLifecycle) -> ClosureTrigger | None:
    """The closure owed when one command moved a theme into ``shipped`` or ``declined``, else None.

    ``state_before`` and ``state_after`` must be one :func:`apply_command` apart (ValueError if
    more than one theme closed between them).
    """
    triggers: list[ClosureTrigger] = []
    for theme_id, after in state_after.themes.items():
        before = state_before.themes.get(theme_id)
        if after.status not in CLOSED_STATUSES or (before is not None and before.status is after.status):
            continue
        triggers.append(ClosureTrigger(
            theme_id=theme_id,
            outcome="shipped" if after.status is LifecycleStatus.SHIPPED else "declined",
            release=after.release if after.status is LifecycleStatus.SHIPPED else None,
            reason=after.closure_reason,
            merged_theme_ids=merged_members(state_after, theme_id),
            closure_key=closure_key(
                theme_id, after.release if after.status is LifecycleStatus.SHIPPED else None
            ),
            at=after.history[-1].at,  # a theme only closes through an accepted command
        ))
    if len(triggers) > 1:
        raise ValueError("more than one theme closed between the states; compare states one command apart")
    return triggers[0] if triggers else None
