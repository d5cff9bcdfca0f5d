"""Command ids come from one function: the issuer's origin, a dash, 32 random hex digits."""

from __future__ import annotations

import re

from contracts.lifecycle import new_command_id


def test_a_command_id_names_its_origin_and_is_never_repeated() -> None:
    ids = [new_command_id("api") for _ in range(1000)]
    assert all(re.fullmatch(r"api-[0-9a-f]{32}", command_id) for command_id in ids)
    assert len(set(ids)) == len(ids)
    assert re.fullmatch(r"cmd-[0-9a-f]{32}", new_command_id("cmd"))
