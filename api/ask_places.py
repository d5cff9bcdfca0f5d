"""``GET /suggestions/{suggestion_id}/themes``: the live themes of its product nearest one ask, where
a product manager may place it (``POST /themes/{theme_id}/place``).

An ask is compared with each theme's centre (its members' stored vectors, the most recent
:data:`~api.themes.CENTRE_MEMBERS` of the product, as ``GET /themes/alone`` and ``GET /themes/pairs``
read them), not with one representative ask: "Can my husband see where I am on the trail?" is
nearest "Live location sharing" by its centre, while its words match the representative asks of
the themes about trails.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.common import ERRORS, NOT_FOUND, ApiError, Viewer
from api.parameters import SuggestionId
from api.readmodel.schema import LIVE_STATUSES, SuggestionRow, SuggestionVectorRow, ThemeRow
from api.reads import theme_read
from api.schemas import AskPlaces, ThemeNear
from api.security import Role
from api.themes import live_theme_members, matrix_of
from models.embedding import l2_normalize
from models.themes.alone import theme_centres


def ask_places_router(*, engine: Engine) -> APIRouter:
    """``GET /suggestions/{suggestion_id}/themes``."""
    router = APIRouter()

    @router.get(
        "/suggestions/{suggestion_id}/themes",
        response_model=AskPlaces,
        tags=["themes"],
        responses={**ERRORS, **NOT_FOUND},
    )
    def ask_places(
        suggestion_id: SuggestionId,
        caller: Viewer,
        limit: Annotated[int, Query(ge=1, le=20)] = 3,
    ) -> AskPlaces:
        """The live themes of the ask's product nearest it, nearest first, the theme that holds it
        left out: ``similarity`` is the ask's cosine to the theme's centre.
        """
        with Session(engine) as session:
            ask = session.get(SuggestionRow, suggestion_id)
            if ask is None:
                raise ApiError(404, "not_found", f"no suggestion {suggestion_id}")
            live = [
                str(theme_id)
                for theme_id in session.scalars(
                    select(ThemeRow.theme_id).where(
                        ThemeRow.product == ask.product,
                        ThemeRow.status.in_(LIVE_STATUSES),
                        ThemeRow.theme_id != (ask.theme_id or ""),
                    )
                )
            ]
            blob = session.get(SuggestionVectorRow, suggestion_id)
            items: list[ThemeNear] = []
            if blob is not None and live:
                vector = l2_normalize(matrix_of([blob.vector]))[0]
                ids, centres = theme_centres(*live_theme_members(session, ask.product, live))
                if ids and float(np.linalg.norm(vector)) > 0:
                    sims = centres @ vector
                    order = np.argsort(-sims, kind="stable")[:limit]
                    chosen = [ids[int(k)] for k in order]
                    rows = {
                        row.theme_id: row
                        for row in session.scalars(select(ThemeRow).where(ThemeRow.theme_id.in_(chosen)))
                    }
                    handles = caller.role >= Role.pm
                    items = [
                        ThemeNear(
                            **theme_read(rows[ids[int(k)]], handles=handles).model_dump(),
                            similarity=round(float(sims[int(k)]), 4),
                        )
                        for k in order
                    ]
        return AskPlaces(suggestion_id=suggestion_id, theme_id=ask.theme_id, items=items)

    return router
