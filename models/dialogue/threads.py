"""One reply thread's state and how a comment changes it: pure, order-free, idempotent.

A thread's state keeps what its measures need whatever order its comments arrive in (a reply
may come before the message it answers): the earliest customer message, the times of the
brand's replies (the first response is the earliest at or after the earliest customer
message), the earliest escalation, and the keys of the comments already counted, so that a
comment delivered twice counts once. A thread keeps at most :data:`MAX_TURNS` comments; later
ones are passed over (a thread that long is a flood, not a conversation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.dialogue import DialogueThreadMeasured, ServiceLevel
from contracts.events import Platform, Speaker
from models.dates import iso_week
from models.dialogue.escalation import escalation_in
from models.dialogue.working_hours import working_seconds, zone_of

MAX_TURNS = 1000
"""Most comments one thread counts."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One comment of a thread as the measures see it."""

    key: str
    product: str
    platform: Platform
    thread_id: str
    speaker: Speaker
    created_at: datetime
    text: str

    @property
    def thread_key(self) -> str:
        """``product:platform:thread_id``: the thread's identity."""
        return thread_key_of(self.product, self.platform, self.thread_id)


def thread_key_of(product: str, platform: Platform, thread_id: str) -> str:
    """The key of a thread in the tables and on ``feedback.dialogue-threads``."""
    return f"{product}:{platform.value}:{thread_id}"


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What is known of one thread. Times are aware datetimes; ``replies`` sorted ascending."""

    product: str
    platform: Platform
    thread_id: str
    seen: frozenset[str] = frozenset()
    first_inbound_at: datetime | None = None
    replies: tuple[datetime, ...] = ()
    inbound_count: int = 0
    escalation: str | None = None
    escalated_at: datetime | None = None

    @property
    def key(self) -> str:
        return thread_key_of(self.product, self.platform, self.thread_id)

    @property
    def first_reply_at(self) -> datetime | None:
        """The brand's first reply at or after the first customer message (None: unanswered)."""
        if self.first_inbound_at is None:
            return None
        return next((at for at in self.replies if at >= self.first_inbound_at), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for a table."""
        return {
            "product": self.product,
            "platform": self.platform.value,
            "thread_id": self.thread_id,
            "seen": sorted(self.seen),
            "first_inbound_at": _iso(self.first_inbound_at),
            "replies": [at.isoformat() for at in self.replies],
            "inbound_count": self.inbound_count,
            "escalation": self.escalation,
            "escalated_at": _iso(self.escalated_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThreadState:
        """Read :meth:`to_dict`'s form back."""
        return cls(
            product=data["product"],
            platform=Platform(data["platform"]),
            thread_id=data["thread_id"],
            seen=frozenset(data["seen"]),
            first_inbound_at=_time(data["first_inbound_at"]),
            replies=tuple(datetime.fromisoformat(at) for at in data["replies"]),
            inbound_count=int(data["inbound_count"]),
            escalation=data["escalation"],
            escalated_at=_time(data["escalated_at"]),
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def apply_turn(state: ThreadState | None, turn: Turn) -> ThreadState | None:
    """The thread's state after ``turn``; None when the turn changes nothing (counted before,
    or the thread is full).
    """
    if state is None:
        state = ThreadState(product=turn.product, platform=turn.platform, thread_id=turn.thread_id)
    if turn.key in state.seen or len(state.seen) >= MAX_TURNS:
        return None
    seen = state.seen | {turn.key}
    if turn.speaker is Speaker.CUSTOMER:
        earlier = state.first_inbound_at
        first = turn.created_at if earlier is None else min(earlier, turn.created_at)
        return replace(state, seen=seen, first_inbound_at=first, inbound_count=state.inbound_count + 1)
    replies = tuple(sorted((*state.replies, turn.created_at)))
    phrase = escalation_in(turn.text)
    if phrase is not None and (state.escalated_at is None or turn.created_at < state.escalated_at):
        return replace(state, seen=seen, replies=replies, escalation=phrase, escalated_at=turn.created_at)
    return replace(state, seen=seen, replies=replies)


def measure_thread(state: ThreadState, *, level: ServiceLevel, now: datetime) -> DialogueThreadMeasured:
    """The thread's measures under ``level`` (its week in the level's time zone)."""
    first, reply = state.first_inbound_at, state.first_reply_at
    response = working = None
    within = None
    if first is not None and reply is not None:
        response = (reply - first).total_seconds()
        working = working_seconds(first, reply, level=level)
        within = working <= level.response_s
    return DialogueThreadMeasured(
        key=state.key,
        product=state.product,
        platform=state.platform,
        thread_id=state.thread_id,
        week=None if first is None else week_of(first, level=level),
        first_inbound_at=first,
        first_reply_at=reply,
        response_s=response,
        working_response_s=working,
        within_service_level=within,
        escalated=state.escalation is not None,
        escalation=state.escalation,
        inbound_count=state.inbound_count,
        reply_count=len(state.replies),
        service_level=level,
        measured_at=now,
    )


def week_of(moment: datetime, *, level: ServiceLevel) -> str:
    """The ISO week (``2017-W44``) of ``moment`` in the service level's time zone."""
    return iso_week(moment.astimezone(zone_of(level.timezone)))
