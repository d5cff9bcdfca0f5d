"""The local Apache Kafka broker (KRaft, single node), run from Maven Central jars.

``ensure_jars`` collects the broker with Maven into a cache, ``start`` formats the storage once
and starts ``kafka.Kafka`` in its own process group, ``stop`` asks for a controlled shutdown
(SIGTERM). The pid, configuration, data and logs live under ``<state_dir>/kafka``.
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


def broker_paths(settings: Settings) -> BrokerPaths:
    """The jar cache and state folder of the configured broker version."""
    libs = settings.cache_dir.resolve() / "kafka" / settings.kafka_version / "libs"
    return BrokerPaths(libs=libs, home=settings.state_dir.resolve() / "kafka")


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


def _write_config(settings: Settings, paths: BrokerPaths) -> None:
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    port, controller = settings.kafka_port, settings.kafka_controller_port
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(paths.data),
        "num.partitions": str(settings.topic_partitions),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
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


def _format_once(settings: Settings, paths: BrokerPaths) -> None:
    if (paths.data / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    command = _java(
        paths,
        settings,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(paths.config),
        "--ignore-formatted",
    )
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(f"formatting the log dir failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")


def read_pid(settings: Settings) -> int | None:
    """The pid of the running local broker, or None (a stale pid file is removed)."""
    pid_file = broker_paths(settings).pid_file
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


def start(settings: Settings) -> int:
    """Start the local broker unless it runs; wait until it answers; return its pid."""
    pid = read_pid(settings)
    if pid is not None:
        return pid
    if port_open("127.0.0.1", settings.kafka_port):
        raise BrokerError(f"port {settings.kafka_port} is taken by another process")
    paths = broker_paths(settings)
    ensure_jars(settings)
    _write_config(settings, paths)
    _format_once(settings, paths)
    command = _java(paths, settings, "kafka.Kafka", str(paths.config))
    with paths.stdout.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    paths.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + settings.kafka_start_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise BrokerError(f"the broker exited with {process.returncode}; see {paths.stdout}")
        if port_open("127.0.0.1", settings.kafka_port) and broker_ready(settings.bootstrap_servers):
            return process.pid
        time.sleep(0.3)
    stop(settings)
    raise BrokerError(f"the broker did not answer within {settings.kafka_start_timeout_s:.0f} s")


def stop(settings: Settings, *, timeout: float = 60.0) -> bool:
    """Stop the local broker with a controlled shutdown (SIGTERM, then SIGKILL after ``timeout``).

    Returns False when no broker was running.
    """
    pid = read_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.2)
    else:
        logger.warning("broker %d ignored SIGTERM for %.0f s; killing it", pid, timeout)
        os.kill(pid, signal.SIGKILL)
    broker_paths(settings).pid_file.unlink(missing_ok=True)
    return True


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
