"""The local cluster's layout and the replication it implies, without starting Java."""

from __future__ import annotations

from pathlib import Path

from contracts.settings import Settings
from contracts.topics import COMMENTS
from messaging.admin import topic_config
from youasked import broker


def test_one_node_by_default_with_unreplicated_topics(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert (settings.replication_factor, settings.min_insync_replicas) == (1, 1)
    assert broker.broker_paths(settings).home == tmp_path.resolve() / "kafka"


def test_three_nodes_on_their_own_ports_and_folders_replicate_three_times(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, kafka_brokers=3, kafka_port=9092, kafka_controller_port=9093)
    assert settings.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9102,127.0.0.1:9112"
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    assert topic_config(COMMENTS, settings)["min.insync.replicas"] == "2"
    homes = [node.paths.home.name for node in broker.nodes(settings)]
    assert homes == ["node-1", "node-2", "node-3"]
    ports = {port for _, client, control in settings.local_nodes for port in (client, control)}
    assert len(ports) == 6, "a node's port collides with another's"

    node = broker.nodes(settings)[1]
    broker._write_config(settings, node.paths, node.node_id)
    config = dict(
        line.split("=", 1) for line in node.paths.config.read_text().splitlines() if "=" in line
    )
    assert config["node.id"] == "2"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113"
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:9102,CONTROLLER://127.0.0.1:9103"
    assert config["offsets.topic.replication.factor"] == "3"
    assert config["transaction.state.log.min.isr"] == "2"
    assert config["min.insync.replicas"] == "2"
    assert broker.formatted_nodes(settings) is None  # a configuration alone is no cluster
    for other in broker.nodes(settings):
        (other.paths.data / "meta.properties").parent.mkdir(parents=True, exist_ok=True)
        (other.paths.data / "meta.properties").write_text("node.id=1\n")
    assert broker.formatted_nodes(settings) == 3  # found again by status and stop without the setting


def test_a_configured_cluster_keeps_one_replica_unless_told(tmp_path: Path) -> None:
    external = Settings(state_dir=tmp_path, kafka_bootstrap="k1:9092,k2:9092")
    assert external.bootstrap_servers == "k1:9092,k2:9092" and external.replication_factor == 1
    told = Settings(state_dir=tmp_path, kafka_bootstrap="k1:9092", topic_replication=3)
    assert (told.replication_factor, told.min_insync_replicas) == (3, 2)
    two = Settings(state_dir=tmp_path, kafka_brokers=2)
    assert (two.replication_factor, two.min_insync_replicas) == (2, 1)


def test_a_second_worker_on_a_host_gets_its_own_web_port() -> None:
    import socket

    from streams.app import free_web_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        chosen = free_web_port("127.0.0.1", port)
        assert chosen != port and chosen > 0
    assert free_web_port("127.0.0.1", port) == port  # free again
