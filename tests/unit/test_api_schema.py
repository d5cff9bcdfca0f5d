"""schemathesis against the API's own OpenAPI document: no server error, no response that
breaks the documented schema, no answer slower than a few seconds, for generated requests on
every operation with a key of each role."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import MaxResponseTimeConfig, NegativeDataRejectionConfig

from api.app import create_api
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.settings import Settings
from tests.readmodel_support import MemoryPublisher, WordHashEmbedder, sample_records

STATE = Path(tempfile.mkdtemp(prefix="youasked-schema-"))
ENGINE = make_engine(f"sqlite:///{STATE / 'rm.db'}")
upgrade(ENGINE)
apply_batch(ENGINE, list(sample_records()))
ADMIN = create_key(ENGINE, name="schemathesis", role=Role.admin)
KEYS = {role.name: create_key(ENGINE, name=f"schemathesis-{role.name}", role=role) for role in Role}


APP = create_api(
    Settings(kafka_bootstrap="127.0.0.1:1", state_dir=STATE, ingest_secret="s3cret"),
    engine=ENGINE,
    project=False,
    publisher=MemoryPublisher(),
    embedder=WordHashEmbedder,
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# A body over the size limit is refused with 413 before it is read: a rejection like any other.
schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig(
    expected_statuses=[*NegativeDataRejectionConfig().expected_statuses, "413"]
)
schema.config.checks.max_response_time = MaxResponseTimeConfig(limit=5.0)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": ADMIN})


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["viewer", "pm"])
def test_the_api_keeps_its_contract_for_every_role(case: schemathesis.Case, role: str) -> None:
    case.call_and_validate(headers={"X-API-Key": KEYS[role]})
