"""The local Apache Kafka cluster (KRaft), run from Maven Central jars: one node by default,
``Settings.kafka_brokers`` nodes on loopback ports otherwise, each a controller and a broker.

``ensure_jars`` collects the broker with Maven into a cache, ``start`` formats each node's
storage once (one cluster id for all) and starts each ``kafka.Kafka`` in its own process group,
``stop`` asks every node for a controlled shutdown (SIGTERM). A single node keeps its pid,
configuration, data and logs under ``<state_dir>/kafka``; node i of a cluster under
``<state_dir>/kafka/node-<i>``. Internal topics get min(3, nodes) replicas and, with 3 or more,
``min.insync.replicas`` 2.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import Settings

logger = logging.getLogger(__name__)

POM = Path(__file__).resolve().parent.parent / "deploy" / "kafka" / "pom.xml"


class BrokerError(RuntimeError):
    """The local broker could not be fetched, started or stopped."""


@dataclass(frozen=True, slots=True)
class BrokerPaths:
    """Where the local broker keeps its jars and its state."""

    libs: Path
    home: Path

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def config(self) -> Path:
        return self.home / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.home / "log4j2.xml"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def stdout(self) -> Path:
        return self.logs / "server.out"


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the local cluster: its id, ports and folders."""

    node_id: int
    port: int
    controller_port: int
    paths: BrokerPaths


def nodes(settings: Settings) -> list[Node]:
    """The nodes of the configured local cluster (one by default)."""
    libs = settings.cache_dir.resolve() / "kafka" / settings.kafka_version / "libs"
    base = settings.state_dir.resolve() / "kafka"
    single = settings.kafka_brokers == 1
    return [
        Node(node_id, port, controller, BrokerPaths(libs, base if single else base / f"node-{node_id}"))
        for node_id, port, controller in settings.local_nodes
    ]


def formatted_nodes(settings: Settings) -> int | None:
    """How many nodes the state folder holds a formatted cluster of (``node-<i>`` folders with
    formatted storage), or None.
    """
    found = [home for home in (settings.state_dir.resolve() / "kafka").glob("node-*")
             if (home / "data" / "meta.properties").exists()]
    return len(found) or None


def broker_paths(settings: Settings) -> BrokerPaths:
    """The jar cache and state folder of the first node (the only one by default)."""
    return nodes(settings)[0].paths


def ensure_jars(settings: Settings) -> Path:
    """Collect the broker's jars with Maven unless the cache already holds them; return the folder."""
    paths = broker_paths(settings)
    marker = paths.libs / ".complete"
    if marker.exists():
        return paths.libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven (mvn) is needed once to fetch the Kafka jars; it is not on PATH")
    # A staging folder per process: two first starts at once (parallel tests) do not mix files.
    staging = paths.libs.with_name(f"libs.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("fetching Kafka %s jars into %s", settings.kafka_version, paths.libs)
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-Dkafka.version={settings.kafka_version}",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(f"mvn failed ({result.returncode}): {result.stdout[-2000:]}{result.stderr[-2000:]}")
    if marker.exists():  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
        return paths.libs
    shutil.rmtree(paths.libs, ignore_errors=True)
    staging.rename(paths.libs)
    marker.write_text(settings.kafka_version)
    return paths.libs


def _write_config(settings: Settings, paths: BrokerPaths, node_id: int = 1) -> None:
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    layout = settings.local_nodes
    _, port, controller = next(entry for entry in layout if entry[0] == node_id)
    replicas = str(min(3, len(layout)))
    min_isr = str(2 if len(layout) >= 3 else 1)
    voters = ",".join(f"{node}@127.0.0.1:{control}" for node, _, control in layout)
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(paths.data),
        "num.partitions": str(settings.topic_partitions),
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
        "message.max.bytes": str(settings.kafka_message_max_bytes),
    }
    paths.config.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    paths.log4j.write_text(_LOG4J.format(logs=paths.logs))


_LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="{logs}/server.log" filePattern="{logs}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="server"/></Root>
  </Loggers>
</Configuration>
"""


def _java(paths: BrokerPaths, settings: Settings, main: str, *args: str) -> list[str]:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise BrokerError("Java 17+ is needed for the local broker; java is not on PATH")
    return [
        java,
        f"-Xmx{settings.kafka_heap_mb}m",
        f"-Xms{min(settings.kafka_heap_mb, 256)}m",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={paths.log4j}",
        f"-Dkafka.logs.dir={paths.logs}",
        "-cp",
        f"{paths.libs}/*",
        main,
        *args,
    ]


def new_cluster_id() -> str:
    """A random KRaft cluster id: 16 random bytes in URL-safe base64, 22 characters.

    Like Kafka's own ``Uuid.randomUuid``, it never begins with ``-`` (about 1 draw in 64
    would), which the storage tool would read as an option, and is never all zeros.
    """
    while True:
        drawn = uuid.uuid4().bytes
        cluster_id = base64.urlsafe_b64encode(drawn).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-") and any(drawn):
            return cluster_id


def _format_once(settings: Settings, paths: BrokerPaths, cluster_id: str | None = None) -> None:
    if (paths.data / "meta.properties").exists():
        return
    command = _java(
        paths,
        settings,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id or new_cluster_id(),
        "-c",
        str(paths.config),
        "--ignore-formatted",
    )
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(f"formatting the log dir failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")


def _cluster_id(settings: Settings) -> str:
    """The id every node of the local cluster is formatted with, drawn once and kept."""
    path = settings.state_dir.resolve() / "kafka" / "cluster.id"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    cluster_id = new_cluster_id()
    path.write_text(cluster_id)
    return cluster_id


def read_pid(settings: Settings) -> int | None:
    """The pid of the running first node (the only one by default), or None."""
    return _node_pid(broker_paths(settings))


def _node_pid(paths: BrokerPaths) -> int | None:
    """The pid of a running node, or None (a stale pid file is removed)."""
    pid_file = paths.pid_file
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    except PermissionError:
        return pid
    if _is_zombie(pid):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def node_pids(settings: Settings) -> dict[int, int | None]:
    """Node id -> pid of the running node (None when it is not running)."""
    return {node.node_id: _node_pid(node.paths) for node in nodes(settings)}


def _is_zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "Z"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def broker_ready(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when the cluster at ``bootstrap`` answers a metadata request."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), client_id="youasked-probe"
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def _launch(settings: Settings, node: Node, cluster_id: str) -> subprocess.Popen[bytes]:
    if port_open("127.0.0.1", node.port):
        raise BrokerError(f"port {node.port} (node {node.node_id}) is taken by another process")
    _write_config(settings, node.paths, node.node_id)
    _format_once(settings, node.paths, cluster_id)
    command = _java(node.paths, settings, "kafka.Kafka", str(node.paths.config))
    with node.paths.stdout.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    node.paths.pid_file.write_text(str(process.pid))
    return process


def start(settings: Settings) -> int:
    """Start every node of the local cluster that does not run; wait until each answers; return
    the first node's pid.
    """
    layout = nodes(settings)
    running = node_pids(settings)
    if all(running.values()):
        return running[layout[0].node_id] or 0
    ensure_jars(settings)
    single = len(layout) == 1
    cluster_id = new_cluster_id() if single else _cluster_id(settings)
    launched = {
        node.node_id: _launch(settings, node, cluster_id) for node in layout if running[node.node_id] is None
    }
    deadline = time.monotonic() + settings.kafka_start_timeout_s
    waiting = set(launched)
    while time.monotonic() < deadline:
        for node_id, process in launched.items():
            if process.poll() is not None:
                node = next(n for n in layout if n.node_id == node_id)
                node.paths.pid_file.unlink(missing_ok=True)
                stop(settings)
                raise BrokerError(
                    f"node {node_id} exited with {process.returncode}; see {node.paths.stdout}"
                )
        waiting = {
            node.node_id
            for node in layout
            if node.node_id in waiting
            and not (port_open("127.0.0.1", node.port) and broker_ready(f"127.0.0.1:{node.port}"))
        }
        if not waiting:
            return node_pids(settings)[layout[0].node_id] or 0
        time.sleep(0.3)
    stop(settings)
    raise BrokerError(
        f"node(s) {sorted(waiting)} did not answer within {settings.kafka_start_timeout_s:.0f} s"
    )


def stop(settings: Settings, *, timeout: float = 60.0) -> bool:
    """Stop every node of the local cluster with a controlled shutdown (SIGTERM to all, then
    SIGKILL to those still running after ``timeout``). Returns False when none was running.

    Nodes found in the state folder are stopped too, whatever ``kafka_brokers`` says now.
    """
    homes = {node.paths.home: node.paths for node in nodes(settings)}
    base = settings.state_dir.resolve() / "kafka"
    single = broker_paths(settings)
    for home in [base, *sorted(base.glob("node-*"))]:
        if home not in homes and (home / "broker.pid").exists():
            homes[home] = BrokerPaths(libs=single.libs, home=home)
    pids = {home: pid for home, paths in homes.items() if (pid := _node_pid(paths)) is not None}
    if not pids:
        return False
    for pid in pids.values():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    for pid in pids.values():
        if _alive(pid):
            logger.warning("broker %d ignored SIGTERM for %.0f s; killing it", pid, timeout)
            os.kill(pid, signal.SIGKILL)
    for home in pids:
        homes[home].pid_file.unlink(missing_ok=True)
    return True


def kill_node(settings: Settings, node_id: int) -> bool:
    """SIGKILL one node of the local cluster (failover tests); False when it was not running."""
    node = next(n for n in nodes(settings) if n.node_id == node_id)
    pid = _node_pid(node.paths)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.05)
    node.paths.pid_file.unlink(missing_ok=True)
    return True


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What ``youasked kafka status`` says of one node."""

    node_id: int
    address: str
    pid: int | None
    answering: bool


def status(settings: Settings) -> list[NodeStatus]:
    """Each node of the local cluster: its address, pid and whether it answers."""
    return [
        NodeStatus(
            node_id=node.node_id,
            address=f"127.0.0.1:{node.port}",
            pid=(pid := _node_pid(node.paths)),
            answering=pid is not None
            and port_open("127.0.0.1", node.port)
            and broker_ready(f"127.0.0.1:{node.port}"),
        )
        for node in nodes(settings)
    ]


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)
