"""The themes agent's two tables and every key in them, behind one small interface.

``theme-state`` holds, per product and theme (each record well below 1 MB):

* ``meta:<product>``, ``theme:<id>``, ``pool:<id>``, ``lineage:<product>``: the clustering, from
  which a restarted or moved worker rebuilds a product's :class:`ProductWork`;
* ``sampled:<theme>:<suggestion id>``: one sampled or provisional member of a theme (its text,
  vector and counts). A theme's record names its members by id, so a suggestion that joins a
  theme rewrites the theme's aggregates and its own member entry (when it enters the sample),
  not the whole sample: the changelog grows by a few kilobytes per suggestion, not by the theme.
  Records written before this layout hold their members inline and are read as they are;
* ``life:<theme>``: a theme's lifecycle (:class:`~models.lifecycle.ThemeState`);
* ``outcome:<command>``: a command's outcome, reported again when the command is re-delivered;
* ``erased:<product>:<author hash>``: when a person was erased (ISO time), so their earlier
  suggestions, delivered again, stay out;
* ``askers:<theme>`` and ``closed:<theme>``: a product manager's decisions about the theme's
  askers and the theme's latest shipped closure (:mod:`models.themes.asker_decisions`);
* ``impact:<product>``: the product's shipped closures followed after shipping, their follow-up
  praise and the figures last published (:mod:`models.themes.impact_effects`).

``theme-members`` maps a suggestion id to its :class:`~contracts.events.SuggestionThemed` record;
a suggestion's own entry also holds the product's step count after its step (``STEP_FIELD``,
:attr:`~models.themes.workflow.ProductWork.steps`), which the readers here leave out.

:class:`ThemeTables` is what the service reads; it changes the tables only through
:class:`~models.themes.effects.TableWrite` items the adapter applies. :class:`MappingThemeTables`
implements it over any two dict-like tables (faust tables in the worker, dicts in tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from models.duplicates import DuplicateConfig
from models.themes.effects import MEMBERS, STATE, TableWrite
from models.themes.records import Member
from models.themes.state import ProductThemes
from models.themes.workflow import Lineage, ProductWork, StepResult

logger = logging.getLogger(__name__)

STEP_FIELD = "product_step"
"""The key of a member entry that holds the product's step count once its suggestion was placed."""


def meta_key(product: str) -> str:
    """The product's counters and ids of its themes and pool."""
    return f"meta:{product}"


def theme_key(theme_id: str) -> str:
    """One live theme's record."""
    return f"theme:{theme_id}"


def sampled_key(theme_id: str, suggestion_id: str) -> str:
    """One sampled or provisional member of a theme."""
    return f"sampled:{theme_id}:{suggestion_id}"


def pool_key(item_id: str) -> str:
    """One pooled suggestion's record."""
    return f"pool:{item_id}"


def lineage_key(product: str) -> str:
    """The product's theme-id counter and every theme's lineage."""
    return f"lineage:{product}"


def life_key(theme_id: str) -> str:
    """A theme's lifecycle."""
    return f"life:{theme_id}"


def outcome_key(command_id: str) -> str:
    """A command's outcome."""
    return f"outcome:{command_id}"


def erased_key(product: str, author_hash: str) -> str:
    """When ``author_hash`` was erased in ``product`` (ISO time)."""
    return f"erased:{product}:{author_hash}"


def impact_key(product: str) -> str:
    """The impact of ``product``'s shipped closures (:mod:`models.themes.impact_effects`)."""
    return f"impact:{product}"


class ThemeTables(Protocol):
    """The state the themes service reads: one product's clustering (loaded once, then kept and
    changed in place by the service), lifecycles, outcomes, erasures and member records.
    """

    def work(self, product: str) -> ProductWork: ...
    def life(self, theme_id: str) -> dict[str, Any] | None: ...
    def outcome(self, command_id: str) -> dict[str, Any] | None: ...
    def erased_at(self, product: str, author_hash: str) -> str | None: ...
    def member(self, suggestion_id: str) -> dict[str, Any] | None: ...
    def member_step(self, suggestion_id: str) -> int | None: ...
    def members(self) -> Iterable[dict[str, Any]]: ...
    def impact(self, product: str) -> dict[str, Any] | None: ...
    def state(self, key: str) -> Any: ...


class MappingThemeTables:
    """:class:`ThemeTables` over two dict-like tables (``get``, ``[]``, ``pop``, ``values``).

    ``loaded`` keeps each product's :class:`ProductWork` once read; :meth:`forget` drops them
    (after a rebalance, or after a step that raised and may have left one half-changed).
    """

    def __init__(self, state: Any, members: Any, *, dim: int, duplicates: DuplicateConfig) -> None:
        self.state_table = state
        self.members_table = members
        self.dim = dim
        self.duplicates = duplicates
        self.loaded: dict[str, ProductWork] = {}

    def forget(self) -> None:
        self.loaded.clear()

    def stored_products(self) -> set[str]:
        """The products whose state the ``theme-state`` table holds (loaded or not)."""
        prefix = meta_key("")
        return {key[len(prefix) :] for key in list(self.state_table.keys()) if key.startswith(prefix)}

    def work(self, product: str) -> ProductWork:
        work = self.loaded.get(product)
        if work is not None:
            return work
        table = self.state_table
        meta = table.get(meta_key(product))
        if meta is None:
            work = ProductWork.new(product=product, dim=self.dim)
        else:
            themes: dict[str, dict[str, Any]] = {}
            stored: dict[str, dict[str, str]] = {}
            for tid in meta["theme_ids"]:
                themes[tid], stored[tid] = _theme_with_members(table, tid)
            pool = {pid: table[pool_key(pid)] for pid in meta["pool_ids"]}
            lineage = table.get(lineage_key(product)) or {"next_id": 0, "themes": {}}
            work = ProductWork(
                themes=ProductThemes.from_records(meta, themes, pool),
                window=ProductWork.new(product=product, dim=self.dim).window,
                next_id=int(lineage["next_id"]),
                steps=int(lineage.get("steps", 0)),
                lineage={tid: Lineage.from_dict(v) for tid, v in lineage["themes"].items()},
                stored_members=stored,
            )
            work.rebuild_window(self.duplicates)
            logger.info("themes of %s resumed: %d themes, %d pooled", product, len(themes), len(pool))
        self.loaded[product] = work
        return work

    def life(self, theme_id: str) -> dict[str, Any] | None:
        stored: dict[str, Any] | None = self.state_table.get(life_key(theme_id))
        return stored

    def outcome(self, command_id: str) -> dict[str, Any] | None:
        stored: dict[str, Any] | None = self.state_table.get(outcome_key(command_id))
        return stored

    def erased_at(self, product: str, author_hash: str) -> str | None:
        stored: str | None = self.state_table.get(erased_key(product, author_hash))
        return stored

    def state(self, key: str) -> Any:
        """The value at ``key`` of ``theme-state`` (None when absent)."""
        return self.state_table.get(key)

    def member(self, suggestion_id: str) -> dict[str, Any] | None:
        stored: dict[str, Any] | None = self.members_table.get(suggestion_id)
        return None if stored is None else member_record(stored)

    def member_step(self, suggestion_id: str) -> int | None:
        """The product's step count stored with ``suggestion_id``'s own member entry (None: no entry,
        or one written before entries held it).
        """
        stored: dict[str, Any] | None = self.members_table.get(suggestion_id)
        step = None if stored is None else stored.get(STEP_FIELD)
        return None if step is None else int(step)

    def members(self) -> Iterable[dict[str, Any]]:
        return (member_record(raw) for raw in self.members_table.values() if raw is not None)

    def impact(self, product: str) -> dict[str, Any] | None:
        stored: dict[str, Any] | None = self.state_table.get(impact_key(product))
        return stored

    def apply(self, write: TableWrite) -> None:
        """Apply one write of the service's effects."""
        table = self.state_table if write.table == STATE else self.members_table
        if write.value is None:
            table.pop(write.key, None)
        else:
            table[write.key] = write.value


def member_record(stored: dict[str, Any]) -> dict[str, Any]:
    """A member entry as its :class:`~contracts.events.SuggestionThemed` record (its step aside)."""
    if STEP_FIELD not in stored:
        return stored
    return {key: value for key, value in stored.items() if key != STEP_FIELD}


def _theme_with_members(table: Any, theme_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A theme's stored record with its members put back inline, and the digests of the members
    stored under their own keys (none for a record written with its members inline).
    """
    raw: dict[str, Any] = table[theme_key(theme_id)]
    if "sample_ids" not in raw:
        return raw, {}

    def stored(ids: list[str]) -> list[dict[str, Any]]:
        found = [table.get(sampled_key(theme_id, sid)) for sid in ids]
        if None in found:  # a write cut short: the sample goes on without the missing entries
            logger.warning("theme %s: %d sampled members not in the table", theme_id, found.count(None))
        return [member for member in found if member is not None]

    sample, provisional = stored(raw["sample_ids"]), stored(raw["provisional_ids"])
    digests = {str(member["id"]): member_digest(member) for member in [*sample, *provisional]}
    return {**raw, "sample": sample, "provisional": provisional}, digests


def member_digest(member: dict[str, Any]) -> str:
    """A digest of a member's stored form: a member is written again only when it changes."""
    return hashlib.blake2b(json.dumps(member, sort_keys=True).encode(), digest_size=16).hexdigest()


def set_state(key: str, value: Any) -> TableWrite:
    """Set (``value=None``: delete) ``key`` of ``theme-state``."""
    return TableWrite(STATE, key, value)


def set_member(suggestion_id: str, value: dict[str, Any] | None) -> TableWrite:
    """Set (``value=None``: delete) the member record of ``suggestion_id``."""
    return TableWrite(MEMBERS, suggestion_id, value)


def work_writes(
    work: ProductWork, result: StepResult, *, previous_pool: set[str], everything: bool
) -> list[TableWrite]:
    """The writes that store ``work`` after ``result``: the touched theme records (all of them
    when ``everything``) and, of their members, those that are new, changed or gone; the members
    of themes that no longer exist; the pool's new and removed items, the product's meta and
    lineage.
    """
    state = work.themes
    product = state.product
    writes: list[TableWrite] = []
    changed = set(state.themes) if everything else set(result.changed)
    for placement in result.placements:
        if placement.theme_id in state.themes:
            changed.add(placement.theme_id)
    for theme_id in sorted(changed & set(state.themes)):
        # The members it names first, the record, then the entries it no longer names: a batch
        # of writes cut short (at-least-once) never leaves a record naming an entry not written.
        record = state.themes[theme_id]
        written, stale = _member_writes(work, theme_id, record.members)
        writes.extend(written)
        writes.append(set_state(theme_key(theme_id), record.to_dict(members=False)))
        writes.extend(stale)
    for old in result.merged:
        writes.append(set_state(theme_key(old), None))
    for gone in sorted(set(work.stored_members) - set(state.themes)):
        left = sorted(work.stored_members.pop(gone))
        writes.extend(set_state(sampled_key(gone, sid), None) for sid in left)
    current_pool = set(state.pool)
    for pid in current_pool - previous_pool:
        writes.append(set_state(pool_key(pid), state.pool[pid].to_dict()))
    if everything:
        for pid in current_pool & previous_pool:
            writes.append(set_state(pool_key(pid), state.pool[pid].to_dict()))
    for pid in previous_pool - current_pool:
        writes.append(set_state(pool_key(pid), None))
    writes.append(set_state(meta_key(product), state.meta_dict()))
    lineage = {
        "next_id": work.next_id,
        "steps": work.steps,
        "themes": {tid: lin.to_dict() for tid, lin in work.lineage.items()},
    }
    writes.append(set_state(lineage_key(product), lineage))
    return writes


def _member_writes(
    work: ProductWork, theme_id: str, members: list[Member]
) -> tuple[list[TableWrite], list[TableWrite]]:
    """The writes of the members of ``theme_id`` that are new or changed since they were last
    written, and the deletions of those no longer in it; remember what is now stored.
    """
    before = work.stored_members.get(theme_id, {})
    now: dict[str, str] = {}
    writes: list[TableWrite] = []
    for member in members:
        data = member.to_dict()
        digest = member_digest(data)
        now[member.suggestion_id] = digest
        if before.get(member.suggestion_id) != digest:
            writes.append(set_state(sampled_key(theme_id, member.suggestion_id), data))
    stale = [set_state(sampled_key(theme_id, sid), None) for sid in sorted(before.keys() - now.keys())]
    work.stored_members[theme_id] = now
    return writes, stale
