"""The training-source policy: a shipped judge learns only from data whose licence allows it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import models.unit_judge as unit_judge
from models.factories import DEFAULT_UNIT_FIRST_STAGE_DIR, DEFAULT_UNIT_JUDGE_DIR
from models.judge_eval import TIZARD_FILE, tizard_split
from models.suggestions import MODEL_FILE
from models.training_sources import (
    PERMISSIVE_SOURCES,
    SOURCES,
    TrainingSourceError,
    check_sources,
    sources_manifest,
)
from models.unit_judge import BANKING_FILE, OPTIONS, SHIPPED_OPTION, train_unit_judge, training_units
from models.written import WrittenPost
from tests.fakes import HashingEmbedder
from youasked.cli import app

runner = CliRunner()


def test_the_default_is_the_permissive_sources() -> None:
    assert set(PERMISSIVE_SOURCES) == {"tizard", "written", "banking77"}
    assert check_sources(PERMISSIVE_SOURCES) == ("tizard", "written", "banking77")
    assert all(SOURCES[name].shippable for name in PERMISSIVE_SOURCES)


@pytest.mark.parametrize("name", ["clap", "maalej", "reviews"])
def test_evaluation_only_sources_are_refused_without_the_research_flag(name: str) -> None:
    with pytest.raises(TrainingSourceError, match=rf"evaluation-only data: {name} .*not stated"):
        check_sources(["written", name])
    assert name in check_sources(["written", name], research=True)


def test_the_tweets_are_never_trained_on_even_for_research() -> None:
    with pytest.raises(TrainingSourceError, match=r"never trained on: tweets .*CC BY-NC-SA"):
        check_sources(["tweets"], research=True)


@pytest.mark.parametrize(("names", "message"), [([], "no training source"), (["forum"], "unknown")])
def test_an_empty_or_unknown_source_list_is_refused(names: list[str], message: str) -> None:
    with pytest.raises(TrainingSourceError, match=message):
        check_sources(names)


def test_the_manifest_names_each_source_with_its_licence() -> None:
    shipped = sources_manifest(["tizard", "written"], research=False)
    assert [s["name"] for s in shipped["sources"]] == ["tizard", "written"]
    assert shipped["sources"][0]["licence"] == "CC BY"
    assert shipped["shippable"] is True
    mixed = sources_manifest(["clap", "written"], research=True)
    assert mixed["shippable"] is False and mixed["research"] is True


def _shared_data(tmp_path: Path) -> Path:
    """A shared data folder holding only small Tizard and BANKING77 files (no CLAP, Maalej or stream
    files: reading one would fail).
    """
    path = tmp_path / "data" / TIZARD_FILE
    path.parent.mkdir(parents=True)
    rows = []
    for i in range(60):
        request = i % 3 == 0
        text = f"Please add a way to rotate video {i}." if request else f"The player crashes on file {i}."
        rows.append(
            {"id": str(i), "text": text, "label_norm": "feature request" if request else "apparent bug"}
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "label_norm"])
        writer.writeheader()
        writer.writerows(rows)
    assert any(tizard_split(str(TIZARD_FILE), r["id"]) == "train" for r in rows)
    banking = tmp_path / "data" / BANKING_FILE
    banking.parent.mkdir(parents=True)
    queries = [f"My card {i} has not arrived yet, what do I do?" for i in range(20)]
    banking.write_text("text,label\n" + "".join(f"{q},card_arrival\n" for q in queries), encoding="utf-8")
    return tmp_path / "data"


def _written(monkeypatch: pytest.MonkeyPatch) -> None:
    posts = []
    for i in range(30):
        ask = f"pls add dark mode to screen {i}"
        text = f"@brand {ask}" if i % 2 else f"@brand the app crashes on screen {i}, my account is locked"
        spans = ((7, 7 + len(ask)),) if i % 2 else ()
        posts.append(
            WrittenPost(
                f"ws-{i:04d}", "x", text, "ask" if spans else "not_ask", "ask" if spans else "bug", spans, "P"
            )
        )
    monkeypatch.setattr(unit_judge, "read_written", lambda: tuple(posts))


def test_training_units_read_only_the_permissive_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _written(monkeypatch)
    units = training_units(_shared_data(tmp_path), OPTIONS[SHIPPED_OPTION])
    assert set(units.sources) == {"tizard-train", "written", "banking77-train"}
    banking = [
        label
        for label, source in zip(units.labels, units.sources, strict=True)
        if source == "banking77-train"
    ]
    assert len(banking) == 20 and not any(banking)


def test_training_units_refuse_clap_before_reading_anything(tmp_path: Path) -> None:
    with pytest.raises(TrainingSourceError, match="clap"):
        training_units(tmp_path / "missing", OPTIONS[SHIPPED_OPTION], sources=("written", "clap"))


def test_a_trained_judge_and_its_first_stage_record_their_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _written(monkeypatch)
    summary = train_unit_judge(
        _shared_data(tmp_path), tmp_path / "judge", HashingEmbedder(), first_stage_dir=tmp_path / "stage"
    )
    for folder in ("judge", "stage"):
        manifest = json.loads((tmp_path / folder / MODEL_FILE).read_text(encoding="utf-8"))["training_data"]
        assert [s["name"] for s in manifest["sources"]] == ["tizard", "written", "banking77"]
        assert manifest["shippable"] is True and manifest["research"] is False
    assert summary["shippable"] is True


@pytest.mark.parametrize("folder", [DEFAULT_UNIT_JUDGE_DIR, DEFAULT_UNIT_FIRST_STAGE_DIR])
def test_the_shipped_judge_learnt_only_from_permissive_sources(folder: Path) -> None:
    manifest = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))["training_data"]
    assert manifest["shippable"] is True and manifest["research"] is False
    assert {s["name"] for s in manifest["sources"]} <= set(PERMISSIVE_SOURCES)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--source", "clap"], "evaluation-only data: clap"),
        (["--stage", "classifier"], "evaluation-only data: clap"),
        (["--stage", "all"], "evaluation-only data: clap"),
        (["--source", "maalej", "--research"], "--unit-judge-out"),
        (["--source", "tweets", "--research"], "never trained on: tweets"),
    ],
)
def test_train_refuses_evaluation_only_sources_with_a_clear_error(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["train", "suggestions", *arguments], terminal_width=400)
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())


def test_eval_refuses_a_comparison_folder_without_a_judge(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["eval", "suggestions", "--compare", f"before={tmp_path}"], terminal_width=400
    )
    assert result.exit_code == 2
    assert "no unit judge in" in " ".join(result.output.replace("│", " ").split())
