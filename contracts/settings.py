"""One settings object for every part of youasked, read from ``YOUASKED_*`` environment variables."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.dialogue import ServiceLevel

if TYPE_CHECKING:
    from contracts.topics import TopicSpec


class Settings(BaseSettings):
    """All configuration. Every field can be set as ``YOUASKED_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="YOUASKED_", env_file=None, extra="ignore")

    # --- Kafka -----------------------------------------------------------------------------
    kafka_bootstrap: str | None = Field(
        default=None,
        description="host:port[,host:port] of an existing cluster; unset runs the local broker.",
    )
    kafka_version: str = Field(default="4.1.2", description="Kafka version of the local broker.")
    kafka_port: int = Field(default=9092, description="Client port of the local broker.")
    kafka_controller_port: int = Field(default=9093, description="KRaft controller port.")
    kafka_brokers: int = Field(
        default=1,
        ge=1,
        le=9,
        description="Nodes of the local KRaft cluster (each a controller and a broker). Node i "
        "(from 1) listens on kafka_port + (i - 1) * kafka_node_port_step, its controller on "
        "kafka_controller_port + the same offset.",
    )
    kafka_node_port_step: int = Field(default=10, ge=2, description="Port distance between local nodes.")
    kafka_heap_mb: int = Field(default=512, ge=128, description="JVM heap of the local broker.")
    kafka_start_timeout_s: float = Field(default=90.0, gt=0)
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prefix of every topic name, for several environments on one cluster.",
    )
    topic_partitions: int = Field(default=4, ge=1, description="Partitions of every keyed topic.")
    topic_replication: int | None = Field(
        default=None,
        ge=1,
        description="Replicas of every topic (faust's internal ones too); unset: min(3, kafka_brokers) "
        "on the local cluster, 1 on a configured one.",
    )
    topic_min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="min.insync.replicas of every topic; unset: 2 when topics have 3 or more "
        "replicas, else 1.",
    )
    kafka_message_max_bytes: int = Field(
        default=1_048_588,
        ge=65_536,
        description="Largest record, in bytes: the local broker's message.max.bytes, every topic's "
        "max.message.bytes and every producer's max_request_size, so that they agree.",
    )
    topic_retention_ms: int = Field(
        default=7 * 24 * 3600 * 1000,
        description="Retention of log topics; also the horizon of comment de-duplication.",
    )

    # --- Paths -----------------------------------------------------------------------------
    cache_dir: Path = Field(
        default=Path(".cache"),
        description="Downloads (Kafka jars) and the ONNX export of the embedding model.",
    )
    state_dir: Path = Field(default=Path("var"), description="Broker data, logs, worker state.")

    # --- Worker ----------------------------------------------------------------------------
    app_id: str = Field(default="youasked", description="faust app id = consumer group prefix.")
    worker_web_port: int = Field(default=6066)
    worker_session_timeout_s: float = Field(
        default=15.0, ge=6, description="A worker silent this long is dead: its partitions move."
    )
    worker_stall_s: float = Field(
        default=45.0,
        gt=0,
        description="Restart a worker whose group commits nothing this long while input waits.",
    )
    worker_start_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="Restart a worker that has not joined its consumer group this long after starting.",
    )
    table_store: str = Field(
        default="memory://",
        pattern=r"^(memory|rocksdb)://",
        description="faust table store: memory:// (tables rebuilt from their changelogs at every start) "
        "or rocksdb:// (kept on disk under state_dir; needs the rocksdb extra, rocksdict).",
    )
    worker_blas_threads: int = Field(
        default=1,
        ge=0,
        description="Threads of the worker's BLAS (numpy's matrix products); 0: the library's "
        "default, one per core. A worker's products are small ones per suggestion (a suggestion "
        "against the duplicate window and the theme centres) next to the encoder's own threads: "
        "spread over the cores of a busy machine they wait on each other, 15x slower than on one.",
    )
    changelog_segment_bytes: int = Field(
        default=0,
        ge=0,
        description="segment.bytes of the worker's table changelogs when the worker creates them; "
        "0: the broker's default (1 GiB). Kafka compacts only closed segments, so a take-over "
        "replays the whole open segment: smaller segments keep the replay near the live state.",
    )
    worker_metrics_port: int = Field(
        default=6067,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus endpoint (/metrics); 0 turns it off. Several "
        "workers on one host need one port each; a port already taken leaves that worker without one.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="Address the worker's Prometheus endpoint listens on."
    )
    worker_lag_interval_s: float = Field(
        default=10.0, gt=0, description="How often the worker measures its consumer lag for /metrics."
    )

    # --- Ingest limits ---------------------------------------------------------------------
    max_message_bytes: int = Field(default=256 * 1024, ge=1024)
    max_text_chars: int = Field(default=10_000, ge=1, description="Longer texts are dead-lettered.")
    max_future_skew_s: float = Field(
        default=3600.0, ge=0, description="created_at further ahead of now than this is rejected."
    )
    min_created_at: datetime = Field(
        default=datetime(2000, 1, 1, tzinfo=UTC),
        description="created_at before this is dead-lettered at ingest (timestamp_out_of_range).",
    )

    # --- Suggestion detection ----------------------------------------------------------------
    classifier_dir: Path | None = Field(
        default=None, description="Trained classifier folder; unset uses the one shipped in models/artifacts."
    )
    first_stage: bool = Field(
        default=True,
        description="Judge each comment with the cheap first stage (hashed word and character n-grams, "
        "no transformer) before the embedding model: only its candidates are embedded and classified, "
        "the rest are not suggestions (reason first_stage). False embeds every comment moderation passes.",
    )
    first_stage_dir: Path | None = Field(
        default=None,
        description="Trained first-stage folder; unset uses the one shipped in models/artifacts.",
    )
    non_ask_rules: bool = Field(
        default=True,
        description="Leave units that are not asks by their words unembedded and unscored "
        "(models/non_asks.py: English praise with no sign of a request, wish, complaint or problem; a "
        "request for a code, an invitation, a refund, a call or help to the writer that names no "
        "change; an instruction to the reader that asks no change: 'Please make sure you ...', "
        "'Click ...'; a request to fix and nothing more: 'Please fix it asap'); a comment of nothing else "
        "is not a suggestion (reason praise, service_request, fix_request or instruction). "
        "False judges them with the classifier.",
    )
    explicit_ask_rule: bool = Field(
        default=True,
        description="A unit that asks for a change in so many words ('Please add ...', 'Can you add "
        "...', 'Bring back ...'; models/explicit_asks.py) passes the first stage and scores at least "
        "the classifier's threshold. False leaves it to the first stage and the classifier.",
    )
    embedding_model_name: str = Field(default="all-MiniLM-L6-v2")
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="Runs the embedding model: 'onnx' (ONNX Runtime, no PyTorch at run time; exported "
        "into cache_dir on first use) or 'torch' (sentence-transformers on PyTorch: the full package set, "
        "`make install-dev`). With embedding_weights='fp32' the vectors agree (cosine >= 0.9999); "
        "int8 weights move them by cosine 0.99-1.0 and keep every evaluation within 0.01 "
        "(docs/benchmarks.md).",
    )
    embedding_onnx_dir: Path | None = Field(
        default=None,
        description="Folder of the ONNX export (`youasked model export --out`); unset: "
        "<cache_dir>/onnx/<model>-<version>-f<format>-opset<n>. Exported there on first use if missing.",
    )
    embedding_weights: Literal["auto", "fp32", "int8"] = Field(
        default="auto",
        description="ONNX backend: the export's layer weights. 'int8' writes them in 8 bits (ONNX Runtime's "
        "MatMulNBits, per-block scales, int8 activations per token block): 1.4-1.5x the fp32 encode "
        "rate on CPUs with int8 dot products (AVX-512 VNNI, AVX-VNNI, AMX, Arm dotprod/i8mm) and 0.7x on "
        "x86 with AVX2 alone, vectors within cosine 0.99 of fp32, every evaluation within 0.01 "
        "(docs/benchmarks.md); 'fp32' gives sentence-transformers' vectors to cosine 0.9999; 'auto' "
        "takes int8 where the CPU has int8 dot products, fp32 elsewhere.",
    )
    embedding_threads: int = Field(
        default=0, ge=0, description="ONNX Runtime threads of one model run; 0: one per available core."
    )
    embedding_thread_spinning: bool = Field(
        default=False,
        description="ONNX Runtime's threads spin while waiting for work: measured slower here whenever "
        "anything else shares the cores (the worker's event loop, the broker), as it always does.",
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=512, description="Model batch: training, eval.")
    classify_embedding_batch_size: int = Field(
        default=8,
        ge=1,
        le=512,
        description="Model batch inside one classify batch: small batches pad less (texts are sorted by "
        "length first), so a stream's short batches run near the rate of one long sorted run.",
    )
    classify_embedding_batch_tokens: int = Field(
        default=256,
        ge=0,
        le=65_536,
        description="ONNX backend: each model run inside one classify batch holds as many texts as fit "
        "this many padded word pieces (texts times the longest), at least one; 0 runs "
        "classify_embedding_batch_size texts at a time instead. Small batches of mixed lengths run "
        "about twice as fast as in runs of 8.",
    )
    embedding_cache_entries: int = Field(default=50_000, ge=0, description="Exact-repeat cache size.")
    ingest_batch_size: int = Field(default=256, ge=1, le=10_000, description="Records per ingest batch.")
    ingest_batch_wait_s: float = Field(
        default=0.01,
        gt=0,
        description="Longest wait to fill one: short, so that a batch is what is ready (under load the "
        "records wait in the consumer while the previous batch runs, and batches fill by themselves).",
    )
    classify_batch_size: int = Field(
        default=256, ge=1, le=4096, description="Most comments per classify batch (reached under load)."
    )
    classify_batch_wait_s: float = Field(
        default=0.02,
        gt=0,
        description="Longest wait to fill a classify batch: short, so that at a low rate a comment does "
        "not wait for others (p99 latency), while under load the batch fills during the previous one.",
    )
    moderation_blocked_words: list[str] | None = Field(
        default=None,
        description="Words that always remove a comment (JSON list); unset uses the built-in list.",
    )
    moderation_profanity_words: list[str] | None = Field(
        default=None,
        description="Swear words that remove a comment only when they are all it says or insult a person "
        "(JSON list); unset uses the built-in list.",
    )
    moderation_promo_phrases: list[str] | None = Field(
        default=None, description="Promo phrases, one point of evidence each (JSON list); unset: built-in."
    )
    moderation_self_promo_phrases: list[str] | None = Field(
        default=None,
        description="Self-promotion phrases, two points in the imperative (JSON list); unset: built-in.",
    )
    moderation_max_links: int = Field(default=1, ge=0)
    moderation_min_letters: int = Field(default=3, ge=0)
    moderation_min_words: int = Field(default=2, ge=0)
    moderation_max_posts_per_author: int = Field(default=5, ge=1)
    moderation_author_window_s: float = Field(default=3600.0, gt=0)

    # --- Themes ------------------------------------------------------------------------------
    theme_tick_interval_s: float = Field(
        default=30.0, gt=0, description="How often a worker checks whether a time-due re-cluster is needed."
    )
    theme_idle_recluster_s: float = Field(
        default=20.0, gt=0, description="Re-cluster a product whose suggestions paused this long."
    )
    theme_recluster_interval_s: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="Re-cluster a product at least this often while it gets suggestions.",
    )

    # --- Scoring and closures -----------------------------------------------------------------
    score_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Overrides of the impact formula's weights and saturation points (models/scoring.py "
        "ScoringWeights), e.g. YOUASKED_SCORE_WEIGHTS='{\"growth\": 0.3}'.",
    )
    closure_templates: Path | None = Field(
        default=None, description="The brand's closure templates (TOML); default: the shipped ones."
    )
    closure_relevance: bool = Field(
        default=True,
        description="A shipped closure thanks only the asks that asked for what shipped (judged with the "
        "embedding model against the release line and title); off: every ask made before the release.",
    )

    # --- Dialogue (the brand's replies) ---------------------------------------------------------
    brand_authors: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Each product's own accounts (author ids or handles, case-insensitive): their comments "
        "are brand replies, whatever the producer said. JSON, e.g. "
        "YOUASKED_BRAND_AUTHORS='{\"sprintcare\": [\"sprintcare\"]}'.",
    )
    dialogue_service_level: ServiceLevel = Field(
        default_factory=ServiceLevel,
        description="The service level of a product without its own: first response within response_s "
        "seconds of working time (default 2 h within 09:00-17:00 Monday-Friday UTC).",
    )
    dialogue_service_levels: dict[str, ServiceLevel] = Field(
        default_factory=dict,
        description="Per-product service levels (JSON: product -> {response_s, timezone, work_start, "
        "work_end, workdays}).",
    )

    def service_level_of(self, product: str) -> ServiceLevel:
        """The service level of ``product``: its own, else ``dialogue_service_level``."""
        return self.dialogue_service_levels.get(product, self.dialogue_service_level)

    # --- Read model and API ------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the read model; default: an SQLite file in the state folder. "
        "PostgreSQL: postgresql+psycopg://user:password@host/db.",
    )
    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8000, ge=1, le=65535)
    ingest_secret: str | None = Field(
        default=None, description="HMAC-SHA256 secret of the signed ingest endpoint (off when unset)."
    )
    ingest_window_s: float = Field(default=300.0, gt=0, description="Accepted age of a signed request.")
    ingest_max_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest signed ingest body.")
    api_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body of every other route, in bytes."
    )
    api_send_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Longest wait for the broker on one request; then it answers 503 broker_unavailable.",
    )

    @property
    def read_model_url(self) -> str:
        """The read model's database URL (the configured one, or ``<state_dir>/readmodel.db``)."""
        return self.database_url or f"sqlite:///{(self.state_dir / 'readmodel.db').resolve()}"

    @property
    def bootstrap_servers(self) -> str:
        """The Kafka bootstrap address: the configured cluster or every node of the local one."""
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        return ",".join(f"127.0.0.1:{port}" for _, port, _ in self.local_nodes)

    @property
    def local_nodes(self) -> list[tuple[int, int, int]]:
        """``(node id, client port, controller port)`` of each node of the local cluster."""
        step = self.kafka_node_port_step
        return [
            (node, self.kafka_port + (node - 1) * step, self.kafka_controller_port + (node - 1) * step)
            for node in range(1, self.kafka_brokers + 1)
        ]

    @property
    def replication_factor(self) -> int:
        """Replicas of every topic: ``topic_replication``, else min(3, nodes) on the local cluster."""
        if self.topic_replication is not None:
            return self.topic_replication
        return min(3, self.kafka_brokers) if self.uses_local_broker else 1

    @property
    def min_insync_replicas(self) -> int:
        """``topic_min_insync_replicas``, else 2 with 3 or more replicas (one may fail), else 1."""
        if self.topic_min_insync_replicas is not None:
            return self.topic_min_insync_replicas
        return 2 if self.replication_factor >= 3 else 1

    def topic_name(self, spec: TopicSpec) -> str:
        """The name of a declared topic in this environment (``topic_prefix`` + its name)."""
        return f"{self.topic_prefix}{spec.name}"

    @property
    def uses_local_broker(self) -> bool:
        """True when no external cluster is configured."""
        return not self.kafka_bootstrap


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once from the environment."""
    return Settings()
