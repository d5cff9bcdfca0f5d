"""The public ideas board's routes: no key, no author identity, no internal score.

Themes are shown by public status (``new`` and ``under_review`` both read "under review";
declined and merged themes are not shown), each with a title and how many people asked. A
shipped theme carries its "You asked, we did" post. What is published here is labels, titles,
counts and dates only: never a handle, an author id, a comment, its url or a person's own words.

Labels and posts are made from people's texts and mention handles, so both pass through
:func:`redact`: a label loses every word that is a handle or author id of someone who asked for
the product (with or without ``@``) or starts with ``@``; a post is taken from the platform
whose text mentions nobody when there is one, and otherwise loses every line that names someone,
its thanks said again with the count alone (the brand's ``thanks_count`` phrase).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.common import ERRORS
from api.parameters import ProductParam
from api.readmodel.schema import LIVE_STATUSES, ClosureRow, MonthlyUpdateRow, SuggestionRow, ThemeRow
from api.schemas import Body
from contracts.events import LifecycleStatus
from contracts.settings import Settings
from models.templates import ClosureTemplates, load_templates, render

LIVE = LIVE_STATUSES

PublicStatus = Literal["under_review", "planned", "in_progress", "shipped"]
COLUMNS: tuple[tuple[PublicStatus, str, tuple[LifecycleStatus, ...]], ...] = (
    ("under_review", "Under review", (LifecycleStatus.NEW, LifecycleStatus.UNDER_REVIEW)),
    ("planned", "Planned", (LifecycleStatus.PLANNED,)),
    ("in_progress", "In progress", (LifecycleStatus.IN_PROGRESS,)),
    ("shipped", "Shipped", (LifecycleStatus.SHIPPED,)),
)
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {422: ERRORS[422]}
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_WORD = re.compile(r"[\w.@-]+")


class PublicShipped(Body):
    """How a shipped idea was closed, for everyone."""

    title: str
    post: str | None = Field(description='The "You asked, we did" post, with no one named in it.')
    shipped_at: datetime
    release_version: str | None
    thanked: int = Field(
        default=0,
        description="How many people its closure thanked (with those a product manager added later): "
        "people who asked after it shipped, or for something else, are among ``people`` but not here.",
    )


class PublicTheme(Body):
    """An idea on the board: a title and how many people asked, nothing that names them."""

    theme_id: str
    product: str
    title: str
    people: int = Field(description="How many distinct people asked.")
    last_asked: datetime | None
    shipped: PublicShipped | None = None


class PublicColumn(Body):
    """The ideas of one public status."""

    status: PublicStatus
    title: str
    total: int
    themes: list[PublicTheme]


class PublicBoard(Body):
    """The ideas board of a product (or of every product), by status."""

    product: str | None
    products: list[str]
    columns: list[PublicColumn]


class PublicMonthlyUpdate(Body):
    """The latest "what we shipped this month" text; every field None when there is none yet."""

    product: str | None
    month: str | None
    text: str | None
    published_at: datetime | None


def _core(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def known_identities(session: Session, product: str | None) -> set[str]:
    """Every handle and author id of someone who asked (for ``product``), lower-case, without ``@``."""
    query = select(SuggestionRow.author_handle, SuggestionRow.author_id).distinct()
    if product:
        query = query.where(SuggestionRow.product == product)
    found: set[str] = set()
    for handle, author_id in session.execute(query):
        for value in (handle, author_id):
            if value and _core(value):
                found.add(_core(value))
                found.add(_core(value).rsplit("/", 1)[-1])  # "u/name" forms: the name alone too
    return found


def _names_someone(text: str, identities: set[str]) -> bool:
    if _MENTION.search(text):
        return True
    return any(_core(word) in identities for word in _WORD.findall(text))


def redact_label(label: str, identities: set[str]) -> str:
    """``label`` without words that are handles or author ids (or look like mentions)."""
    parts = []
    for part in label.split(" / "):
        words = [w for w in part.split() if not w.startswith("@") and _core(w) not in identities]
        if words:
            parts.append(" ".join(words))
    return " / ".join(parts)


def public_title(row: ThemeRow, identities: set[str]) -> str:
    """A theme's title on the board: its title unless a word of it names someone who asked
    (then the whole title goes: a title with a hole reads worse), else its keywords without
    such words, else "An idea".
    """
    if row.title and not _names_someone(row.title, identities):
        return row.title
    return redact_label(row.label, identities) or "An idea"


def redact(text: str, identities: set[str], *, thanks: str) -> str:
    """``text`` without the lines that name someone; ``thanks`` replaces them (once)."""
    kept: list[str] = []
    dropped = False
    for line in text.splitlines():
        if _names_someone(line, identities):
            if not dropped and thanks:
                kept.append(thanks)
            dropped = True
        else:
            kept.append(line)
    return "\n".join(kept).strip()


def public_post(event: dict[str, Any], identities: set[str], templates: ClosureTemplates) -> str | None:
    """The closure's public post fit for the board (see the module doc), or None without one."""
    posts = [p for p in event.get("public_posts") or [] if isinstance(p, dict) and p.get("text")]
    if not posts:
        return None
    people = {str(p.get("handle") or "") for p in event.get("people") or [] if isinstance(p, dict)}
    people |= {str(p.get("author_id") or "") for p in event.get("people") or [] if isinstance(p, dict)}
    names = identities | {_core(p) for p in people if _core(p)}
    for post in posts:
        names |= {_core(h) for h in post.get("mentioned_handles") or [] if _core(h)}
    silent = [p for p in posts if not p.get("mentioned_handles") and not _names_someone(p["text"], names)]
    if silent:
        return str(max(silent, key=lambda p: len(p["text"]))["text"]).strip()
    count = int(event.get("people_count") or 0)
    thanks = (
        render(templates.texts["phrases.thanks_one"], {})
        if count == 1
        else render(templates.texts["phrases.thanks_count"], {"people_count": str(count)})
    )
    return redact(str(posts[0]["text"]), names, thanks=thanks) or None


def _shipped(session: Session, theme_ids: Iterable[str]) -> dict[str, tuple[ClosureRow, int]]:
    """Each theme's latest shipped closure and how many people it thanked, its follow-ups' included.

    A follow-up closure (``follow_up_of``) thanks the people a product manager added after
    shipping, in their threads only: it has no post and did not ship anything, so the board keeps
    the closure it follows (its post, its date) and adds the follow-up's people to the count.
    """
    rows = session.scalars(
        select(ClosureRow)
        .where(ClosureRow.theme_id.in_(list(theme_ids)), ClosureRow.outcome == "shipped")
        .order_by(ClosureRow.closed_at, ClosureRow.closure_key)
    ).all()
    latest = {row.theme_id: row for row in rows if row.follow_up_of is None}
    thanked = {theme_id: closure.people_count for theme_id, closure in latest.items()}
    for row in rows:
        followed = latest.get(row.theme_id)
        if followed is not None and row.follow_up_of == followed.closure_key:
            thanked[row.theme_id] += row.people_count
    return {theme_id: (closure, thanked[theme_id]) for theme_id, closure in latest.items()}


def board(engine: Engine, templates: ClosureTemplates, *, product: str | None, limit: int) -> PublicBoard:
    """Each public status's ``limit`` ideas: most people first; shipped ones newest first."""
    with Session(engine) as session:
        identities = known_identities(session, product)
        products = list(
            session.scalars(
                select(ThemeRow.product)
                .where(ThemeRow.status.in_(LIVE))
                .distinct()
                .order_by(ThemeRow.product)
            )
        )
        columns = []
        for status, title, lifecycle in COLUMNS:
            query = select(ThemeRow).where(
                ThemeRow.status.in_(LIVE), ThemeRow.lifecycle_status.in_([s.value for s in lifecycle])
            )
            if product:
                query = query.where(ThemeRow.product == product)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            order = (
                (ThemeRow.changed_at.desc(), ThemeRow.theme_id)
                if status == "shipped"
                else (ThemeRow.author_count.desc(), ThemeRow.theme_id)
            )
            rows = session.scalars(query.order_by(*order).limit(limit)).all()
            closures = _shipped(session, [r.theme_id for r in rows]) if status == "shipped" else {}
            themes = []
            for row in rows:
                label = public_title(row, identities)
                shipped = None
                if row.theme_id in closures:
                    closure, thanked = closures[row.theme_id]
                    release = closure.event.get("release") or {}
                    shipped = PublicShipped(
                        title=redact_label(closure.title, identities) or label,
                        post=public_post(closure.event, identities, templates),
                        shipped_at=closure.closed_at,
                        release_version=release.get("version") if isinstance(release, dict) else None,
                        thanked=thanked,
                    )
                themes.append(
                    PublicTheme(
                        theme_id=row.theme_id,
                        product=row.product,
                        title=shipped.title if shipped else label,
                        people=row.author_count,
                        last_asked=row.last_seen,
                        shipped=shipped,
                    )
                )
            columns.append(PublicColumn(status=status, title=title, total=total, themes=themes))
    return PublicBoard(product=product, products=products, columns=columns)


def monthly_update(engine: Engine, *, product: str | None) -> PublicMonthlyUpdate:
    """The newest monthly update (of ``product``), its text with no one named in it."""
    query = select(MonthlyUpdateRow).order_by(
        MonthlyUpdateRow.month.desc(), MonthlyUpdateRow.published_at.desc()
    )
    if product:
        query = query.where(MonthlyUpdateRow.product == product)
    with Session(engine) as session:
        row = session.scalars(query.limit(1)).first()
        if row is None:
            return PublicMonthlyUpdate(product=product, month=None, text=None, published_at=None)
        identities = known_identities(session, row.product)
        return PublicMonthlyUpdate(
            product=row.product,
            month=row.month,
            text=redact(row.text, identities, thanks=""),
            published_at=row.published_at,
        )


def public_router(settings: Settings) -> APIRouter:
    """``/public/themes`` and ``/public/monthly-update``: open to everyone, no key."""
    router = APIRouter(prefix="/public", tags=["public"])

    @cache
    def templates() -> ClosureTemplates:
        return load_templates(path=settings.closure_templates)

    @router.get("/themes", response_model=PublicBoard, responses=PUBLIC_ERRORS)
    def public_themes(
        request: Request,
        product: ProductParam = None,
        limit: Annotated[int, Query(ge=1, le=100, description="Ideas per status.")] = 20,
    ) -> PublicBoard:
        """The ideas board: themes by public status (under review, planned, in progress, shipped),
        titles and counts only; shipped ones with their "You asked, we did" post.
        """
        return board(request.app.state.engine, templates(), product=product, limit=limit)

    @router.get("/monthly-update", response_model=PublicMonthlyUpdate, responses=PUBLIC_ERRORS)
    def public_monthly_update(request: Request, product: ProductParam = None) -> PublicMonthlyUpdate:
        """The newest "what we shipped this month" text."""
        return monthly_update(request.app.state.engine, product=product)

    return router
