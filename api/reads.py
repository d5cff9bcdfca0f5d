"""Read-model rows as API response models, with what each role may see of people.

Roles below pm see no author handle: not in the handle fields, not in a suggestion's URL (which
names its author on most platforms, ``https://x.com/<handle>/status/...``: it is left out), and
not inside people's own words either (``@name`` in a text is shown as ``@…``, a link as its
scheme and host, ``https://x.com/…``); closures lose their people, replies and posts.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.readmodel.schema import (
    ClosureImpactRow,
    ClosureRow,
    MonthlyUpdateRow,
    SuggestionRow,
    ThemeHistoryRow,
    ThemeRow,
)
from api.schemas import (
    ClosureImpactRead,
    ClosureRead,
    ImpactWeekRead,
    MonthlyUpdateRead,
    SuggestionRead,
    ThemeRead,
)
from contracts.events import LifecycleStatus
from contracts.impact import ClosureImpact

HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+(?<!\.)")
# scheme, [user@], host, the rest of the link (up to trailing punctuation)
LINK = re.compile(r"""(?i)\b(https?://)(?:[^\s/?#@]*@)?([^\s/?#@]+)\S*?(?=[.,;:!?)\]'"]*(?:\s|$))""")


def mask_handles(text: str | None) -> str | None:
    """``text`` with every ``@handle`` in it shown as ``@…`` and every link as its scheme and host
    (``https://x.com/…``): what roles without handles see of people's own words (they name
    themselves or others that way, and a link's path often holds a handle).
    """
    return None if text is None else HANDLE.sub("@…", LINK.sub(r"\1\2/…", text))


def suggestion_read(row: SuggestionRow, *, handles: bool, placed: bool = False) -> SuggestionRead:
    """One suggestion; ``handles`` shows its author's handle and the text unmasked; ``placed``: a
    product manager placed it in its theme.
    """
    return SuggestionRead(
        suggestion_id=row.suggestion_id,
        platform=row.platform,
        comment_id=row.comment_id,
        url=row.url if handles else None,
        text=row.text if handles else mask_handles(row.text),
        comment_text=row.comment_text if handles else mask_handles(row.comment_text),
        ask_start=row.ask_start if handles else None,
        ask_end=row.ask_end if handles else None,
        asked_at=row.asked_at,
        duplicate_of=row.duplicate_of,
        duplicate_kind=row.duplicate_kind,
        author_handle=row.author_handle if handles else None,
        placed=placed,
    )


def theme_read(row: ThemeRow, *, handles: bool = False) -> ThemeRead:
    """One theme's summary; ``handles`` shows its representative text unmasked."""
    return ThemeRead(
        theme_id=row.theme_id,
        product=row.product,
        status=row.status,
        lifecycle_status=LifecycleStatus(row.lifecycle_status),
        merged_into=row.merged_into,
        title=row.title,
        named=row.named,
        label=row.label,
        keywords=list(row.keywords or []),
        representative_text=row.representative_text if handles else mask_handles(row.representative_text),
        mention_count=row.mention_count,
        member_count=row.member_count,
        author_count=row.author_count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        platform_counts=dict(row.platform_counts or {}),
        priority=row.priority,
        impact=row.impact,
        growth=row.growth,
        quadrant=row.quadrant,
        hot_plan=row.hot_plan,
        changed_at=row.changed_at,
    )


WEEK_FIELDS = set(ImpactWeekRead.model_fields)


def closure_impact_read(
    closure_id: str, closure: ClosureRow | None, rows: list[ClosureImpactRow]
) -> ClosureImpactRead:
    """A closure's impact from its weeks' rows (oldest first) and, before week 1, its closure row;
    the before figures are the latest week's (the last computed).
    """
    events = [ClosureImpact.model_validate(row.event) for row in rows]
    first = events[-1] if events else None
    event = closure.event if closure is not None else {}
    return ClosureImpactRead(
        closure_id=closure_id,
        product=first.product if first else str(event.get("product", "")),
        theme_id=first.theme_id if first else str(event.get("theme_id", "")),
        title=first.title if first else str(event.get("title", "")),
        release=first.release if first else event.get("release"),
        shipped_at=first.shipped_at if first else event.get("asked_by"),
        weeks_before=first.weeks_before if first else None,
        asks_before=first.asks_before if first else None,
        people_before=first.people_before if first else None,
        asks_before_per_week=first.asks_before_per_week if first else None,
        asks_after_shipping=max((e.asks_after for e in events), default=0),
        weeks=[ImpactWeekRead.model_validate(e.model_dump(include=WEEK_FIELDS)) for e in events],
    )


def closure_read(row: ClosureRow, *, people: bool) -> ClosureRead:
    """One closure; without ``people`` its people, replies and posts are left out."""
    event = dict(row.event)
    if not people:  # posts may mention handles: the viewer role sees counts and titles only
        for field in ("people", "replies", "public_posts"):
            event.pop(field, None)
    return ClosureRead(
        closure_key=row.closure_key,
        theme_id=row.theme_id,
        product=row.product,
        outcome=row.outcome,
        title=row.title,
        people_count=row.people_count,
        comment_count=row.comment_count,
        closed_at=row.closed_at,
        event=event,
    )


def monthly_update_read(row: MonthlyUpdateRow, *, handles: bool) -> MonthlyUpdateRead:
    """One monthly update; without ``handles`` its text (and the event's) has handles masked."""
    text = row.text if handles else mask_handles(row.text) or ""
    event = dict(row.event) if handles else {**row.event, "text": text}
    return MonthlyUpdateRead(
        product=row.product,
        month=row.month,
        distinct_people=row.distinct_people,
        text=text,
        published_at=row.published_at,
        event=event,
    )


def placed_asks(session: Session, theme_id: str) -> set[str]:
    """The asks a product manager placed in the theme or in a theme merged into it: the
    ``suggestion`` of each ``place`` entry that names where the ask came from (``from=``; the
    entry of the theme it left says ``to=``). ``suggestion`` is the last field of such an entry.
    """
    merged = list(session.scalars(select(ThemeRow.theme_id).where(ThemeRow.merged_into == theme_id)))
    details = session.scalars(
        select(ThemeHistoryRow.detail).where(
            ThemeHistoryRow.theme_id.in_([theme_id, *merged]), ThemeHistoryRow.kind == "place"
        )
    )
    return {
        detail.split("suggestion=", 1)[1]
        for detail in details
        if detail.startswith("from=") and "suggestion=" in detail
    }
