"""The table store setting: faust's in-memory store or its RocksDB-backed one, nothing else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.settings import Settings
from messaging.admin import changelog_config


def test_the_default_store_keeps_tables_in_memory() -> None:
    assert Settings().table_store == "memory://"


@pytest.mark.parametrize("url", ["memory://", "rocksdb://", "rocksdb://?key=value"])
def test_faust_stores_are_taken(url: str) -> None:
    assert Settings(table_store=url).table_store == url


@pytest.mark.parametrize("url", ["rocksdict://", "redis://localhost", "", "memory"])
def test_other_stores_are_refused_before_a_worker_starts(url: str) -> None:
    # faust resolves rocksdict:// to a module, not a store: the worker would crash at its start
    with pytest.raises(ValidationError):
        Settings(table_store=url)


def test_changelog_segments_are_the_brokers_unless_set() -> None:
    assert changelog_config(Settings()) == {}
    sixty_four = Settings(changelog_segment_bytes=64 * 1024 * 1024)
    assert changelog_config(sixty_four) == {"segment.bytes": "67108864"}
    with pytest.raises(ValidationError):
        Settings(changelog_segment_bytes=-1)
