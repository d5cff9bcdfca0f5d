"""The themes agent as a pure service: (tables, input, time) -> effects.

For each input kind the service reads the state through :class:`~models.themes.tables.ThemeTables`,
takes one step of the product's clustering (changing the loaded :class:`ProductWork` in place) and
returns :class:`~models.themes.effects.Effects`: the records to emit and the table writes, in the
order the adapter applies them. The clock comes in as ``now``; theme ids derive from the state
(``ProductWork.next_id``), so the same inputs on the same state give the same effects.

* :meth:`ThemesService.suggestion`: place a detected suggestion. Its theme snapshots and member
  records, then the tables. A suggestion already stored (re-delivered after its step's writes:
  :func:`stored_already`) or written by an author erased since is passed over.
* :meth:`ThemesService.tick`: a time step (re-cluster when due, or when ``idle``).
* :meth:`ThemesService.command`: a person's decision (:mod:`models.themes.command_effects`).
"""

from __future__ import annotations

from datetime import datetime

from contracts.events import SuggestionDetected
from contracts.lifecycle import hash_author
from models.theme_mapping import RawRecord, suggestion_of
from models.themes.command_effects import command_effects
from models.themes.effects import Effects
from models.themes.step_effects import ThemeRules, snapshot_before, step_effects
from models.themes.tables import ThemeTables
from models.themes.workflow import Placement, StepResult, place_suggestion, tick, tick_reclusters


class ThemesService(ThemeRules):
    """The themes agent's service: one method per input kind, each returning :class:`Effects`."""

    def suggestion(self, tables: ThemeTables, detected: SuggestionDetected, *, now: datetime) -> Effects:
        """Place ``detected`` in its product's themes (or pass it over)."""
        if stored_already(tables, detected):
            return Effects(passed_over=f"re-delivered suggestion {detected.suggestion_id} passed over")
        if erased_before(tables, detected):
            return Effects(passed_over=f"suggestion {detected.suggestion_id} of an erased author passed over")
        work = tables.work(detected.comment.product)
        previous_pool = set(work.themes.pool)
        # Only a re-cluster merges themes away, and only their records before the step are read:
        # serializing every theme for each suggestion would cost O(themes) per suggestion.
        may_merge = self.engine.recluster_due(work.themes, now=now, pending=1)
        before = snapshot_before(work) if may_merge else {}
        held = work.themes.locate(detected.suggestion_id)
        if held is not None:
            # Its step reached the state's changelog but not the members' (a worker died between
            # the two): it is counted already. Write its member entry again; count nothing.
            placement = Placement(detected.suggestion_id, None if held == "pool" else held)
            return step_effects(
                self, tables, work, StepResult(placements=[placement]), detected=detected, before=before,
                previous_pool=previous_pool, now=now,
            )

        def theme_of(suggestion_id: str) -> str | None:
            known = tables.member(suggestion_id)
            return None if known is None else known.get("theme_id")

        result = place_suggestion(
            work,
            suggestion_of(detected),
            engine=self.engine,
            duplicates=self.duplicates,
            theme_of=theme_of,
            now=now,
        )
        return step_effects(
            self, tables, work, result, detected=detected, before=before, previous_pool=previous_pool, now=now
        )

    def tick(self, tables: ThemeTables, product: str, *, idle: bool, now: datetime) -> Effects:
        """A time step of ``product``: re-cluster when due, or when ``idle`` and suggestions arrived."""
        work = tables.work(product)
        previous_pool = set(work.themes.pool)
        reclusters = tick_reclusters(work, engine=self.engine, now=now, idle=idle)
        before = snapshot_before(work) if reclusters else {}
        result = tick(work, engine=self.engine, now=now, idle=idle)
        return step_effects(
            self, tables, work, result, detected=None, before=before, previous_pool=previous_pool, now=now
        )

    def command(self, tables: ThemeTables, record: RawRecord, *, now: datetime) -> Effects:
        """A record of the commands topic (decoded here: an unreadable one gets its rejection)."""
        return command_effects(self, tables, record, now=now)


def erased_before(tables: ThemeTables, detected: SuggestionDetected) -> bool:
    """Whether the author of ``detected`` was erased after writing it (a late or repeated
    delivery of what they asked to have forgotten).
    """
    comment = detected.comment
    stamp = tables.erased_at(comment.product, hash_author(comment.platform.value, comment.author_id))
    return stamp is not None and comment.created_at <= datetime.fromisoformat(stamp)


def stored_already(tables: ThemeTables, detected: SuggestionDetected) -> bool:
    """Whether ``detected``'s step is in the tables: its member entry, and the product's state
    after that step. The two tables are two changelogs, and a worker that dies after a step's
    writes went out may leave the member entry stored without the state (its step count, kept
    with the entry, is then beyond the product's): that suggestion is placed again, from the
    state as it stands, to the same theme and count. An entry written before entries kept the
    count is taken as stored.
    """
    if tables.member(detected.suggestion_id) is None:
        return False
    step = tables.member_step(detected.suggestion_id)
    return step is None or step <= tables.work(detected.comment.product).steps
