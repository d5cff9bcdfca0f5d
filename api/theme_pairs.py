"""``GET /themes/pairs``: a product's themes that may be one idea, for a product manager to merge
(``POST /themes/{into}/merge``) or keep apart (``POST /themes/{theme_id}/keep-apart``).

The themes' centres come from their members' stored vectors (the most recent
:data:`~api.themes.CENTRE_MEMBERS` of the product, as for ``GET /themes/alone``); the
pairs a product manager kept apart are read from the themes' history, each side followed
through ``merged_into`` to the theme that holds its asks now, as the engine keeps them. The rule is
:mod:`models.themes.pairs`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.common import ERRORS, Viewer
from api.parameters import NO_NUL
from api.readmodel.schema import LIVE_STATUSES, ThemeHistoryRow, ThemeRow
from api.reads import theme_read
from api.schemas import ThemePairRead, ThemePairs
from api.security import Role
from api.themes import live_theme_members
from models.themes.pairs import MUTUAL, REVIEW_FLOOR, close_pairs, kept_apart


def theme_pairs_router(*, engine: Engine) -> APIRouter:
    """``GET /themes/pairs`` (included before ``/themes/{theme_id}``)."""
    router = APIRouter()

    @router.get("/themes/pairs", response_model=ThemePairs, tags=["themes"], responses=ERRORS)
    def theme_pairs(
        caller: Viewer,
        product: Annotated[str, Query(min_length=1, max_length=256, pattern=NO_NUL)],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> ThemePairs:
        """Pairs of the product's live themes that may be one idea: their centres at cosine 0.60
        or more ("possibly the same idea") and their members each other's neighbours (for most of
        them, on average over the two themes, the nearest other theme is the partner), most mutual
        first, each pair once, without those a product manager kept apart. ``into`` is the theme a
        merge would keep (more people), ``other`` the one it folds in.
        """
        with Session(engine) as session:
            sizes = {
                str(theme_id): (people, asks)
                for theme_id, people, asks in session.execute(
                    select(ThemeRow.theme_id, ThemeRow.author_count, ThemeRow.mention_count).where(
                        ThemeRow.product == product, ThemeRow.status.in_(LIVE_STATUSES)
                    )
                )
            }
            member_themes, member_vectors = live_theme_members(session, product, list(sizes))
            decisions = session.execute(
                select(ThemeHistoryRow.theme_id, ThemeHistoryRow.detail)
                .join(ThemeRow, ThemeRow.theme_id == ThemeHistoryRow.theme_id)
                .where(ThemeRow.product == product, ThemeHistoryRow.kind == "keep_apart")
            ).all()
            merged = {
                str(theme_id): str(into)
                for theme_id, into in session.execute(
                    select(ThemeRow.theme_id, ThemeRow.merged_into).where(
                        ThemeRow.product == product, ThemeRow.merged_into.is_not(None)
                    )
                )
            }
            pairs = close_pairs(
                member_themes,
                member_vectors,
                sizes=sizes,
                apart=kept_apart([(str(tid), str(detail)) for tid, detail in decisions], merged),
                limit=limit,
            )
            shown = {p.into for p in pairs} | {p.other for p in pairs}
            listed = select(ThemeRow).where(ThemeRow.theme_id.in_(shown))
            rows = {row.theme_id: row for row in session.scalars(listed)}
            handles = caller.role >= Role.pm
            items = [
                ThemePairRead(
                    into=theme_read(rows[pair.into], handles=handles),
                    other=theme_read(rows[pair.other], handles=handles),
                    similarity=pair.similarity,
                    mutual=pair.mutual,
                )
                for pair in pairs
            ]
        return ThemePairs(product=product, floor=REVIEW_FLOOR, mutual=MUTUAL, items=items)

    return router
