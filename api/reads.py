"""Read-model rows as API response models, with what each role may see of people.

Roles below pm see no author handle: not in the handle fields, not in a suggestion's URL (which
names its author on most platforms, ``https://x.com/<handle>/status/...``: it is left out), and
not inside people's own words either (``@name`` in a text is shown as ``@…``, a link as its
scheme and host, ``https://x.com/…``); closures lose their people, replies and posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

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
from contracts.events import ATTACHING, LifecycleStatus, follows_original, is_mixed
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
        agreement=row.agreement,
        mixed=is_mixed(row.agreement),
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


_CHUNK = 500
LISTED_REPEATS = 5_000
"""Bounds a listing query's parameters: a theme's repeats are far fewer."""


@dataclass(frozen=True)
class RepeatHome:
    """Where a repeat's own row says it is (``own``) and where it lives (``home``): the theme of
    the ask it repeats, followed through repeats of repeats (None: that ask is in no theme).
    """

    own: str | None
    home: str | None


def _root_themes(session: Session, originals: dict[str, str]) -> dict[str, str | None]:
    """For each repeat (``originals``: its id and the id of what it repeats), the theme of the ask
    its chain of repeats ends at (None: in no theme); a repeat whose chain reaches an ask the read
    model does not hold, or turns in a circle, is left out (it stands by its own row).
    """
    pointer = dict(originals)
    seen = {repeat: {repeat} for repeat in originals}
    rows: dict[str, tuple[str | None, str | None, str | None]] = {}
    homes: dict[str, str | None] = {}
    while pointer:
        wanted = sorted(set(pointer.values()) - rows.keys())
        for start in range(0, len(wanted), _CHUNK):
            for suggestion_id, theme_id, original, kind in session.execute(
                select(
                    SuggestionRow.suggestion_id, SuggestionRow.theme_id, SuggestionRow.duplicate_of,
                    SuggestionRow.duplicate_kind,
                ).where(SuggestionRow.suggestion_id.in_(wanted[start : start + _CHUNK]))
            ):
                rows[suggestion_id] = (theme_id, original, kind)
        further: dict[str, str] = {}
        for repeat, current in pointer.items():
            if current not in rows:
                continue
            theme_id, original, kind = rows[current]
            if original is None or not follows_original(kind, theme_id):
                homes[repeat] = theme_id
            elif original not in seen[repeat]:  # a repeat of a repeat
                seen[repeat].add(original)
                further[repeat] = original
        pointer = further
    return homes


def repeat_homes(session: Session, product: str) -> dict[str, RepeatHome]:
    """The product's asks that live beside what they repeat
    (:func:`~contracts.events.follows_original`) and whose original the read model holds, each
    with its :class:`RepeatHome`.
    """
    attached: dict[str, tuple[str | None, str]] = {
        suggestion_id: (theme_id, str(original))
        for suggestion_id, theme_id, original, kind in session.execute(
            select(
                SuggestionRow.suggestion_id, SuggestionRow.theme_id, SuggestionRow.duplicate_of,
                SuggestionRow.duplicate_kind,
            ).where(
                SuggestionRow.product == product,
                SuggestionRow.duplicate_kind.in_(ATTACHING),
                SuggestionRow.duplicate_of.is_not(None),
            )
        )
        if follows_original(kind, theme_id)
    }
    homes = _root_themes(session, {repeat: original for repeat, (_, original) in attached.items()})
    return {repeat: RepeatHome(attached[repeat][0], home) for repeat, home in homes.items()}


def theme_asks(session: Session, theme_id: str) -> ColumnElement[bool]:
    """The condition on :class:`SuggestionRow` that selects a theme's asks: its rows, less the
    repeats whose original lives elsewhere now, and the repeats whose original lives in it (made
    while it was alone, or in a theme it has since left): counted among the theme's people and
    thanked by its closures, so listed and previewed with it. Found from the theme's own rows
    (by what repeats them), not from every repeat of the product.
    """
    own = {
        suggestion_id: str(original)
        for suggestion_id, original, kind in session.execute(
            # by the theme's index alone: on the kind's, a planner would read every repeat
            select(
                SuggestionRow.suggestion_id, SuggestionRow.duplicate_of, SuggestionRow.duplicate_kind
            ).where(SuggestionRow.theme_id == theme_id)
        )
        if original is not None and follows_original(kind, theme_id)
    }
    homes = _root_themes(session, own)
    away = sorted(repeat for repeat, home in homes.items() if home != theme_id)
    repeated = aliased(SuggestionRow)
    level = {
        repeat
        for repeat, repeat_theme, kind, of in session.execute(
            select(
                SuggestionRow.suggestion_id, SuggestionRow.theme_id, SuggestionRow.duplicate_kind,
                SuggestionRow.duplicate_of,
            )
            .join(repeated, SuggestionRow.duplicate_of == repeated.suggestion_id)
            # from the theme's rows to what repeats them (kinds and themes are read here: on them
            # a planner would start from every repeat of the product)
            .where(repeated.theme_id == theme_id)
        )
        # what it repeats is rooted here: one of the theme's asks, or a repeat of one
        if repeat_theme != theme_id and follows_original(kind, repeat_theme)
        and (of not in own or homes.get(of) == theme_id)
    }
    here: set[str] = set()
    while level:  # and the repeats of those repeats
        here |= level
        found: set[str] = set()
        ids = sorted(level)
        for start in range(0, len(ids), _CHUNK):
            for repeat, repeat_theme, kind in session.execute(
                select(
                    SuggestionRow.suggestion_id, SuggestionRow.theme_id, SuggestionRow.duplicate_kind
                ).where(SuggestionRow.duplicate_of.in_(ids[start : start + _CHUNK]))
            ):
                if follows_original(kind, repeat_theme) and repeat_theme != theme_id and repeat not in here:
                    found.add(repeat)
        level = found
    condition = SuggestionRow.theme_id == theme_id
    if away:
        condition = and_(condition, SuggestionRow.suggestion_id.not_in(away[:LISTED_REPEATS]))
    if here:
        condition = or_(condition, SuggestionRow.suggestion_id.in_(sorted(here)[:LISTED_REPEATS]))
    return condition
