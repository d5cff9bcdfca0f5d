"""Contract docs for the systems around youasked, generated from the models the worker runs on.

Teams that produce to or consume youasked's topics should not need Python to know what a record
holds. The JSON Schemas and the AsyncAPI document come from the same pydantic models and
``TopicSpec`` declarations the code uses, so they cannot tell a different story; the committed
copies are compared with freshly generated ones (``check_contract_docs``) to catch drift.

A payload's schema describes the JSON on the wire in the direction it travels: what youasked
accepts (validation mode) on the topics it receives, what it writes (serialization mode) on the
topics it sends. ``event_json`` writes every field, null or default included, so a sent payload's
schema lists every property as required. Topic names are the bare ones: a deployment may put
``Settings.topic_prefix`` in front of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from contracts.events import Event
from contracts.topics import ALL_TOPICS, COMMENTS, THEME_COMMANDS, TopicSpec

if TYPE_CHECKING:
    from pydantic_core import core_schema

CONTRACT_VERSION = "1"
"""The version of the documented contract as a whole; raise it on a breaking change, not per release."""

RECEIVED_TOPICS: frozenset[str] = frozenset({COMMENTS.name, THEME_COMMANDS.name})
"""The public topics youasked reads from other systems; it writes every other public topic."""

SCHEMA_BASE_URI = "https://youasked.dev/schemas/"
ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_KAFKA_BINDING_VERSION = "0.5.0"

Action = Literal["send", "receive"]


class _WireJsonSchema(GenerateJsonSchema):
    """In serialization mode every field is required: ``event_json`` writes them all."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return True
        return super().field_is_required(field, total)


def _public_topics() -> list[TopicSpec]:
    return [spec for spec in ALL_TOPICS if spec.public]


def action_of(spec: TopicSpec) -> Action:
    """``receive`` when other systems write the topic for youasked to read, else ``send``."""
    return "receive" if spec.name in RECEIVED_TOPICS else "send"


def _payload_modes() -> dict[type[Event], JsonSchemaMode]:
    """One schema per payload model: validation if any public topic brings it in, else serialization."""
    modes: dict[type[Event], JsonSchemaMode] = {}
    for spec in _public_topics():
        if spec.payload is None:
            continue
        if action_of(spec) == "receive":
            modes[spec.payload] = "validation"
        else:
            modes.setdefault(spec.payload, "serialization")
    return modes


def schema_file(model: type[Event]) -> str:
    """The file name of a payload model's JSON Schema."""
    return f"{model.__name__}.schema.json"


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema (draft 2020-12) of every public payload, keyed by file name."""
    schemas: dict[str, dict[str, Any]] = {}
    for model, mode in _payload_modes().items():
        schema = model.model_json_schema(mode=mode, schema_generator=_WireJsonSchema)
        schemas[schema_file(model)] = {
            "$schema": _DIALECT,
            "$id": f"{SCHEMA_BASE_URI}{model.__name__}.json",
            **schema,
            "title": model.__name__,
        }
    return schemas


def _pointer(token: str) -> str:
    """``token`` escaped as one JSON Pointer reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def _operation_id(action: Action, topic: str) -> str:
    words = topic.replace(".", " ").replace("-", " ").split()
    return action + "".join(word.capitalize() for word in words)


def _channel_description(spec: TopicSpec) -> str:
    storage = (
        "Compacted: the latest record of each key is kept; a consumer that starts from the "
        "beginning reads the current state."
        if spec.compacted
        else "Not compacted: records are deleted after the retention time."
    )
    return f"{spec.description}\n\nKafka key: {spec.key}.\n\n{storage}"


def _summary(model: type[Event]) -> str:
    return (model.__doc__ or model.__name__).strip().splitlines()[0]


def _topic_binding(spec: TopicSpec) -> dict[str, Any]:
    binding: dict[str, Any] = {
        "topic": spec.name,
        "topicConfiguration": {"cleanup.policy": ["compact" if spec.compacted else "delete"]},
        "bindingVersion": _KAFKA_BINDING_VERSION,
    }
    if spec.partitions is not None:
        binding["partitions"] = spec.partitions
    return binding


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0.0 document of the public topics: channels, operations, messages, schemas."""
    modes = _payload_modes()
    refs, definitions = models_json_schema(
        list(modes.items()),
        ref_template="#/components/schemas/{model}",
        schema_generator=_WireJsonSchema,
    )
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in _public_topics():
        channel_ref = f"#/channels/{_pointer(spec.name)}"
        channel: dict[str, Any] = {
            "address": spec.name,
            "description": _channel_description(spec),
            "bindings": {"kafka": _topic_binding(spec)},
            "messages": {},
        }
        operation: dict[str, Any] = {
            "action": action_of(spec),
            "channel": {"$ref": channel_ref},
            "summary": spec.description,
        }
        payload = spec.payload
        if payload is not None:
            name = payload.__name__
            messages[spec.name] = {
                "name": name,
                "title": name,
                "summary": _summary(payload),
                "contentType": "application/json",
                "payload": refs[(payload, modes[payload])],
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": spec.key},
                        "bindingVersion": _KAFKA_BINDING_VERSION,
                    }
                },
            }
            channel["messages"] = {name: {"$ref": f"#/components/messages/{_pointer(spec.name)}"}}
            operation["messages"] = [{"$ref": f"{channel_ref}/messages/{_pointer(name)}"}]
        channels[spec.name] = channel
        operations[_operation_id(action_of(spec), spec.name)] = operation
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "youasked events",
            "version": CONTRACT_VERSION,
            "description": (
                "The Kafka topics youasked reads and writes, generated from its pydantic models by "
                "`youasked contracts write`. Payloads are UTF-8 JSON; every payload carries a "
                "`schema_version`. Addresses are the bare topic names: a deployment may prefix them "
                "(Settings.topic_prefix, empty by default)."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": definitions.get("$defs", {})},
    }


def _render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def contract_files() -> dict[str, str]:
    """Every generated file's path (relative, POSIX) and text."""
    files = {f"{SCHEMAS_DIR}/{name}": _render(schema) for name, schema in json_schemas().items()}
    files[ASYNCAPI_FILE] = _render(asyncapi_document())
    return dict(sorted(files.items()))


def _stray_schemas(out_dir: Path, expected: dict[str, str]) -> list[str]:
    folder = out_dir / SCHEMAS_DIR
    if not folder.is_dir():
        return []
    found = (f"{SCHEMAS_DIR}/{path.name}" for path in folder.glob("*.schema.json"))
    return sorted(name for name in found if name not in expected)


def write_contract_docs(out_dir: Path) -> list[Path]:
    """Write the schemas and the AsyncAPI document under ``out_dir``; remove schemas of no payload.

    Returns the paths of the generated files. Hand-written files (a README) are left alone.
    """
    expected = contract_files()
    for stray in _stray_schemas(out_dir, expected):
        (out_dir / stray).unlink()
    written: list[Path] = []
    for name, text in expected.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _first_difference(old: str, new: str) -> int:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (before, after) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if before != after:
            return number
    return min(len(old_lines), len(new_lines)) + 1


def check_contract_docs(out_dir: Path) -> list[str]:
    """What differs between the files under ``out_dir`` and freshly generated ones; [] when equal."""
    expected = contract_files()
    differences: list[str] = []
    for name, text in expected.items():
        path = out_dir / name
        if not path.is_file():
            differences.append(f"missing: {name}")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            line = _first_difference(current, text)
            differences.append(f"stale: {name} (differs from the models from line {line})")
    stray = _stray_schemas(out_dir, expected)
    differences.extend(f"extra: {name} (no public topic carries this payload)" for name in stray)
    return differences
