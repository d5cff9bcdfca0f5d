"""The ``youasked`` command."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from contracts.settings import Settings, get_settings
from youasked.cli_api import key_app, serve
from youasked.cli_db import db_app
from youasked.cli_deploy import deploy_app
from youasked.cli_moderation import eval_moderation
from youasked.cli_themes import theme_app

if TYPE_CHECKING:
    from youasked.replay import ReplayReport

app = typer.Typer(
    help="youasked: from what people ask to what you ship, and back to them.",
    no_args_is_help=True,
    add_completion=False,
)
kafka_app = typer.Typer(help="The local Kafka broker (KRaft, single node).", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
train_app = typer.Typer(help="Train the models from labelled data.", no_args_is_help=True)
app.add_typer(train_app, name="train")
eval_app = typer.Typer(help="Measure the production code path on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
eval_app.command("moderation")(eval_moderation)
contracts_app = typer.Typer(
    help="Contract docs for other systems (JSON Schemas, AsyncAPI), generated from the event models.",
    no_args_is_help=True,
)
app.add_typer(contracts_app, name="contracts")
app.add_typer(theme_app, name="theme")
model_app = typer.Typer(help="The embedding model's ONNX export.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(key_app, name="key")
app.add_typer(db_app, name="db")
app.add_typer(deploy_app, name="deploy")
app.command("api")(serve)

DEFAULT_CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "contracts"


def _setup_logging(level: str = "INFO") -> None:
    from youasked.progress import quiet_library_bars

    quiet_library_bars()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("kafka").setLevel(logging.ERROR)


def _local_cluster(brokers: int | None) -> Settings:
    """The settings, with ``brokers`` nodes when given, else as many as the state folder holds
    (a cluster started with ``--brokers`` is found again without the setting).
    """
    from youasked import broker

    settings = get_settings()
    count = brokers or broker.formatted_nodes(settings) or settings.kafka_brokers
    if count == settings.kafka_brokers:
        return settings
    return settings.model_copy(update={"kafka_brokers": count})


@kafka_app.command("start")
def kafka_start(
    brokers: int | None = typer.Option(
        None, "--brokers", min=1, max=9, help="Nodes of the local KRaft cluster (YOUASKED_KAFKA_BROKERS)."
    ),
) -> None:
    """Fetch the jars if missing, format storage once, start every node and wait until each answers."""
    from youasked import broker

    _setup_logging()
    settings = _local_cluster(brokers)
    if not settings.uses_local_broker:
        typer.echo(f"using the configured cluster {settings.bootstrap_servers}; no local broker")
        return
    pid = broker.start(settings)
    nodes = settings.kafka_brokers
    typer.echo(
        f"kafka {settings.kafka_version} running on {settings.bootstrap_servers} "
        + (f"(pid {pid})" if nodes == 1 else f"({nodes} nodes; topics with {settings.replication_factor} "
           f"replicas, min.insync.replicas {settings.min_insync_replicas})")
    )
    if nodes != get_settings().kafka_brokers:
        typer.echo(f"for the other commands: export YOUASKED_KAFKA_BROKERS={nodes}")


@kafka_app.command("stop")
def kafka_stop() -> None:
    """Stop every node of the local cluster with a controlled shutdown."""
    from youasked import broker

    _setup_logging()
    stopped = broker.stop(_local_cluster(None))
    typer.echo("kafka stopped" if stopped else "kafka was not running")


@kafka_app.command("status")
def kafka_status() -> None:
    """List the nodes, their pids and whether each answers; exit 1 unless all do."""
    from youasked import broker

    settings = _local_cluster(None)
    if not settings.uses_local_broker:
        ready = broker.broker_ready(settings.bootstrap_servers)
        typer.echo(f"kafka at {settings.bootstrap_servers}: {'answering' if ready else 'not answering'} "
                   "(external cluster)")
        raise typer.Exit(0 if ready else 1)
    nodes = broker.status(settings)
    for node in nodes:
        state = "answering" if node.answering else "not answering"
        where = f"pid {node.pid}" if node.pid else "no local pid"
        label = "kafka" if len(nodes) == 1 else f"node {node.node_id}"
        typer.echo(f"{label} at {node.address}: {state} ({where})")
    raise typer.Exit(0 if all(node.answering for node in nodes) else 1)


@app.command()
def worker(
    web_port: int = typer.Option(None, help="Port of the worker's web endpoint."),
    loglevel: str = typer.Option("info", help="Log level."),
    supervise: bool = typer.Option(
        True,
        help="Run the worker as a child process and restart it if it stalls (see streams/supervisor.py).",
    ),
) -> None:
    """Run the stream worker (faust) until stopped."""
    settings = get_settings()
    if web_port is not None:
        settings = settings.model_copy(update={"worker_web_port": web_port})
        os.environ["YOUASKED_WORKER_WEB_PORT"] = str(web_port)
    _setup_logging(loglevel.upper())
    if supervise:
        from streams.supervisor import supervise as run_supervised
        from streams.supervisor import worker_command

        code = run_supervised(
            settings,
            worker_command(loglevel),
            stall_s=settings.worker_stall_s,
            start_timeout_s=settings.worker_start_timeout_s,
        )
        raise typer.Exit(code)
    from streams.app import run_worker

    run_worker(settings, loglevel=loglevel)


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected FIELD=VALUE, got {item!r}", param_hint=option)
        pairs[name.strip()] = value
    return pairs


@app.command()
def replay(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or JSONL file."),
    rate: float = typer.Option(None, min=0.1, help="Records per second (default: as fast as possible)."),
    limit: int = typer.Option(None, min=1, help="Send at most this many records."),
    map_: list[str] = typer.Option(
        None, "--map", help="FIELD=COLUMN: take a comment field from a CSV column."
    ),
    set_: list[str] = typer.Option(None, "--set", help="FIELD=VALUE: set a field on every record."),
    id_salt: str = typer.Option(
        "",
        help="Make every record a new comment: derived ids take TEXT into their hash, the file's own "
        "ids become ID~TEXT. Replaying with the same salt again adds nothing.",
    ),
    check_copies: bool = typer.Option(
        True, help="Read the identities already accepted first and say how many records are copies."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar (on standard error, when a terminal)."),
) -> None:
    """Replay a file of comments into feedback.comments (known layouts are mapped by themselves).

    Ingest passes each platform:comment_id on once: rows without an id get one from the file, the
    row and the product, so the same file under the same product adds nothing the second time.
    """
    from contracts.topics import COMMENTS
    from messaging import admin
    from youasked import replay as replays

    _setup_logging("WARNING")
    settings = get_settings()
    admin.ensure_topics(settings)
    columns = _pairs(map_, "--map")
    mapping = replays.ColumnMapping(columns=columns) if columns else None
    report = replays.replay(
        file,
        bootstrap_servers=settings.bootstrap_servers,
        topic=settings.topic_name(COMMENTS),
        rate=rate,
        limit=limit,
        mapping=mapping,
        overrides=_pairs(set_, "--set"),
        id_salt=id_salt,
        known=replays.accepted_identities(settings) if check_copies else None,
        progress=progress,
        max_request_size=settings.kafka_message_max_bytes,
    )
    typer.echo(
        f"sent {report.sent} records from {file.name} to {settings.topic_name(COMMENTS)} "
        f"in {report.seconds:.1f} s ({report.rate:.0f}/s)"
    )
    _tell_replay_outcome(report)


def _tell_replay_outcome(report: ReplayReport) -> None:
    """Say what ingest will pass over (exit status 0: copies are not errors) and what the broker
    refused (exit status 1: those records are not on the topic).
    """
    if report.refused:
        typer.echo(
            f"error: {report.refused} of {report.sent} records were refused (see the log above)", err=True
        )
    if report.mostly_copies:
        typer.echo(
            f"warning: {report.copies} of {report.sent} records are copies of comments already accepted "
            "(same platform and comment id) and ingest will pass them over: nothing new is added. "
            "To replay them as new comments (under another product, say) add --id-salt TEXT.",
            err=True,
        )
    elif report.copies:
        typer.echo(
            f"{report.copies} of them are copies of comments already accepted; ingest passes them over"
        )
    if report.refused:
        raise typer.Exit(1)


@app.command()
def demo(
    serve: bool = typer.Option(True, help="Keep the worker running after the summary, until Ctrl-C."),
    timeout: float = typer.Option(180.0, help="Seconds to wait for the pipeline to catch up."),
) -> None:
    """Start the broker (unless a cluster is configured) and the worker, replay the bundled sample,
    and print what came through and what went to the dead-letter topic.
    """
    from youasked.demo.runner import run_demo

    _setup_logging("WARNING")
    summary = run_demo(get_settings(), serve=serve, timeout=timeout)
    if summary.sent and any(summary.lag.values()):
        raise typer.Exit(1)


@train_app.command("suggestions")
def train_suggestions(
    data_dir: Path = typer.Option(Path("../shared/data"), help="Folder holding suggestions/*.csv."),
    out: Path = typer.Option(None, help="Classifier artifact folder (default: the one the worker loads)."),
    first_stage_out: Path = typer.Option(
        None, help="First-stage artifact folder (default: the one the worker loads)."
    ),
    stage: str = typer.Option(
        "unit-judge",
        help="What to train: unit-judge (the worker's judge and its first stage), classifier (the "
        "whole-comment baseline), first-stage (in front of the classifier already in --out) or all.",
    ),
    unit_judge_out: Path = typer.Option(None, help="Unit judge artifact folder (default: the shipped one)."),
    source: list[str] = typer.Option(
        None,
        "--source",
        help="A training source the unit judge may learn from (repeat; default: the permissive ones, "
        "tizard, written and banking77). clap, maalej and reviews are evaluation-only: they need --research.",
    ),
    research: bool = typer.Option(
        False,
        "--research",
        help="Allow evaluation-only sources (no stated licence) in training; the artifact's manifest "
        "then marks it not shippable. The whole-comment classifier and its first stage need it.",
    ),
) -> None:
    """Train the unit judge and its first stage on the permissive training sources (see
    ``models/training_sources.py``); with ``--research``, also the whole-comment classifier and its
    first stage (CLAP and Maalej training splits). Print their metrics.
    """
    from models.factories import DEFAULT_CLASSIFIER_DIR, DEFAULT_FIRST_STAGE_DIR, embedder
    from models.first_stage_training import train_first_stage_from_shared_data
    from models.suggestion_training import train_from_shared_data
    from models.suggestions import SuggestionClassifier
    from models.training_sources import PERMISSIVE_SOURCES, TrainingSourceError, check_sources, shippable
    from youasked.progress import progress_bar

    if stage not in ("all", "classifier", "first-stage", "unit-judge"):
        raise typer.BadParameter("one of: all, classifier, first-stage, unit-judge", param_hint="--stage")
    sources = tuple(source or PERMISSIVE_SOURCES)
    try:
        if stage in ("all", "unit-judge"):
            chosen = check_sources(sources, research=research)
            if not shippable(chosen) and unit_judge_out is None:
                raise TrainingSourceError(
                    "a unit judge trained on evaluation-only data is not written over the shipped one: "
                    "give --unit-judge-out"
                )
        if stage in ("all", "classifier", "first-stage"):
            check_sources(("clap", "maalej"), research=research)
    except TrainingSourceError as error:
        raise typer.BadParameter(str(error), param_hint="--source/--research") from error
    _setup_logging("WARNING")
    settings = get_settings()
    model = embedder(settings)
    classifier_dir = out or DEFAULT_CLASSIFIER_DIR
    report: dict[str, object] = {}
    if stage in ("all", "classifier"):
        with progress_bar("training the suggestion classifier", unit="steps") as on_progress:
            report["classifier"] = train_from_shared_data(
                data_dir, classifier_dir, model, on_progress=on_progress
            )
    if stage in ("all", "first-stage"):
        classifier = SuggestionClassifier.load(classifier_dir)
        with progress_bar("training the first stage", total=3, unit="steps") as on_progress:
            done = iter(range(1, 4))
            report["first_stage"] = train_first_stage_from_shared_data(
                data_dir,
                first_stage_out or DEFAULT_FIRST_STAGE_DIR,
                model,
                classifier,
                on_step=lambda: on_progress(next(done), 3),
            )
    if stage in ("all", "unit-judge"):
        from models.factories import DEFAULT_UNIT_FIRST_STAGE_DIR, DEFAULT_UNIT_JUDGE_DIR
        from models.unit_judge import train_unit_judge

        typer.echo("training the unit judge and its first stage (minutes)", err=True)
        judge_dir = unit_judge_out or DEFAULT_UNIT_JUDGE_DIR
        stage_dir = judge_dir / "first_stage" if unit_judge_out else DEFAULT_UNIT_FIRST_STAGE_DIR
        report["unit_judge"] = train_unit_judge(
            data_dir, judge_dir, model, first_stage_dir=stage_dir, sources=sources, research=research
        )
    typer.echo(json.dumps(report, indent=1))


@eval_app.command("suggestions")
def eval_suggestions(
    input_: Path = typer.Option(
        None, "--input", exists=True, dir_okay=False, help="Labelled CSV (without it: every test split)."
    ),
    text_col: str = typer.Option("text", help="Column holding the comment text."),
    label_col: str = typer.Option("label", help="Column holding the label."),
    positive: list[str] = typer.Option(
        None, help="Label value(s) that mean: a valid suggestion (without it: the yes of a 0/1 column)."
    ),
    title_col: str = typer.Option(None, help="Optional title column, read before the text."),
    drop_if_true: str = typer.Option(None, help="Skip rows where this column is true."),
    holdout_of: str = typer.Option(
        None, help="Score only the held-out split of this training set (clap or maalej); needs --id-col."
    ),
    id_col: str = typer.Option(None, help="Row id column (for --holdout-of)."),
    rating_col: str = typer.Option(
        "rating",
        help="Store rating column (1-5), read as the worker reads a review's rating; ignored when the file "
        "has no such column.",
    ),
    moderation: bool = typer.Option(True, help="Apply the moderation rules first, as production does."),
    data_dir: Path = typer.Option(Path("../shared/data"), help="Shared data folder (without --input)."),
    asks: bool = typer.Option(
        False, "--asks", help="Also how often an extracted ask overlaps a labelled ask (see --ask-col)."
    ),
    ask_col: str = typer.Option(
        "asks",
        help="With --input --asks: the column of each comment's labelled asks: spans of the text "
        "(12-40;51-70), a JSON list of the asks' words, or the words, one ask a line.",
    ),
    compare: list[str] = typer.Option(
        None,
        "--compare",
        metavar="NAME=DIR",
        help="Without --input: also score the unit judge saved in DIR (and its first_stage/ folder) as NAME, "
        "on the same vectors (repeat).",
    ),
) -> None:
    """Run moderation + classifier (production thresholds) over a labelled CSV; print JSON.

    Without ``--input``: the unit judge and today's classifier beside it, at comment level (any
    unit an ask), on every test split (CLAP and Maalej holdouts, Tizard test split, the review and
    tweet labels, the demo sample); with ``--asks`` also how often an extracted ask overlaps a
    labelled ask on the splits with ask spans.

    With the first stage on (``YOUASKED_FIRST_STAGE``, the default), ``with_first_stage`` holds the
    figures of the path with it, its pass rate and the recall it loses against the path without.
    With ``--input`` and ``--asks``, ``asks`` holds the span overlap of the production path's asks
    with the labelled asks of ``--ask-col`` (:func:`models.judge_eval.file_ask_overlap`).
    """
    from models.csv_files import TableError
    from models.datasets import load_labelled_csv, pair_label, split_train_holdout
    from models.explicit_asks import with_explicit_asks
    from models.factories import classifier as production_classifier
    from models.factories import embedder, first_stage, moderation_policy
    from models.judge import FirstStageScorer, SuggestionScorer
    from models.judge_eval import file_ask_overlap
    from models.suggestions import decisions_and_reasons, evaluate_binary, judge_texts
    from models.text import normalize_text
    from youasked.progress import progress_bar

    _setup_logging("WARNING")
    if input_ is None:
        _judge_report(data_dir, asks=asks, compare=_pairs(compare, "--compare"))
        return
    if not positive:
        labels = {row[label_col].strip() for row in _read_csv(input_, [text_col, label_col])}
        positive = [label for label in labels if pair_label(label) == 1]
        if not positive or any(pair_label(label) is None for label in labels if label):
            shown = ", ".join(repr(label) for label in sorted(labels)[:20])
            raise typer.BadParameter(
                f"which labels of {label_col!r} mean a suggestion? it holds {shown}", param_hint="--positive"
            )
    if holdout_of and not id_col:
        raise typer.BadParameter("--holdout-of needs --id-col", param_hint="--holdout-of")
    settings = get_settings()
    try:
        data = load_labelled_csv(
            input_,
            text_col,
            label_col,
            positive,
            id_col=id_col,
            title_col=title_col,
            drop_if_true=drop_if_true,
            name=holdout_of,
            rating_col=rating_col or None,
            rating_optional=True,
        )
    except TableError as error:
        raise typer.BadParameter(str(error), param_hint="--input") from None
    if not data.texts:
        raise typer.BadParameter(f"{input_.name}: no row has a text in {text_col!r}", param_hint="--input")
    ask_cells: dict[str, str] = {}
    if asks:
        # Each row's ask cell under the row's id, as load_labelled_csv names rows (its id, or its number).
        rows = _read_csv(input_, [ask_col, *([id_col] if id_col else [])])
        ask_cells = {row[id_col] if id_col else str(number): row[ask_col] for number, row in enumerate(rows)}
    if holdout_of:
        data = split_train_holdout(data)[1]
    classifier = production_classifier(settings)
    front = first_stage(settings)
    scorer: SuggestionScorer = classifier
    gate: FirstStageScorer | None = front
    if settings.explicit_ask_rule:
        scorer, gate = with_explicit_asks(classifier, front)
    model = embedder(settings)
    policy = moderation_policy(settings) if moderation else None
    gold = [bool(label) for label in data.labels]
    texts = [normalize_text(text) for text in data.texts]  # as ingest stores each comment
    # One pass, as production batches it: chunks would change the model's padding, and the figures.
    with progress_bar(f"judging {input_.name}", total=len(data.texts), unit="comments") as on_progress:
        judgements = judge_texts(
            texts,
            classifier=scorer,
            embedder=model,
            policy=policy,
            non_ask_rules=settings.non_ask_rules,
            ratings=data.ratings or None,
        )
        on_progress(len(data.texts), len(data.texts))
    decisions, reasons = decisions_and_reasons(judgements)
    result = evaluate_binary(decisions, gold)
    result["moderated"] = dict(sorted(reasons.items()))
    result["ratings"] = sum(rating is not None for rating in data.ratings)
    result["classifier"] = classifier.version
    if front is not None:
        # The same vectors (the embedder's exact-repeat cache): only the first stage differs.
        judgements = judge_texts(
            texts,
            classifier=scorer,
            embedder=model,
            policy=policy,
            first_stage=gate,
            non_ask_rules=settings.non_ask_rules,
            ratings=data.ratings or None,
        )
        staged, staged_reasons = decisions_and_reasons(judgements)
        result["with_first_stage"] = first_stage_report(
            without=result, staged=evaluate_binary(staged, gold), rejected=staged_reasons["first_stage"]
        )
        result["with_first_stage"]["first_stage"] = front.version
    if asks:
        # The asks of the production path (with the first stage when it is on), where ingest stores them.
        found = [[(ask.start, ask.end) for ask in judgement.asks] for judgement in judgements]
        cells = [ask_cells.get(row, "") for row in data.ids]
        result["asks"] = file_ask_overlap(data.texts, cells, texts, found)
    typer.echo(json.dumps(result))


def _judge_report(data_dir: Path, *, asks: bool, compare: dict[str, str]) -> None:
    from models.judge_eval import format_table
    from youasked.judge_report import baseline_and_judge, cached_encoder, judge_report, saved_judge

    contenders = baseline_and_judge()
    for name, folder in compare.items():
        if not (Path(folder) / "model.json").is_file():
            raise typer.BadParameter(f"no unit judge in {folder}", param_hint="--compare")
        contenders.extend(saved_judge(name, Path(folder)))
    report = judge_report(
        data_dir, contenders=contenders, encoder=cached_encoder(get_settings().cache_dir), asks=asks
    )
    typer.echo(format_table(report["comments"]))
    typer.echo(json.dumps(report))


def first_stage_report(*, without: dict[str, Any], staged: dict[str, Any], rejected: int) -> dict[str, Any]:
    """Figures of the path with the first stage beside ``without`` (the figures of the path without it).

    ``pass_rate``: the share of comments moderation lets through that the first stage passes on;
    ``embedded_share``: the share of all comments the embedding model still embeds;
    ``recall_loss``: recall without minus recall with.
    """
    reached = without["n"] - sum(without["moderated"].values())
    return {
        **{key: staged[key] for key in ("precision", "recall", "f1", "true_positives")},
        "rejected": rejected,
        "pass_rate": round((reached - rejected) / reached, 4) if reached else 0.0,
        "embedded_share": round((reached - rejected) / without["n"], 4) if without["n"] else 0.0,
        "recall_loss": round(without["recall"] - staged["recall"], 4),
    }


def _read_csv(path: Path, columns: list[str]) -> list[dict[str, str]]:
    """The rows of ``path`` with ``columns`` (:func:`models.csv_files.read_table`: any encoding,
    delimiter and column-name case); a file without them is a usage error that names them.
    """
    from models.csv_files import TableError, read_table

    try:
        return read_table(path, required=columns).rows
    except TableError as error:
        raise typer.BadParameter(str(error), param_hint="--input") from None


def _embed_with_progress(texts: list[str], label: str) -> object:
    import numpy as np

    from models.factories import embedder
    from youasked.progress import counting_bar

    model = embedder(get_settings())
    parts = []
    with counting_bar(f"embedding {label}", total=len(texts), unit="texts") as advance:
        for start in range(0, len(texts), 256):
            chunk = texts[start : start + 256]
            parts.append(model.embed(chunk))
            advance(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, model.dim), dtype=np.float32)


@eval_app.command("themes")
def eval_themes(
    input_: Path = typer.Option(..., "--input", exists=True, dir_okay=False, help="Labelled CSV."),
    text_col: str = typer.Option("text", help="Column holding the suggestion text."),
    label_col: str = typer.Option("label", help="Column holding the gold theme."),
    shuffle: int | None = typer.Option(
        None, "--shuffle", help="Stream the rows in the order of this seed instead of file order."
    ),
    split: str | None = typer.Option(
        None, help="Keep only rows whose split column holds this value (e.g. test for hwu64.csv)."
    ),
    split_col: str = typer.Option("split", help="The split column (with --split)."),
) -> None:
    """Stream the rows one at a time (file order, or shuffled by ``--shuffle SEED``) through the
    agents' theme path; print JSON (n, themes, v_measure, ari, outlier_rate, id_stability; pool
    rows scored as singletons, and as one cluster in ``*_pool_as_one``).
    """
    from models.themes.evaluate import evaluate_themes, shuffled
    from youasked.progress import progress_bar

    _setup_logging("WARNING")
    rows = _read_csv(input_, [text_col, label_col, *([split_col] if split is not None else [])])
    if split is not None:
        rows = [row for row in rows if row[split_col].strip() == split.strip()]
        if not rows:
            raise typer.BadParameter(f"no row has {split_col} == {split!r}", param_hint="--split")
    # A row without a text or a gold theme cannot be scored: left out, and counted.
    kept = [row for row in rows if row[text_col].strip() and row[label_col].strip()]
    left_out = len(rows) - len(kept)
    if not kept:
        raise typer.BadParameter(f"{input_.name}: no row has both a text and a label", param_hint="--input")
    rows = [kept[i] for i in shuffled(len(kept), shuffle)]
    texts = [row[text_col] for row in rows]
    labels = [row[label_col].strip() for row in rows]
    vectors = _embed_with_progress(texts, input_.name)
    with progress_bar(f"theming {input_.name}", total=len(texts), unit="rows") as on_progress:
        result = evaluate_themes(
            texts=texts,
            labels=labels,
            vectors=vectors,  # type: ignore[arg-type]
            on_progress=on_progress,
        )
    result.pop("config", None)
    result["shuffle_seed"] = shuffle
    result["rows_left_out"] = left_out
    typer.echo(json.dumps(result))


@eval_app.command("duplicates")
def eval_duplicates(
    input_: Path = typer.Option(
        ..., "--input", exists=True, dir_okay=False, help="CSV: text_a,text_b,label."
    ),
) -> None:
    """Score the configured duplicate thresholds on labelled pairs; print precision, recall, F1."""
    from models.datasets import pair_label
    from models.duplicates import evaluate_duplicates

    _setup_logging("WARNING")
    rows = _read_csv(input_, ["text_a", "text_b", "label"])
    # A pair without both texts, or whose label is not a yes or a no, cannot be scored: left out, and counted.
    with_texts = [row for row in rows if row["text_a"].strip() and row["text_b"].strip()]
    scored = [(row, pair_label(row["label"])) for row in with_texts]
    kept = [(row, label) for row, label in scored if label is not None]
    if not kept:
        raise typer.BadParameter(
            f"{input_.name}: no pair has two texts and a label 0 or 1", param_hint="--input"
        )
    pairs = [(row["text_a"], row["text_b"]) for row, _ in kept]
    labels = [label for _, label in kept]
    vectors_a = _embed_with_progress([a for a, _ in pairs], "text_a")
    vectors_b = _embed_with_progress([b for _, b in pairs], "text_b")
    result = evaluate_duplicates(
        pairs=pairs,
        labels=labels,
        embedder_vectors=(vectors_a, vectors_b),  # type: ignore[arg-type]
    )
    result["pairs_left_out"] = len(rows) - len(kept)
    typer.echo(json.dumps(result))


@model_app.command("export")
def model_export(
    out: Path = typer.Option(
        None, help="Export folder (default: the worker's: YOUASKED_EMBEDDING_ONNX_DIR or the cache)."
    ),
    weights: str = typer.Option(
        None, help="fp32 or int8 (default: YOUASKED_EMBEDDING_WEIGHTS; auto: int8 on a CPU with int8 dot "
        "products, else fp32)."
    ),
) -> None:
    """Write all-MiniLM-L6-v2 to ONNX from the installed weights, with its tokenizer and manifest.

    The worker and the CLI do this on first use; run it to export ahead (an image build) or afresh.
    """
    from models.factories import embedding_weights, onnx_model_dir
    from models.onnx_export import WEIGHT_FORMATS, export_model

    _setup_logging("WARNING")
    settings = get_settings()
    chosen = weights or embedding_weights(settings)
    if chosen not in WEIGHT_FORMATS:
        raise typer.BadParameter(f"{chosen!r}: one of {', '.join(WEIGHT_FORMATS)}", param_hint="--weights")
    target = out or onnx_model_dir(settings.model_copy(update={"embedding_weights": chosen}))
    manifest = export_model(target, weights=chosen)
    typer.echo(
        f"exported {manifest.model_name} {manifest.source_version} ({manifest.weights} weights, opset "
        f"{manifest.opset}, window {manifest.max_seq_length}) to {target.resolve()}; "
        f"sha256 {manifest.onnx_sha256}"
    )


@contracts_app.command("write")
def contracts_write(
    out: Path = typer.Option(
        DEFAULT_CONTRACTS_DIR, file_okay=False, show_default="docs/contracts", help="Folder of the docs."
    ),
) -> None:
    """Generate the JSON Schemas and the AsyncAPI document of the public topics into OUT."""
    from contracts.schemas import write_contract_docs

    written = write_contract_docs(out)
    typer.echo(f"wrote {len(written)} files to {out}")


@contracts_app.command("check")
def contracts_check(
    out: Path = typer.Option(
        DEFAULT_CONTRACTS_DIR, file_okay=False, show_default="docs/contracts", help="Folder of the docs."
    ),
) -> None:
    """Compare the docs in OUT with freshly generated ones; print the differences and exit 1 if any."""
    from contracts.schemas import check_contract_docs

    differences = check_contract_docs(out)
    if differences:
        for difference in differences:
            typer.echo(difference, err=True)
        typer.echo("run `youasked contracts write` to bring them up to date", err=True)
        raise typer.Exit(1)
    typer.echo(f"contract docs in {out} are up to date")


def main() -> None:
    """Entry point of the ``youasked`` console command."""
    app()


if __name__ == "__main__":
    main()
