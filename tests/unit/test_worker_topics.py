"""The supervisor measures progress on exactly the topics the worker's agents consume; each of them
has a dead-letter topic, created with the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import faust

from contracts.settings import Settings
from contracts.topics import ALL_TOPICS, DEAD_LETTER_TOPICS, STAGES, WORKER_INPUTS
from streams.classify import register_classify
from streams.dialogue import register_dialogue
from streams.ingest import register_ingest
from streams.themes import register_themes


def test_worker_inputs_are_what_the_agents_subscribe_to(tmp_path: Path) -> None:
    settings = Settings(topic_prefix="p.", state_dir=tmp_path)
    app = faust.App("youasked-topics-test", broker="kafka://127.0.0.1:1", store="memory://")
    register_ingest(app, settings)
    register_classify(app, settings, cast(Any, None))
    register_themes(app, settings)
    register_dialogue(app, settings)
    subscribed = {topic for agent in app.agents.values() for topic in agent.channel.topics}
    assert subscribed == {settings.topic_name(spec) for spec in WORKER_INPUTS}
    assert {spec.name for spec in WORKER_INPUTS} <= {spec.name for spec in ALL_TOPICS}


def test_every_worker_input_has_a_dead_letter_topic_that_is_created_with_the_others() -> None:
    declared = {spec.name for spec in ALL_TOPICS}
    for spec in WORKER_INPUTS:
        assert DEAD_LETTER_TOPICS[spec.name].name in declared, spec.name
    assert {spec.name for specs in STAGES.values() for spec in specs} == {s.name for s in WORKER_INPUTS}

