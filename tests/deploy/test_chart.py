"""The Helm chart (deploy/helm/youasked): ``helm lint``, then ``helm template`` with the default
and the production-like values, each rendering parsed and checked object by object against the
code it deploys (settings, commands, routes, metrics ports).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from api.app import create_api
from contracts.settings import Settings
from tests.helm_support import HelmUnavailableError, ensure_helm, helm
from youasked.chart_files import CHART_DIR, CHART_SET, STRIMZI_CLUSTER
from youasked.cli import app as cli

PRODUCTION = CHART_DIR / "examples" / "values-production.yaml"
SETTING_NAMES = {f"YOUASKED_{name.upper()}" for name in Settings.model_fields}
HOOK = "helm.sh/hook"
MEASURED_WORKER_RSS_MB = 470  # docs/operating.md: 391-490 MB resident per worker


@pytest.fixture(scope="module")
def helm_binary() -> Path:
    try:
        return ensure_helm()
    except HelmUnavailableError as error:
        pytest.fail(str(error))


def render(helm_binary: Path, *args: str) -> list[dict[str, Any]]:
    result = helm("template", "youasked", str(CHART_DIR), "--namespace", "feedback", *args,
                  binary=helm_binary)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def only(objects: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (
        component is None or o["metadata"]["labels"].get("app.kubernetes.io/component") == component)]
    assert len(found) == 1, (kind, component, [o["metadata"]["name"] for o in found])
    return found[0]


def containers(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in objects:
        spec = obj.get("spec", {}).get("template", {}).get("spec")
        if spec:
            for container in spec["containers"]:
                yield obj, container


def settings_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    return dict(only(objects, "ConfigMap")["data"])


def settings_from(data: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a pod reads from ``data`` as its environment (nothing else of ours set)."""
    with monkeypatch.context() as patch:
        for name in SETTING_NAMES:
            patch.delenv(name, raising=False)
        for name, value in data.items():
            patch.setenv(name, value)
        return Settings()


def test_the_chart_lints(helm_binary: Path) -> None:
    for values in ([], ["-f", str(PRODUCTION)]):
        result = helm("lint", "--strict", str(CHART_DIR), *values, binary=helm_binary)
        assert result.returncode == 0, result.stdout + result.stderr


def test_default_values_deploy_a_worker_statefulset_two_apis_and_a_migration_hook(helm_binary: Path) -> None:
    objects = render(helm_binary)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == ["ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Service", "Service",
                     "StatefulSet"], kinds

    api = only(objects, "Deployment", "api")
    assert api["spec"]["replicas"] == 2
    worker = only(objects, "StatefulSet", "worker")
    assert worker["spec"]["serviceName"] == only(objects, "Service", "worker")["metadata"]["name"]
    assert "volumeClaimTemplates" not in worker["spec"]  # memory:// tables: nothing to keep
    volumes = {v["name"]: v for v in worker["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["state"]

    # the migration runs the project's own command, before install and upgrade, after its settings
    job = only(objects, "Job")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["db", "upgrade"]
    assert CliRunner().invoke(cli, ["db", "upgrade", "--help"]).exit_code == 0
    assert job["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
    config_map = only(objects, "ConfigMap")
    assert config_map["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
    weight = "helm.sh/hook-weight"
    assert int(config_map["metadata"]["annotations"][weight]) < int(job["metadata"]["annotations"][weight])

    # by default, the read model's URL comes from an existing Secret; the chart keeps none
    assert not [o for o in objects if o["kind"] == "Secret"]
    for _, container in containers(objects):
        if container["name"] in {"api", "migrate"}:
            env = {e["name"]: e for e in container["env"]}
            ref = env["YOUASKED_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "youasked-database", "key": "database-url"}
            assert "YOUASKED_INGEST_SECRET" not in env  # the signed endpoint stays off
    data = settings_of(objects)
    assert data["YOUASKED_KAFKA_BOOTSTRAP"] == f"{STRIMZI_CLUSTER}-kafka-bootstrap:9092"
    # what the chart sets itself is what its schema keeps out of config:
    config = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["config"]
    assert set(data) - {f"YOUASKED_{name.upper()}" for name in config} == {
        f"YOUASKED_{name.upper()}" for name in CHART_SET}


def test_every_variable_the_chart_sets_is_a_setting_and_means_what_the_pods_expose(
    helm_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for objects in (render(helm_binary), render(helm_binary, "-f", str(PRODUCTION))):
        data = settings_of(objects)
        assert set(data) <= SETTING_NAMES, set(data) - SETTING_NAMES
        settings = settings_from(data, monkeypatch)
        for obj, container in containers(objects):
            assert {ref["configMapRef"]["name"] for ref in container["envFrom"]} == {
                only(objects, "ConfigMap")["metadata"]["name"]}
            names = {e["name"] for e in container.get("env", [])}
            assert names <= SETTING_NAMES, (obj["metadata"]["name"], names - SETTING_NAMES)

        # Prometheus scrapes each process where it serves /metrics
        api = only(objects, "Deployment", "api")["spec"]["template"]
        worker = only(objects, "StatefulSet", "worker")["spec"]["template"]
        for template, port in ((api, settings.api_port), (worker, settings.worker_metrics_port)):
            notes = template["metadata"]["annotations"]
            assert notes["prometheus.io/scrape"] == "true"
            assert notes["prometheus.io/port"] == str(port)
            assert notes["prometheus.io/path"] == "/metrics"
            (container,) = template["spec"]["containers"]
            assert port in {p["containerPort"] for p in container["ports"]}
        assert settings.worker_metrics_host == settings.api_host == "0.0.0.0"

        # the probes ask routes the API has
        (api_container,) = api["spec"]["containers"]
        routes = {getattr(route, "path", None) for route in create_api(settings, project=False).routes}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert api_container[probe]["httpGet"]["path"] in routes, probe
        assert api_container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert "/metrics" in routes

        # the worker asks at least the memory it was measured to use
        (worker_container,) = worker["spec"]["containers"]
        assert mebibytes(worker_container["resources"]["requests"]["memory"]) >= MEASURED_WORKER_RSS_MB
        assert worker_container["args"][0] == "worker"


def mebibytes(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return float(quantity.removesuffix(unit)) * factor
    return float(quantity) / 2**20


def test_production_values_scale_out_and_reference_existing_secrets(helm_binary: Path) -> None:
    objects = render(helm_binary, "-f", str(PRODUCTION))
    production = yaml.safe_load(PRODUCTION.read_text())
    assert only(objects, "StatefulSet", "worker")["spec"]["replicas"] == production["worker"]["replicas"] == 4
    assert only(objects, "Deployment", "api")["spec"]["replicas"] == 2
    data = settings_of(objects)
    assert data["YOUASKED_TOPIC_PARTITIONS"] == "12" and data["YOUASKED_TOPIC_REPLICATION"] == "3"
    assert data["YOUASKED_TOPIC_RETENTION_MS"] == "604800000"  # a whole number stays one
    assert not [o for o in objects if o["kind"] == "Secret"]
    (api,) = only(objects, "Deployment", "api")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in api["env"]}
    assert env["YOUASKED_INGEST_SECRET"] == {"name": "youasked-ingest", "key": "ingest-secret"}
    assert env["YOUASKED_DATABASE_URL"] == {"name": "youasked-database", "key": "database-url"}


def test_given_secrets_go_into_the_chart_secret_and_a_persistent_store_gets_volumes(
    helm_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://youasked:pw@db:5432/youasked"
    objects = render(helm_binary, "--set", f"database.url={url}", "--set", "ingest.secret=s3cret",
                     "--set", "worker.tableStore=rocksdb://", "--set", "worker.persistence.size=20Gi",
                     "--set-json", 'config.score_weights={"growth": 0.3}')
    secret = only(objects, "Secret")
    assert secret["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"  # the Job needs it
    assert base64.b64decode(secret["data"]["database-url"]).decode() == url
    assert base64.b64decode(secret["data"]["ingest-secret"]).decode() == "s3cret"
    for _, container in containers(objects):
        for entry in container.get("env", []):
            assert entry["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    assert url not in yaml.safe_dump(only(objects, "ConfigMap"))
    worker = only(objects, "StatefulSet", "worker")
    (claim,) = worker["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "state"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert "state" not in {v["name"] for v in worker["spec"]["template"]["spec"]["volumes"]}
    data = settings_of(objects)
    assert data["YOUASKED_TABLE_STORE"] == "rocksdb://"
    assert settings_from(data, monkeypatch).score_weights == {"growth": 0.3}  # a map is passed as JSON


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--set", "kafka.bootstrap="], "kafka.bootstrap"),
        (["--set", "database.existingSecret="], "database.url or database.existingSecret"),
        (["--set", "config.kafka_bootstrap=elsewhere:9092"], "config"),  # the chart's own
        (["--set", "config.YOUASKED_APP_ID=x"], "config"),
        (["--set", "config.topic_partitons=12"], "topic_partitons"),  # a typo is no setting
        (["--set", "config.database_url=postgresql://u:pw@db/y"], "database_url"),  # a secret
    ],
)
def test_values_the_chart_cannot_deploy_fail_the_rendering(
    helm_binary: Path, args: list[str], reason: str
) -> None:
    result = helm("template", "youasked", str(CHART_DIR), *args, binary=helm_binary)
    assert result.returncode != 0 and reason in result.stderr, result.stderr


def test_scrape_annotations_can_be_left_out_for_another_scraper(helm_binary: Path) -> None:
    objects = render(helm_binary, "--set", "metrics.annotations=false")
    for obj, _ in containers(objects):
        notes = obj["spec"]["template"]["metadata"].get("annotations") or {}
        assert not [name for name in notes if name.startswith("prometheus.io/")], obj["metadata"]["name"]
