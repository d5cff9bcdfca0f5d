"""The committed contract docs (docs/contracts) match the models, and say what the wire carries."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from contracts.events import CommentReceived, Event, Platform
from contracts.lifecycle import CommandKind, CommandOutcome, LifecycleStatus, ThemeCommand
from contracts.schemas import (
    ASYNCAPI_FILE,
    SCHEMAS_DIR,
    action_of,
    asyncapi_document,
    check_contract_docs,
    contract_files,
    json_schemas,
    schema_file,
    write_contract_docs,
)
from contracts.topics import ALL_TOPICS, COMMENTS, THEME_COMMANDS, THEME_OUTCOMES

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "contracts"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

COMMENT = CommentReceived(
    comment_id="c-1",
    platform=Platform.X,
    product="acme",
    author_id="u-1",
    author_handle="@ana",
    text="Please add a dark mode.",
    created_at=T0,
    url="https://x.example/ana/status/1",
    language="en",
)
COMMAND = ThemeCommand(
    command_id="cmd-1",
    product="acme",
    theme_id="t-1",
    kind=CommandKind.SET_STATUS,
    actor="pm@acme",
    issued_at=T0,
    status=LifecycleStatus.PLANNED,
)
OUTCOME = CommandOutcome(
    command_id="cmd-1",
    product="acme",
    theme_id="t-1",
    kind=CommandKind.SET_STATUS,
    accepted=True,
    decided_at=T0,
)


def test_committed_docs_match_the_models() -> None:
    differences = check_contract_docs(DOCS_DIR)
    assert differences == [], (
        "docs/contracts drifted from the models; run `youasked contracts write` and commit the result:\n"
        + "\n".join(differences)
    )


def test_generation_is_deterministic() -> None:
    assert contract_files() == contract_files()


def test_every_public_topic_with_a_payload_is_a_channel() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    documented = [spec for spec in ALL_TOPICS if spec.public and spec.payload is not None]
    assert documented
    for spec in documented:
        assert spec.payload is not None
        channel = document["channels"][spec.name]
        assert channel["address"] == spec.name
        assert spec.key in channel["description"]
        message = document["components"]["messages"][spec.name]
        assert message["name"] == spec.payload.__name__
        assert message["bindings"]["kafka"]["key"] == {"type": "string", "description": spec.key}
        schema_ref = message["payload"]["$ref"]
        assert schema_ref.removeprefix("#/components/schemas/") in document["components"]["schemas"]
    private = {spec.name for spec in ALL_TOPICS if not spec.public}
    assert private.isdisjoint(document["channels"])


def test_operations_say_who_writes_each_topic() -> None:
    operations = asyncapi_document()["operations"].values()
    actions = {
        operation["channel"]["$ref"].removeprefix("#/channels/"): operation["action"]
        for operation in operations
    }
    assert actions[COMMENTS.name] == action_of(COMMENTS) == "receive"
    assert actions[THEME_COMMANDS.name] == "receive"
    assert actions[THEME_OUTCOMES.name] == "send"
    assert set(actions.values()) == {"send", "receive"}


def test_every_reference_resolves() -> None:
    document = asyncapi_document()

    def references(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [ref for value in node.values() for ref in references(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in references(value)]
        return []

    refs = references(document)
    assert refs
    for ref in refs:
        target: Any = document
        for token in ref.removeprefix("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]


def _required_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items() if field.is_required()]


@pytest.mark.parametrize("event", [COMMENT, COMMAND], ids=["CommentReceived", "ThemeCommand"])
def test_received_schema_describes_what_is_accepted(event: Event) -> None:
    schema = json_schemas()[schema_file(type(event))]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://youasked.dev/schemas/{type(event).__name__}.json"
    assert schema["required"] == _required_fields(type(event))
    wire = event.model_dump(mode="json")
    assert set(schema["required"]) <= set(wire) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["schema_version"]["const"] == wire["schema_version"]


def test_sent_schema_requires_every_field_it_writes() -> None:
    schema = json_schemas()[schema_file(CommandOutcome)]
    wire = OUTCOME.model_dump(mode="json")
    assert set(schema["required"]) == set(wire) == set(schema["properties"])


def test_check_reports_an_altered_a_missing_and_an_extra_file(tmp_path: Path) -> None:
    out = tmp_path / "contracts"
    written = write_contract_docs(out)
    assert {path.relative_to(out).as_posix() for path in written} == set(contract_files())
    (out / "README.md").write_text("hand-written\n", encoding="utf-8")
    assert check_contract_docs(out) == []

    altered = out / SCHEMAS_DIR / schema_file(CommentReceived)
    altered.write_text(altered.read_text(encoding="utf-8").replace('"comment_id"', '"id"'), encoding="utf-8")
    (out / ASYNCAPI_FILE).unlink()
    shutil.copy(altered, out / SCHEMAS_DIR / "Gone.schema.json")
    differences = check_contract_docs(out)
    assert f"missing: {ASYNCAPI_FILE}" in differences
    assert any(
        line.startswith(f"stale: {SCHEMAS_DIR}/{schema_file(CommentReceived)}") for line in differences
    )
    assert any(line.startswith(f"extra: {SCHEMAS_DIR}/Gone.schema.json") for line in differences)
    assert len(differences) == 3

    write_contract_docs(out)
    assert check_contract_docs(out) == []
    assert (out / "README.md").read_text(encoding="utf-8") == "hand-written\n"
