"""The themes agent's tables in the worker: two changelog-backed faust tables, partitioned like
the agent's inputs, behind :class:`~models.themes.tables.ThemeTables` (the key layout and the
loading of a product live in :class:`~models.themes.tables.MappingThemeTables`).
"""

from __future__ import annotations

import faust

from contracts.settings import Settings
from messaging.admin import changelog_config
from models.duplicates import DuplicateConfig
from models.themes.effects import MEMBERS, STATE
from models.themes.tables import MappingThemeTables


class FaustThemeTables(MappingThemeTables):
    """``theme-state`` and ``theme-members`` declared on ``app``."""

    def __init__(self, app: faust.App, settings: Settings, *, dim: int, duplicates: DuplicateConfig) -> None:
        partitions = settings.topic_partitions
        configs = changelog_config(settings)
        super().__init__(
            app.Table(STATE, default=None, partitions=partitions, key_type=str,
                      extra_topic_configs=configs),
            app.Table(MEMBERS, default=None, partitions=partitions, key_type=str,
                      extra_topic_configs=configs),
            dim=dim,
            duplicates=duplicates,
        )
