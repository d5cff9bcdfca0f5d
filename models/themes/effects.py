"""What the themes service asks its adapter to do, as data: records to emit and table writes.

The service (:mod:`models.themes.service`) returns an :class:`Effects` for each input; the
adapter applies its items in order:

* an :class:`Emit` is one record for a topic: a key, an event (or ``None``: a tombstone on a
  compacted topic), the partition it must go to (``None``: the producer's choice by key) and
  whether it is published **once** (checked against a ledger of what the topic already holds
  and recorded there once acknowledged). Records that are not published once are sent without
  waiting; the adapter waits for all of them before the next publish-once record or table write,
  so a table is never written before the records it stands for are on their topics;
* a :class:`TableWrite` sets (or, with ``value=None``, deletes) one key of one table.

``checkpoint`` names a point right after a publish-once record went out (crash tests arm it);
``log`` is what the adapter logs when the record was sent now (not on a ledger skip);
``ledger_key`` is what the ledger remembers of a record published once when that is not its key
(a compacted record re-published in new versions under one key: ``key#v<version>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from contracts.topics import TopicSpec

TableName = Literal["theme-state", "theme-members"]
STATE: TableName = "theme-state"
MEMBERS: TableName = "theme-members"


@dataclass(frozen=True)
class Emit:
    """One record for ``topic``: ``value`` under ``key`` (``value=None``: a tombstone)."""

    topic: TopicSpec
    key: str
    value: BaseModel | None
    partition: int | None = None
    once: bool = False
    checkpoint: str | None = None
    log: str | None = None
    ledger_key: str | None = None


@dataclass(frozen=True)
class TableWrite:
    """Set ``key`` of ``table`` to ``value`` (a JSON-able record), or delete it when ``value`` is None."""

    table: TableName
    key: str
    value: Any = None


Effect = Emit | TableWrite


@dataclass
class Effects:
    """The effects of one input, in the order they apply.

    ``stepped`` says the product's clustering took a step (the adapter's idle clock restarts);
    ``passed_over`` says why an input produced nothing (a re-delivery, an erased author).
    """

    items: list[Effect] = field(default_factory=list)
    stepped: bool = False
    passed_over: str | None = None

    def emits(self, topic: TopicSpec | None = None) -> list[Emit]:
        """The records to emit, all or only those for ``topic``."""
        emits = [e for e in self.items if isinstance(e, Emit)]
        return [e for e in emits if topic is None or e.topic.name == topic.name]

    def writes(self) -> list[TableWrite]:
        """The table writes."""
        return [e for e in self.items if isinstance(e, TableWrite)]
