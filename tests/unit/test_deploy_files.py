"""The deployment files that are generated or checked from the code: the Strimzi examples of the chart
agree with contracts/topics.py and with each other; the migration command the chart's Job runs works."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from contracts.topics import ALL_TOPICS
from youasked.chart_files import (
    CHART_DIR,
    EXAMPLE_FILE,
    EXAMPLE_SETTINGS,
    SCHEMA_FILE,
    STRIMZI_CLUSTER,
    chart_files_differences,
    kafka_topics_differences,
    render_kafka_topics,
)
from youasked.cli import app as cli


def topics_in(path: Path) -> dict[str, dict[str, object]]:
    return {doc["spec"]["topicName"]: doc for doc in yaml.safe_load_all(path.read_text()) if doc}


def test_the_committed_kafka_topics_are_every_declared_topic_as_declared() -> None:
    assert chart_files_differences() == []
    written = topics_in(EXAMPLE_FILE)
    assert set(written) == {spec.name for spec in ALL_TOPICS}
    for spec in ALL_TOPICS:
        resource = written[spec.name]
        assert resource["kind"] == "KafkaTopic"
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == STRIMZI_CLUSTER  # type: ignore[index]
        body = resource["spec"]
        assert body["partitions"] == (spec.partitions or EXAMPLE_SETTINGS.topic_partitions)  # type: ignore[index]
        assert body["replicas"] == 3  # type: ignore[index]
        config = body["config"]  # type: ignore[index]
        assert config["cleanup.policy"] == ("compact" if spec.compacted else "delete")
        assert ("retention.ms" in config) is not spec.compacted
        assert config["min.insync.replicas"] == "2"


def test_a_drifted_example_is_reported_topic_by_topic(tmp_path: Path) -> None:
    drifted = tmp_path / "kafka-topics.yaml"
    docs = [doc for doc in yaml.safe_load_all(render_kafka_topics()) if doc]
    docs[0]["spec"]["partitions"] = 3
    removed = docs.pop()
    docs.append({**docs[1], "spec": {**docs[1]["spec"], "topicName": "feedback.gone"}})
    drifted.write_text(yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True))
    problems = kafka_topics_differences(drifted)
    assert any(p.startswith(f"{docs[0]['spec']['topicName']}: the KafkaTopic differs") for p in problems)
    assert f"{removed['spec']['topicName']}: no KafkaTopic in kafka-topics.yaml" in problems
    assert "feedback.gone: a KafkaTopic no declared topic has" in problems

    assert kafka_topics_differences(EXAMPLE_FILE) == []


def test_deploy_check_fails_on_a_drifted_file_and_write_mends_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import youasked.chart_files as chart_files

    example, schema = tmp_path / "kafka-topics.yaml", tmp_path / "values.schema.json"
    example.write_text(EXAMPLE_FILE.read_text().replace("partitions: 12", "partitions: 6", 1))
    schema.write_text(SCHEMA_FILE.read_text().replace('"app_id",', ""))
    monkeypatch.setattr(chart_files, "EXAMPLE_FILE", example)
    monkeypatch.setattr(chart_files, "SCHEMA_FILE", schema)
    runner = CliRunner()
    checked = runner.invoke(cli, ["deploy", "check"])
    assert checked.exit_code == 1, checked.output
    assert "feedback.comments: the KafkaTopic differs" in checked.output
    assert "values.schema.json" in checked.output and "youasked deploy write" in checked.output
    assert runner.invoke(cli, ["deploy", "write"]).exit_code == 0
    assert runner.invoke(cli, ["deploy", "check"]).exit_code == 0
    assert example.read_text() == EXAMPLE_FILE.read_text() and schema.read_text() == SCHEMA_FILE.read_text()


def test_the_strimzi_cluster_is_three_kraft_nodes_with_the_replication_the_topics_ask() -> None:
    text = (CHART_DIR / "examples" / "kafka.yaml").read_text()
    docs = {doc["kind"]: doc for doc in yaml.safe_load_all(text)}
    pool, kafka = docs["KafkaNodePool"], docs["Kafka"]
    assert kafka["metadata"]["name"] == pool["metadata"]["labels"]["strimzi.io/cluster"] == STRIMZI_CLUSTER
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == EXAMPLE_SETTINGS.replication_factor
    assert config["min.insync.replicas"] == EXAMPLE_SETTINGS.min_insync_replicas
    assert config["message.max.bytes"] >= EXAMPLE_SETTINGS.kafka_message_max_bytes
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    chart_default = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["kafka"]["bootstrap"]
    bootstrap = f"{STRIMZI_CLUSTER}-kafka-bootstrap:{listener['port']}"
    assert chart_default == EXAMPLE_SETTINGS.kafka_bootstrap == bootstrap


def test_db_upgrade_brings_a_new_read_model_to_the_latest_revision(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from api.readmodel.db import alembic_config
    from contracts.settings import get_settings

    url = f"sqlite:///{tmp_path / 'rm.db'}"
    monkeypatch.setenv("YOUASKED_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["db", "upgrade"])
        again = runner.invoke(cli, ["db", "upgrade"])  # an up-to-date database is left as it is
    finally:
        get_settings.cache_clear()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert f"at revision {head}" in again.output
    with create_engine(url).connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert connection.execute(text("SELECT count(*) FROM suggestions")).scalar() == 0


def test_the_dockerfile_installs_as_the_makefile_does() -> None:
    import re
    import tomllib

    root = CHART_DIR.parents[2]
    dockerfile = (root / "deploy" / "Dockerfile").read_text()
    makefile = (root / "Makefile").read_text()
    (uv_version,) = re.findall(r"^UV_VERSION := (\S+)$", makefile, flags=re.MULTILINE)
    assert f"ARG UV_VERSION={uv_version}\n" in dockerfile
    assert "uv pip sync --python /opt/youasked/venv/bin/python requirements-runtime.lock" in dockerfile
    assert "torch" not in dockerfile  # the runtime set: ONNX Runtime, no PyTorch
    packages = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in packages["include"]:
        name = package.rstrip("*")
        assert f"COPY {name} {name}\n" in dockerfile, name
    assert 'youasked model export --weights "${WEIGHTS}" --out /opt/youasked/onnx' in dockerfile
    assert "ARG WEIGHTS=int8\n" in dockerfile  # a build argument: the CPU the image runs on is not known
    assert "YOUASKED_EMBEDDING_ONNX_DIR=/opt/youasked/onnx" in dockerfile
