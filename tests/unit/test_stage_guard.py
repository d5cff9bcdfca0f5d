"""A stage's record that fails is set aside, and whoever waits on it can be answered."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from streams.dead_letters import StageGuard


class Record(NamedTuple):
    topic: str = "feedback.theme-commands"
    partition: int = 0
    offset: int = 3


def guard(aside: list[tuple[Any, BaseException]]) -> StageGuard:
    stage = object.__new__(StageGuard)  # no faust app: set_aside is replaced below
    stage.stage = "themes"

    async def set_aside(message: Any, error: BaseException) -> None:
        aside.append((message, error))

    stage.set_aside = set_aside  # type: ignore[method-assign]
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
