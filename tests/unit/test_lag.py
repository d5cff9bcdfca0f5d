"""The one lag rule: end offset minus committed offset, a partition with no commit counted from its
log start offset (not from 0, which would count records retention already deleted)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from messaging.lag import PartitionLag, read_lag
from messaging.offsets import counted_from, has_commit, lag_by_partition, partition_lag


def test_a_committed_partition_lags_by_end_minus_committed() -> None:
    assert partition_lag(end_offset=10, committed=4, log_start=7) == 6
    assert partition_lag(end_offset=10, committed=10, log_start=None) == 0
    assert partition_lag(end_offset=10, committed=0, log_start=3) == 10  # a commit at 0 is a commit


@pytest.mark.parametrize("committed", [None, -1])
def test_a_partition_with_no_commit_counts_from_its_log_start(committed: int | None) -> None:
    assert not has_commit(committed)
    assert counted_from(committed=committed, log_start=600) == 600
    assert partition_lag(end_offset=1000, committed=committed, log_start=600) == 400
    assert partition_lag(end_offset=1000, committed=committed, log_start=1000) == 0  # all deleted


def test_no_commit_and_no_log_start_is_refused_rather_than_counted_from_zero() -> None:
    with pytest.raises(ValueError, match="log start"):
        partition_lag(end_offset=10, committed=None, log_start=None)


def test_a_commit_past_the_end_leaves_nothing_to_do() -> None:
    assert partition_lag(end_offset=5, committed=9, log_start=0) == 0


@given(log_start=st.integers(0, 10_000), written=st.integers(0, 10_000), data=st.data())
def test_lag_is_at_most_the_records_the_log_still_holds(
    log_start: int, written: int, data: st.DataObject
) -> None:
    end = log_start + written
    committed = data.draw(st.one_of(st.none(), st.just(-1), st.integers(log_start, end)))
    lag = partition_lag(end_offset=end, committed=committed, log_start=log_start)
    assert 0 <= lag <= written
    if not has_commit(committed):
        assert lag == written  # everything the log holds waits, nothing retention deleted


def test_lag_by_partition_applies_the_rule_to_each_and_leaves_out_unknown_ends() -> None:
    held = [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    ends = {("a", 0): 10, ("a", 1): 5, ("b", 0): 7}
    committed = {("a", 0): 4, ("a", 1): 9, ("b", 0): -1}
    lag = lag_by_partition(held, end_offsets=ends, committed=committed, log_starts={("b", 0): 2})
    assert lag == {("a", 0): 6, ("a", 1): 0, ("b", 0): 5}


class FakeAdmin:
    def __init__(self, committed: dict[Any, int]) -> None:
        self.committed = committed

    def list_consumer_group_offsets(self, _group: str) -> dict[Any, Any]:
        return {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in self.committed.items()}


class FakeConsumer:
    """kafka-python's consumer over partitions whose early records retention deleted."""

    def __init__(self, starts: dict[Any, int], ends: dict[Any, int]) -> None:
        self.starts, self.ends = starts, ends
        self.asked_starts: list[Any] = []

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.ends if tp.topic == topic}

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: self.ends[tp] for tp in partitions}

    def beginning_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        self.asked_starts.extend(partitions)
        return {tp: self.starts[tp] for tp in partitions}


def test_the_kafka_python_reader_asks_log_starts_only_where_nothing_is_committed() -> None:
    a0, a1, a2 = (TopicPartition("a", p) for p in range(3))
    consumer = FakeConsumer(starts={a0: 50, a1: 60, a2: 70}, ends={a0: 100, a1: 100, a2: 100})
    admin = FakeAdmin({a0: 90, a2: -1})
    assert read_lag(admin, consumer, "group", ["a", "missing"]) == [
        PartitionLag("a", 0, end_offset=100, counted_from=90, lag=10),
        PartitionLag("a", 1, end_offset=100, counted_from=60, lag=40),
        PartitionLag("a", 2, end_offset=100, counted_from=70, lag=30),
    ]
    assert sorted(consumer.asked_starts) == [a1, a2]
