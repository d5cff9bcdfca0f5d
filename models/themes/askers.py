"""Rules over the stored member records (:class:`SuggestionThemed` as JSON): who asked for a
theme, whose records an erasure touches, and where a repeated suggestion goes when its first
author is erased.

Member records are read as plain dicts and validated only once chosen: a product may hold many.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from contracts.events import SuggestionThemed, follows_original, repeating, root_of
from contracts.lifecycle import hash_author
from models.theme_mapping import handed_over
from models.themes.people import ErasureResult


def askers_of(members: Iterable[dict[str, Any]], theme_ids: set[str]) -> list[SuggestionThemed]:
    """Member records of ``theme_ids``, and (transitively) the duplicates that live beside them
    (:func:`~contracts.events.follows_original`: exact repeats, and near-duplicates merged without
    review while they are in no theme of their own), in the members' order.

    Such a duplicate is chosen through its original only, never by the theme its own record
    names; one whose original is unknown (or a circle of repeats) stands by its own record.
    """
    records = {raw["suggestion_id"]: raw for raw in members}
    followers = {
        sid: str(raw["duplicate_of"])
        for sid, raw in records.items()
        if raw.get("duplicate_of") in records
        and follows_original(raw.get("duplicate_kind"), raw.get("theme_id"))
    }
    attached = {sid: original for sid, original in followers.items() if root_of(followers, sid) is not None}
    chosen = {sid for sid, raw in records.items() if raw.get("theme_id") in theme_ids and sid not in attached}
    chosen |= repeating(attached, chosen)
    return [SuggestionThemed.model_validate(raw) for sid, raw in records.items() if sid in chosen]


def repeats_of(members: Iterable[dict[str, Any]], suggestion_id: str) -> list[SuggestionThemed]:
    """The member records that live beside ``suggestion_id`` (transitively, by
    :func:`~contracts.events.follows_original`): they go wherever it goes.
    """
    records = {raw["suggestion_id"]: raw for raw in members}
    followers = {
        sid: str(raw["duplicate_of"])
        for sid, raw in records.items()
        if raw.get("duplicate_of") and follows_original(raw.get("duplicate_kind"), raw.get("theme_id"))
    }
    found = repeating(followers, [suggestion_id])
    return [SuggestionThemed.model_validate(raw) for sid, raw in records.items() if sid in found]


def members_of_theme(members: Iterable[dict[str, Any]], theme_id: str) -> list[SuggestionThemed]:
    """The member records that live in ``theme_id``."""
    return [SuggestionThemed.model_validate(raw) for raw in members if raw.get("theme_id") == theme_id]


def erasure_members(
    members: Iterable[dict[str, Any]], *, product: str, author_hash: str
) -> dict[str, dict[str, Any]]:
    """The records an erasure of ``author_hash`` in ``product`` needs: the person's own, and every
    record that says it repeats one of them (by suggestion id, in the members' order).
    """
    everything = list(members)
    relevant: dict[str, dict[str, Any]] = {}
    for raw in everything:
        if (
            raw.get("product") == product
            and hash_author(str(raw.get("platform")), str(raw.get("author_id"))) == author_hash
        ):
            relevant[raw["suggestion_id"]] = raw
    for raw in everything:
        if raw.get("duplicate_of") in relevant:
            relevant.setdefault(raw["suggestion_id"], raw)
    return relevant


def hand_over(
    relevant: dict[str, dict[str, Any]], erased: ErasureResult, *, now: datetime
) -> list[SuggestionThemed]:
    """The rewritten records of an erasure's hand-overs: for each erased original, its heir (the
    first other person who repeated it word for word) now holds the item, and the original's
    other repeats repeat the heir. Forgotten records are left out.
    """
    records: list[SuggestionThemed] = []
    for old, heir in erased.handed_over.items():
        for raw in relevant.values():
            if raw["suggestion_id"] in erased.forgotten:
                continue
            if raw["suggestion_id"] == heir or raw.get("duplicate_of") == old:
                records.append(handed_over(raw, heir=heir, now=now))
    return records
