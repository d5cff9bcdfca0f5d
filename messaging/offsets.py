"""The one rule for a consumer group's lag, on plain offsets: no Kafka client, so the kafka-python
readers (:mod:`messaging.lag`, the supervisor, the dashboard) and the aiokafka worker
(``streams.metrics``) count alike.

The lag of a partition is its end offset minus the offset the group has committed there. Where
the group has committed nothing yet, it is counted from the partition's log start offset (the
first offset the broker still holds), not from 0: after retention deleted the early records,
counting from 0 would add records nobody can read any more. Kafka says "no commit" by leaving
the partition out or by the offset -1; both mean the same here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeGuard, TypeVar

Partition = TypeVar("Partition", bound=Hashable)
"""A partition's key: a ``(topic, partition)`` pair or a client's ``TopicPartition`` (a named pair)."""


def has_commit(committed: int | None) -> TypeGuard[int]:
    """True when ``committed`` is an offset the group committed (None or a negative one is none)."""
    return committed is not None and committed >= 0


def counted_from(*, committed: int | None, log_start: int | None) -> int:
    """The offset a partition's lag is counted from: the group's ``committed`` offset, or the
    partition's ``log_start`` offset where the group has committed nothing.

    Raises ValueError when there is no commit and ``log_start`` is None: counting from 0 instead is
    the error this rule exists to avoid.
    """
    if has_commit(committed):
        return committed
    if log_start is None:
        raise ValueError("a partition with no commit needs its log start offset")
    return log_start


def partition_lag(*, end_offset: int, committed: int | None, log_start: int | None) -> int:
    """Records of one partition the group has not committed: ``end_offset`` minus
    :func:`counted_from`, never below 0 (a commit past the end, as after a topic was recreated,
    leaves nothing to do).
    """
    return max(end_offset - counted_from(committed=committed, log_start=log_start), 0)


def lag_by_partition(
    partitions: Iterable[Partition],
    *,
    end_offsets: Mapping[Partition, int],
    committed: Mapping[Partition, int],
    log_starts: Mapping[Partition, int],
) -> dict[Partition, int]:
    """:func:`partition_lag` of each of ``partitions`` (records, by partition). ``log_starts`` needs
    only the partitions without a commit; a partition whose end offset is unknown is left out.
    """
    lag: dict[Partition, int] = {}
    for tp in partitions:
        end = end_offsets.get(tp)
        if end is None:
            continue
        lag[tp] = partition_lag(end_offset=end, committed=committed.get(tp), log_start=log_starts.get(tp))
    return lag
