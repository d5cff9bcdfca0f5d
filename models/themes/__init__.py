"""Online theme clustering with stable ids: see :mod:`models.themes.engine`."""

from models.themes.config import ThemeConfig
from models.themes.engine import IdFactory, ThemeEngine
from models.themes.events import (
    SuggestionPlaced,
    ThemeCreated,
    ThemeEvent,
    ThemeMerged,
    ThemeSplit,
    ThemeUpdated,
)
from models.themes.records import AuthorSet, Member, Suggestion, ThemeRecord
from models.themes.state import ProductThemes

__all__ = [
    "AuthorSet",
    "IdFactory",
    "Member",
    "ProductThemes",
    "Suggestion",
    "SuggestionPlaced",
    "ThemeConfig",
    "ThemeCreated",
    "ThemeEngine",
    "ThemeEvent",
    "ThemeMerged",
    "ThemeRecord",
    "ThemeSplit",
    "ThemeUpdated",
]
