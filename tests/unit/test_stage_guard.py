"""A stage's record that fails is set aside, and whoever waits on it can be answered."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from aiokafka.errors import (
    KafkaTimeoutError,
    NotLeaderForPartitionError,
    ProducerClosed,
    RecordTooLargeError,
)
from faust.exceptions import PartitionsMismatch

from streams.dead_letters import StageGuard, is_transient


class Record(NamedTuple):
    topic: str = "feedback.theme-commands"
    partition: int = 0
    offset: int = 3


def guard(aside: list[tuple[Any, BaseException]]) -> StageGuard:
    stage = object.__new__(StageGuard)  # no faust app: set_aside is replaced below
    stage.stage = "themes"

    async def set_aside(message: Any, error: BaseException) -> None:
        aside.append((message, error))

    async def no_wait(_seconds: float) -> None:
        return None

    stage.set_aside = set_aside  # type: ignore[method-assign]
    stage._sleep = no_wait
    return stage


def test_the_answer_runs_after_a_record_is_set_aside_and_never_on_success() -> None:
    aside: list[tuple[Any, BaseException]] = []
    answered: list[str] = []
    stage = guard(aside)

    async def answer(error: BaseException) -> None:
        answered.append(f"{len(aside)} set aside, then {error}")

    async def fails() -> None:
        raise KeyError("members")

    async def works() -> int:
        return 7

    assert asyncio.run(stage.run(Record(), fails, on_set_aside=answer)) is None
    assert answered == ["1 set aside, then 'members'"] and aside[0][0] == Record()
    assert asyncio.run(stage.run(Record(), works, on_set_aside=answer)) == 7
    assert len(answered) == 1


def test_a_changelog_not_yet_known_in_full_is_waited_for_not_a_dead_letter() -> None:
    aside: list[tuple[Any, BaseException]] = []
    stage = guard(aside)
    calls: list[int] = []

    async def mismatched_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise PartitionsMismatch("theme-members-changelog has 1 partitions, feedback.suggestions 12")
        return "placed"

    assert asyncio.run(stage.run(Record(), mismatched_twice)) == "placed"
    assert aside == [] and len(calls) == 3
    assert is_transient(PartitionsMismatch("x")) and not is_transient(KeyError("members"))


def test_a_send_that_expired_while_a_leader_was_lost_is_retried_not_a_dead_letter() -> None:
    aside: list[tuple[Any, BaseException]] = []
    stage = guard(aside)
    failures: list[BaseException] = [KafkaTimeoutError(), NotLeaderForPartitionError(), ProducerClosed()]

    async def send() -> str:
        if failures:
            raise failures.pop(0)
        return "acknowledged"

    assert asyncio.run(stage.run(Record(), send)) == "acknowledged"
    assert aside == [] and failures == []


def test_a_record_the_broker_refuses_for_itself_is_set_aside() -> None:
    aside: list[tuple[Any, BaseException]] = []
    stage = guard(aside)

    async def send() -> str:
        raise RecordTooLargeError()

    assert asyncio.run(stage.run(Record(), send)) is None
    assert len(aside) == 1 and isinstance(aside[0][1], RecordTooLargeError)
    assert not is_transient(RecordTooLargeError()) and is_transient(KafkaTimeoutError())
