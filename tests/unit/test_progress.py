"""Long commands show progress on standard error and keep standard output machine-readable."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from models.suggestion_training import train_suggestion_classifier
from models.suggestions import TrainingConfig
from models.themes.evaluate import evaluate_themes
from tests.fakes import HashingEmbedder
from tests.unit.test_suggestions import _toy_data
from youasked.cli import app
from youasked.progress import counting_bar, progress_bar
from youasked.replay import count_records


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


def test_without_a_terminal_only_the_summary_is_written() -> None:
    quiet, out = console(terminal=False)
    with progress_bar("embedding sample.csv", total=300, unit="texts", console=quiet) as on_progress:
        for done in range(0, 301, 100):
            on_progress(done, 300)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("embedding sample.csv: 300 texts in ")


def test_on_a_terminal_the_bar_is_drawn_and_then_the_summary() -> None:
    loud, out = console(terminal=True)
    with counting_bar("replay x.jsonl", total=4, unit="records", console=loud, summary=False) as advance:
        for _ in range(4):
            advance()
    written = out.getvalue()
    assert "replay x.jsonl" in written and "4/4" in written  # the bar, drawn (and then cleared)
    assert ": 4 records in" not in written  # no summary asked for

    disabled, out = console(terminal=True)
    with counting_bar("replay", total=2, console=disabled, enabled=False) as advance:
        advance(2)
    assert "2/2" not in out.getvalue() and "replay: 2 items in" in out.getvalue()


def test_theme_evaluation_reports_every_row() -> None:
    texts = [f"please add offline maps number {i % 5}" for i in range(12)]
    heard: list[tuple[int, int]] = []
    evaluate_themes(
        texts=texts,
        labels=[i % 5 for i in range(12)],
        vectors=HashingEmbedder().embed(texts),
        on_progress=lambda done, total: heard.append((done, total)),
    )
    assert heard == [(i, 12) for i in range(1, 13)]


def test_training_reports_each_fold_and_the_final_fit() -> None:
    texts, labels = _toy_data()
    steps: list[None] = []
    train_suggestion_classifier(
        texts,
        labels,
        HashingEmbedder().embed(texts),
        config=TrainingConfig(folds=3),
        on_step=lambda: steps.append(None),
    )
    assert len(steps) == 4


def test_replay_knows_how_many_jsonl_records_wait(tmp_path: Path) -> None:
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"a": 1}\n\n{"a": 2}\n   \n{"a": 3}')
    assert count_records(lines) == 3
    table = tmp_path / "c.csv"
    table.write_text("text\nhello\n")
    assert count_records(table) is None


def test_evaluation_json_stays_alone_on_standard_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.factories

    monkeypatch.setattr(models.factories, "embedder", lambda *_a, **_k: HashingEmbedder())
    data = tmp_path / "pairs.csv"
    data.write_text(
        "text_a,text_b,label\n"
        "please add dark mode,add a dark mode please,1\n"
        "offline maps would be nice,the app crashes on start,0\n"
    )
    result = CliRunner().invoke(app, ["eval", "duplicates", "--input", str(data)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # nothing but the JSON
    assert figures["n"] == 2 and sum(figures["bands"].values()) == 2
    assert "embedding text_a: 2 texts in" in result.stderr
    assert "embedding text_b: 2 texts in" in result.stderr


def test_theme_evaluation_takes_a_split_and_a_shuffled_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.factories

    monkeypatch.setattr(models.factories, "embedder", lambda *_a, **_k: HashingEmbedder())
    data = tmp_path / "intents.csv"
    rows = [
        f"{'test' if i % 3 else 'train'},please add offline maps number {i % 4},intent{i % 4}"
        for i in range(30)
    ]
    data.write_text("split,text,label\n" + "\n".join(rows) + "\n")

    def run(*extra: str) -> dict[str, object]:
        result = CliRunner().invoke(app, ["eval", "themes", "--input", str(data), *extra])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    test_rows = run("--split", "test", "--shuffle", "3")
    assert test_rows["n"] == 20 and test_rows["shuffle_seed"] == 3
    assert {"v_measure_pool_as_one", "ari_pool_as_one"} <= set(test_rows)
    assert run()["n"] == 30
    refused = CliRunner().invoke(app, ["eval", "themes", "--input", str(data), "--split", "valid"])
    assert refused.exit_code != 0 and "no row has split == 'valid'" in refused.output


def test_a_shuffled_order_is_a_permutation_fixed_by_its_seed() -> None:
    from models.themes.evaluate import shuffled

    assert shuffled(5, None) == [0, 1, 2, 3, 4]
    order = shuffled(50, 7)
    assert sorted(order) == list(range(50)) and order != list(range(50)) and order == shuffled(50, 7)
