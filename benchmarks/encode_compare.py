"""Raw encode rate and agreement: sentence-transformers on PyTorch vs the ONNX export on ONNX Runtime.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/encode_compare.py                # every shared file
    nice -n 10 .venv/bin/python benchmarks/encode_compare.py --limit 1000   # a quick look

One run embeds the same texts (the text columns of ``../shared/data/suggestions/*.csv`` and
``../shared/data/themes/banking77_test.csv``) with each encoder, batch 32, after a warm-up, and
prints texts/s, the ratio to PyTorch and the cosine of each text's vector to PyTorch's (mean and
minimum, overall and per file). ``--also DIR`` measures another export folder beside the fp32
one (an older export format) and prints its agreement with it. The ONNX models are the fp32 and
the int8 exports (``YOUASKED_EMBEDDING_WEIGHTS``; each exported into the cache first if missing);
ONNX Runtime's dynamic int8 quantization (``quantize_dynamic``, per-channel weights, activations
scaled per run) of the fp32 model is measured beside them (``--no-int8`` skips both int8 models).
Compare ratios, not absolute rates, on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contracts.settings import Settings
from models.embedding import FloatMatrix
from models.factories import onnx_model_dir
from models.onnx_embedding import OnnxEmbedder
from models.onnx_export import MANIFEST_FILE, ONNX_FILE, default_export_dir, ensure_exported, file_sha256

DATA = ROOT.parent / "shared" / "data"
FILES = [*sorted((DATA / "suggestions").glob("*.csv")), DATA / "themes" / "banking77_test.csv"]
BATCH = 32
CHUNK = 512


def load_texts(limit: int | None) -> tuple[list[str], list[str]]:
    """Every non-empty ``text`` cell of :data:`FILES` (the first ``limit`` of each file), with its file."""
    texts: list[str] = []
    sources: list[str] = []
    for path in FILES:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            column = [row["text"] for row in csv.DictReader(handle) if (row.get("text") or "").strip()]
        column = column[:limit] if limit else column
        texts += column
        sources += [path.name] * len(column)
    return texts, sources


def interleaved(
    encoders: dict[str, Callable[[Sequence[str]], FloatMatrix]], texts: list[str]
) -> tuple[dict[str, FloatMatrix], dict[str, float], dict[str, float]]:
    """Each encoder's vectors, rate (texts/s over all chunks) and median per-chunk speed-up to the first.

    The encoders take turns on chunks of :data:`CHUNK` texts, so a burst of load from other
    processes on the shared machine slows all of them rather than whichever ran at that moment.
    """
    for embed in encoders.values():
        embed(texts[: BATCH * 2])  # warm-up: first-call allocations and lazy initialization
    parts: dict[str, list[FloatMatrix]] = {name: [] for name in encoders}
    seconds: dict[str, list[float]] = {name: [] for name in encoders}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        for name, embed in encoders.items():
            began = time.perf_counter()
            parts[name].append(embed(chunk))
            seconds[name].append(time.perf_counter() - began)
    first = next(iter(encoders))
    vectors = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    rates = {name: len(texts) / sum(spent) for name, spent in seconds.items()}
    speedups = {
        name: float(np.median(np.array(seconds[first]) / np.array(spent))) for name, spent in seconds.items()
    }
    return vectors, rates, speedups


def quantized_copy(source: Path, into: Path) -> Path:
    """An export folder whose model is ``source``'s with int8 dynamic per-channel weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    shutil.copytree(source, into, dirs_exist_ok=True)
    quantize_dynamic(source / ONNX_FILE, into / ONNX_FILE, per_channel=True, weight_type=QuantType.QInt8)
    manifest = json.loads((source / MANIFEST_FILE).read_text())
    manifest["onnx_sha256"] = file_sha256(into / ONNX_FILE)
    (into / MANIFEST_FILE).write_text(json.dumps(manifest))
    return into


def cosine_rows(label: str, vectors: FloatMatrix, reference: FloatMatrix, sources: list[str]) -> None:
    cosine = (vectors * reference).sum(axis=1)
    print(
        f"  {label}: cosine to PyTorch mean {cosine.mean():.7f} min {cosine.min():.7f}"
        f"  (texts below 0.9999: {int((cosine < 0.9999).sum())})"
    )
    names = np.array(sources)
    for name in dict.fromkeys(sources):
        part = cosine[names == name]
        print(f"    {name:32s} n={part.size:5d} mean {part.mean():.7f} min {part.min():.7f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="At most this many texts per file.")
    parser.add_argument("--no-int8", action="store_true", help="Skip the int8 models.")
    parser.add_argument(
        "--also", type=Path, action="append", default=[],
        help="Another export folder to measure beside the shipped one (e.g. an older export format).",
    )
    args = parser.parse_args()

    texts, sources = load_texts(args.limit)
    print(f"texts: {len(texts)} from {', '.join(p.name for p in FILES)}; batch {BATCH}")
    settings = Settings(embedding_weights="fp32")
    export = ensure_exported(onnx_model_dir(settings))

    import torch

    from models.embedding import MiniLMEmbedder

    onnx = OnnxEmbedder(export, batch_size=BATCH)
    encoders = {
        "sentence-transformers torch fp32": MiniLMEmbedder(batch_size=BATCH).embed,
        "onnxruntime fp32": onnx.embed,
    }
    for folder in args.also:
        other = OnnxEmbedder(folder, batch_size=BATCH)
        encoders[f"onnxruntime fp32 format {other.manifest.export_format}"] = other.embed
    with tempfile.TemporaryDirectory() as scratch:
        if not args.no_int8:
            blocks = ensure_exported(default_export_dir(settings.cache_dir, "int8"), weights="int8")
            encoders["onnxruntime int8 export (blocks)"] = OnnxEmbedder(blocks, batch_size=BATCH).embed
            int8 = OnnxEmbedder(quantized_copy(export, Path(scratch) / "int8"), batch_size=BATCH)
            encoders["onnxruntime int8 dynamic per-channel"] = int8.embed
        vectors, rates, speedups = interleaved(encoders, texts)
    print(
        f"threads: torch {torch.get_num_threads()}, onnxruntime {onnx.threads}; "
        f"encoders take turns on chunks of {CHUNK} texts"
    )
    print(f"{'encoder':38s} {'texts/s':>8s} {'ratio':>6s} {'median chunk ratio':>19s}")
    baseline = next(iter(rates.values()))
    for name, rate in rates.items():
        print(f"{name:38s} {rate:8.1f} {rate / baseline:6.2f} {speedups[name]:19.2f}")
    torch_vectors = vectors.pop("sentence-transformers torch fp32")
    rows = list(vectors.items())
    for label, vectors in rows:
        cosine_rows(label, vectors, torch_vectors, sources)
    shipped = vectors_of(rows, "onnxruntime fp32")
    for label, vectors in rows:
        if label != "onnxruntime fp32":
            cosine = (vectors * shipped).sum(axis=1)
            print(f"  fp32 vs {label}: cosine mean {cosine.mean():.7f} min {cosine.min():.7f},"
                  f" largest difference {float(np.abs(vectors - shipped).max()):.2e}")


def vectors_of(rows: list[tuple[str, FloatMatrix]], label: str) -> FloatMatrix:
    return next(vectors for name, vectors in rows if name == label)


if __name__ == "__main__":
    main()
