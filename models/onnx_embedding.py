"""all-MiniLM-L6-v2 on ONNX Runtime: the same vectors as sentence-transformers, without PyTorch.

Reads an export written by :mod:`models.onnx_export` and reproduces sentence-transformers'
``encode(..., normalize_embeddings=True)``: the fast tokenizer truncating at the model's window
(256 word pieces), then the exported graph (the transformer, mean pooling of the token vectors over
the attention mask, L2 normalization); an export of format 1 (token vectors out) is pooled here.
With an fp32 export, cosine to the PyTorch vectors is ≥ 0.9999 on the shared evaluation files
(``benchmarks/encode_compare.py``), so classifiers and thresholds fitted on those stay valid; an
int8 export (the default, ``embedding_weights``) moves them by a cosine of 0.99-1.0 and keeps every
evaluation within 0.01 of fp32 (``docs/benchmarks.md``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
from tokenizers import Tokenizer

from models.embedding import EMBEDDING_DIM, FloatMatrix, l2_normalize
from models.onnx_export import ONNX_FILE, TOKENIZER_FILE, ExportManifest, verify_export

IntMatrix = npt.NDArray[np.int64]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def mean_pool(token_vectors: npt.NDArray[np.float32], attention_mask: IntMatrix) -> FloatMatrix:
    """``(n, seq, d)`` token vectors and an ``(n, seq)`` 0/1 mask -> ``(n, d)`` L2-normalized means.

    As sentence-transformers' ``Pooling(mean)`` then ``Normalize``: padded positions are left out
    and the count is clamped at 1e-9 so that an all-padding row stays zero instead of NaN.
    """
    mask = attention_mask[:, :, None].astype(np.float32)
    summed = (token_vectors * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    return l2_normalize(summed / counts)


class OnnxEmbedder:
    """An :class:`~models.embedding.Embedder` running an ONNX export of all-MiniLM-L6-v2.

    ``model_dir`` is an export folder (checked against its manifest's sha256 at load, unless the
    caller passes the ``manifest`` it has just verified);
    ``batch_size`` texts run at once, grouped by token length so that a batch pads little; with
    ``batch_tokens`` a run holds instead as many texts as fit that many padded word pieces (rows
    times the longest), at least one: long texts run a few at a time, short ones many;
    ``threads`` is ONNX Runtime's intra-op thread count (``None``: one per available core);
    ``spinning`` lets those threads spin while they wait for work: a little faster on idle cores,
    but the spinning takes the cores from everything else in a process (the event loop, the broker
    beside it), so it is off unless asked for.
    Batching changes results by float rounding only (about 1e-7). Safe to share between threads:
    one batch runs at a time, on all the session's threads.
    """

    dim = EMBEDDING_DIM

    def __init__(
        self,
        model_dir: Path,
        *,
        batch_size: int = 32,
        batch_tokens: int | None = None,
        threads: int | None = None,
        spinning: bool = False,
        manifest: ExportManifest | None = None,
    ) -> None:
        self.manifest: ExportManifest = manifest or verify_export(model_dir)
        if self.manifest.dim != self.dim:
            raise ValueError(f"{model_dir} holds {self.manifest.dim}-d vectors, expected {self.dim}")
        self._batch_size = batch_size
        self._batch_tokens = batch_tokens
        self.threads = threads or available_cores()
        self._tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=self.manifest.max_seq_length)
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self._session = onnxruntime.InferenceSession(
            str(model_dir / ONNX_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    @property
    def max_seq_length(self) -> int:
        """Word pieces per text, ``[CLS]`` and ``[SEP]`` included; the rest of a text is cut off."""
        return self.manifest.max_seq_length

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        # Longest first, as sentence-transformers does: a batch holds texts of near-equal length.
        order = np.argsort(-lengths, kind="stable")
        with self._lock:
            for rows in self._runs(order, lengths):
                width = int(lengths[rows].max())
                ids = np.zeros((len(rows), width), dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for slot, row in enumerate(rows):
                    ids[slot, : lengths[row]] = encodings[row].ids
                    mask[slot, : lengths[row]] = 1
                (vectors,) = self._session.run(
                    [self.manifest.output_name],
                    {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
                )
                vectors = np.asarray(vectors, dtype=np.float32)
                # Format 1 exports give one vector per token: pool them as the newer graphs do.
                out[rows] = mean_pool(vectors, mask) if vectors.ndim == 3 else vectors
        return out

    def _runs(self, order: npt.NDArray[np.intp], lengths: npt.NDArray[np.int_]) -> list[npt.NDArray[np.intp]]:
        """``order`` (longest first) cut into the row groups that run together."""
        if self._batch_tokens is None:
            size = self._batch_size
            return [order[start : start + size] for start in range(0, len(order), size)]
        runs, start = [], 0
        while start < len(order):
            count = max(1, self._batch_tokens // int(lengths[order[start]]))  # the first is the longest
            runs.append(order[start : start + count])
            start += count
        return runs
