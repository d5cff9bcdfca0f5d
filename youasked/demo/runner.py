"""``youasked demo``: broker, worker, a replay of the bundled sample, and a summary of what came through."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.settings import Settings
from youasked.interrupts import stopped_like_ctrl_c

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

SAMPLE = Path(__file__).with_name("comments.jsonl")


@dataclass
class DemoSummary:
    """What the demo replay produced."""

    sent: int = 0
    accepted: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    suggestions: int = 0
    themes: dict[str, dict[str, object]] = field(default_factory=dict)
    asks: dict[str, list[str]] = field(default_factory=dict)  # theme id -> its asks, most typical first
    lag: dict[str, int] = field(default_factory=dict)

    @property
    def passed_over(self) -> int:
        """Records neither accepted nor dead-lettered: copies of comments already passed on."""
        return self.sent - self.accepted - sum(self.dead_letters.values())


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``youasked worker`` in its own process group, logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("YOUASKED_KAFKA_BOOTSTRAP", settings.bootstrap_servers)
    # The demo's stream is one burst: let its themes form soon after it ends.
    env.setdefault("YOUASKED_THEME_TICK_INTERVAL_S", "2")
    env.setdefault("YOUASKED_THEME_IDLE_RECLUSTER_S", "4")
    return _spawn("worker", env=env, log_path=log_path)


def _spawn(command: str, *, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``youasked <command>`` in its own process group, its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "youasked.cli", command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def start_api(settings: Settings, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``youasked api`` (with its projection) and make a pm key for the demo's user."""
    from api.readmodel.db import make_engine, upgrade
    from api.security import Role, create_key

    engine = make_engine(settings.read_model_url)
    upgrade(engine)
    key = create_key(engine, name="demo", role=Role.pm)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("YOUASKED_KAFKA_BOOTSTRAP", settings.bootstrap_servers)
    process = _spawn("api", env=env, log_path=log_path)
    return process, key


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Stop a worker started by :func:`start_worker` (SIGTERM, SIGKILL after ``timeout``)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _end_offsets(settings: Settings, topics: list[str]) -> dict[tuple[str, int], int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        return {(tp.topic, tp.partition): offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def summarize(
    settings: Settings, *, sent: int, before: dict[tuple[str, int], int], timeout: float
) -> DemoSummary:
    """Wait until the worker has processed everything, then count this run's outputs."""
    from contracts.events import follows_original
    from contracts.topics import (
        COMMENTS,
        COMMENTS_ACCEPTED,
        COMMENTS_CLASSIFIED,
        COMMENTS_DLQ,
        COMMENTS_VALIDATED,
        SUGGESTIONS,
        THEME_MEMBERS,
        THEMES,
    )
    from messaging.lag import wait_for_zero_lag
    from messaging.readback import read_topic

    inputs = [settings.topic_name(s) for s in (COMMENTS, COMMENTS_VALIDATED, COMMENTS_ACCEPTED, SUGGESTIONS)]
    summary = DemoSummary(sent=sent)
    summary.lag = wait_for_zero_lag(settings, inputs, timeout=timeout)
    for record in read_topic(settings, COMMENTS_ACCEPTED, settle=0.5):
        if record.offset >= before.get((settings.topic_name(COMMENTS_ACCEPTED), record.partition), 0):
            summary.accepted += 1
    for record in read_topic(settings, COMMENTS_DLQ, settle=0.5):
        if record.offset >= before.get((settings.topic_name(COMMENTS_DLQ), record.partition), 0):
            summary.dead_letters[json.loads(record.value)["reason"]] += 1
    for record in read_topic(settings, COMMENTS_CLASSIFIED, settle=0.5):
        if record.offset >= before.get((settings.topic_name(COMMENTS_CLASSIFIED), record.partition), 0):
            value = json.loads(record.value)
            label = value["verdict"] if value["verdict"] != "moderated" else f"moderated: {value['reason']}"
            summary.verdicts[label] += 1
    vectors: dict[str, list[float]] = {}
    for record in read_topic(settings, SUGGESTIONS, settle=0.5):
        if record.offset >= before.get((settings.topic_name(SUGGESTIONS), record.partition), 0):
            summary.suggestions += 1
        found = ask_vector(record.value)
        if found is not None:
            vectors[found[0]] = found[1]
    if summary.suggestions:
        read_topic(settings, THEMES, expect=1, timeout=60, settle=3)  # themes form when the stream pauses
    for record in read_topic(settings, THEMES, settle=0.5):
        value = json.loads(record.value)
        summary.themes[value["theme_id"]] = value
    members: dict[str, dict[str, object]] = {}
    for record in read_topic(settings, THEME_MEMBERS, settle=0.5):
        if record.value is not None and record.key is not None:
            members[record.key.decode()] = json.loads(record.value)  # the last record per suggestion
    held: dict[str, list[tuple[str, list[float] | None]]] = {}
    for member in members.values():
        # an exact repeat is counted with its original and quotes nothing new; an automatic
        # near-duplicate clustered on its own is an ask of its theme in its own words
        theme_id = member.get("theme_id")
        kind = member.get("duplicate_kind")
        if theme_id and not follows_original(None if kind is None else str(kind), str(theme_id)):
            sid = str(member["suggestion_id"])
            held.setdefault(str(theme_id), []).append((str(member["text"]), vectors.get(sid)))
    summary.asks = {theme_id: typical_first(asks) for theme_id, asks in held.items()}
    return summary


def ask_vector(raw: bytes | None) -> tuple[str, list[float]] | None:
    """The suggestion id and embedding of one ``feedback.suggestions`` record, or None for a record
    that is not one (the summary then quotes that ask after those it can place).
    """
    try:
        value = json.loads(raw or b"")
        sid, vector = value["suggestion_id"], value["embedding"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(sid, str) or not isinstance(vector, list) or not vector:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector):
        return None
    return sid, [float(x) for x in vector]


def typical_first(asks: list[tuple[str, list[float] | None]]) -> list[str]:
    """A theme's asks (text, embedding), the closest to the mean of their embeddings first: the
    summary quotes what the theme is about, not whichever asks came first. Asks without an
    embedding go last, in their order; the same words written twice are quoted once.
    """
    import numpy as np

    known = [(text, np.asarray(vector, dtype=np.float64)) for text, vector in asks if vector]
    order: list[int] = []
    if known:
        centre = np.sum([vector for _, vector in known], axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        order = sorted(range(len(known)), key=lambda i: (-float(known[i][1] @ centre), i))
    seen: set[str] = set()
    quoted = []
    for text in [known[i][0] for i in order] + [text for text, vector in asks if not vector]:
        words = " ".join(text.casefold().split())
        if words not in seen:
            seen.add(words)
            quoted.append(text)
    return quoted


def themes_table(summary: DemoSummary, *, top: int = 12) -> Table:
    """The ``top`` active themes, most people first: title, keywords, counts, three member asks."""
    from rich.table import Table

    active = [t for t in summary.themes.values() if t["status"] in ("active", "emerging")]
    active.sort(key=lambda t: (-int(str(t["author_count"])), str(t["theme_id"])))
    table = Table(title=f"Themes ({len(active)} active)")
    table.add_column("theme", no_wrap=True)  # the id, whole: the API and commands take it
    for column in ("title", "keywords", "people", "mentions", "member asks"):
        table.add_column(column)
    for theme in active[:top]:
        asks = summary.asks.get(str(theme["theme_id"])) or [str(theme.get("representative_text") or "")]
        table.add_row(
            str(theme["theme_id"]),
            str(theme.get("title") or ""),
            str(theme["label"]),
            str(theme["author_count"]),
            str(theme["mention_count"]),
            "\n".join(f"- {ask[:80]}" for ask in asks[:3]),
        )
    return table


PIPED_TABLE_WIDTH = 160
"""Columns the themes table takes when the output is not a terminal (a log, a pipe, CI)."""


def print_themes(console: Console, summary: DemoSummary) -> None:
    """Print :func:`themes_table`: at the terminal's width, or, when the output is a log or a pipe
    (whose width rich takes to be 80), at least :data:`PIPED_TABLE_WIDTH` columns, so that each
    quoted ask stays on one line instead of one word a line.
    """
    if console.is_terminal:
        console.print(themes_table(summary))
        return
    width = console.width
    console.width = max(width, PIPED_TABLE_WIDTH)  # rich caps a print's width at the console's
    try:
        console.print(themes_table(summary))
    finally:
        console.width = width


def say(console: Console, label: str, text: str = "") -> None:
    """Print one line: ``label`` in bold, then ``text`` as it is (no markup), never wrapped or
    cropped at the console's width, so that a command, an address or a path in it can be copied
    whole from any terminal or log.
    """
    from rich.text import Text

    line = Text.assemble((label, "bold"), " " if label and text else "", text)
    console.print(line, soft_wrap=True, highlight=False)


def print_api_access(console: Console, *, base: str, key: str, product: str, pid: int) -> None:
    """Where the API answers, a pm key, and a curl command that uses it."""
    say(console, "api", f"{base} (OpenAPI docs at {base}/docs), pid {pid}")
    say(console, "a pm key", key)
    say(console, "", f"  curl -s -H 'X-API-Key: {key}' '{base}/themes?product={product}&sort=score&limit=5'")


def print_pages(console: Console, *, base: str, key: str, product: str) -> None:
    """The addresses of the dashboard (signed in with ``key``) and of the public ideas board."""
    # the key rides in the fragment: the page stores it and drops it from the address bar
    say(console, "dashboard", f"{base}/dashboard?product={product}#key={key}")
    say(console, "public ideas board", f"{base}/board?product={product}")


def run_demo(
    settings: Settings, *, sample: Path = SAMPLE, serve: bool, timeout: float = 180.0
) -> DemoSummary:
    """Run the demo end to end and print its summary; with ``serve``, keep the worker up until Ctrl-C."""
    from rich.console import Console

    from messaging.admin import ensure_topics
    from youasked import broker

    console = Console()
    if settings.uses_local_broker:
        started = time.monotonic()
        pid = broker.start(settings)
        say(
            console,
            "kafka",
            f"{settings.kafka_version} on {settings.bootstrap_servers} "
            f"(pid {pid}, ready in {time.monotonic() - started:.1f} s)",
        )
    else:
        say(console, "kafka", f"configured cluster {settings.bootstrap_servers}")
    ensure_topics(settings)
    if settings.embedding_backend == "onnx":
        _ensure_onnx_export(settings, console)
    with stopped_like_ctrl_c():
        return _run(settings, sample=sample, serve=serve, timeout=timeout, console=console)


def _ensure_onnx_export(settings: Settings, console: Console) -> None:
    """Export the embedding model before the worker starts (once: a fresh clone has none yet)."""
    from models.factories import exported_model_dir

    started = time.monotonic()
    directory = exported_model_dir(settings)
    say(console, "model", f"ONNX export in {directory} (ready in {time.monotonic() - started:.1f} s)")


def _run(settings: Settings, *, sample: Path, serve: bool, timeout: float, console: Console) -> DemoSummary:
    """The demo from starting the worker on; stops what it started when it ends or is stopped."""
    from rich.table import Table

    from contracts.topics import COMMENTS, COMMENTS_ACCEPTED, COMMENTS_DLQ
    from youasked.replay import replay

    log_path = settings.state_dir.resolve() / "logs" / "worker.log"
    worker = start_worker(settings, log_path)
    say(console, "worker", f"pid {worker.pid}, log {log_path}")
    try:
        before = _end_offsets(
            settings, [settings.topic_name(COMMENTS_ACCEPTED), settings.topic_name(COMMENTS_DLQ)]
        )
        report = replay(
            sample,
            bootstrap_servers=settings.bootstrap_servers,
            topic=settings.topic_name(COMMENTS),
            progress=console.is_terminal,
            max_request_size=settings.kafka_message_max_bytes,
        )
        say(console, "replay", f"{report.sent} records of {sample.name}")
        summary = summarize(settings, sent=report.sent, before=before, timeout=timeout)
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}; see {log_path}")
        table = Table(title="What came through")
        table.add_column("outcome")
        table.add_column("records", justify="right")
        table.add_row("sent", str(summary.sent))
        table.add_row("accepted (valid, normalized, passed on once)", str(summary.accepted))
        table.add_row("passed over (copies of comments already passed on)", str(summary.passed_over))
        for reason, count in sorted(summary.dead_letters.items()):
            table.add_row(f"dead-lettered: {reason}", str(count))
        judged = Table(title="How the accepted comments were judged")
        judged.add_column("verdict")
        judged.add_column("comments", justify="right")
        for verdict, count in sorted(summary.verdicts.items()):
            judged.add_row(verdict, str(count))
        judged.add_row("asks passed on to feedback.suggestions (one per ask)", str(summary.suggestions))
        console.print(table)
        console.print(judged)
        print_themes(console, summary)
        if any(summary.lag.values()):
            console.print(f"[yellow]still processing[/]: lag {summary.lag}")
        if serve:
            api, key = start_api(settings, settings.state_dir.resolve() / "logs" / "api.log")
            try:
                base = f"http://{settings.api_host}:{settings.api_port}"
                print_api_access(console, base=base, key=key, product="trailmate", pid=api.pid)
                from youasked.demo.decisions import decide, publish_month

                decisions = decide(base, key, product="trailmate", timeout=timeout)
                console.print("[bold]a product manager's decisions[/] (costs, plans, a release, via the API)")
                for line in decisions.lines:
                    console.print(f"  {line}")
                if decisions.shipped:
                    console.print("[bold]monthly update[/]")
                    console.print(publish_month(settings, product="trailmate"), markup=False)
                print_pages(console, base=base, key=key, product="trailmate")
                console.print("The worker and the API keep running; press Ctrl-C to stop them.")
                worker.wait()
            finally:
                stop_worker(api)
        return summary
    except KeyboardInterrupt:
        return DemoSummary()
    finally:
        stop_worker(worker)
