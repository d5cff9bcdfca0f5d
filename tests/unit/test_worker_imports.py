"""The stream worker runs without PyTorch: with the default (ONNX) backend, building the worker's
app (and exporting the model first where no export is in place) imports neither torch,
transformers nor sentence-transformers, and works where they cannot be imported at all.

The checks run in a fresh interpreter (this test process may have imported PyTorch already) in
which those packages are made unimportable, as in the runtime install (``tests/without_torch.py``).
The worker's faust app is built for real (``streams.app.create_app``: building connects to
nothing), with the embedder and judge that ``models.factories`` makes for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.without_torch import ROOT, run_probe

BUILD_WORKER = """
import youasked.cli  # the worker's entry point
from contracts.settings import Settings
from streams.app import create_app

import sys

app = create_app(Settings())
extra = {"agents": sorted(app.agents), "onnx_imported": "onnx" in sys.modules}
"""


def worker_env(tmp_path: Path, cache: Path) -> dict[str, str]:
    return {
        "YOUASKED_CACHE_DIR": str(cache),
        "YOUASKED_STATE_DIR": str(tmp_path / "state"),
        "YOUASKED_KAFKA_BOOTSTRAP": "127.0.0.1:1",  # nothing may connect while the app is built
    }


@pytest.mark.model
def test_worker_builds_without_pytorch(tmp_path: Path) -> None:
    result = run_probe(BUILD_WORKER, tmp_path, **worker_env(tmp_path, ROOT / ".cache"))
    assert result["agents"], "the worker's app has no agents"
    assert result["loaded"] == []
    assert result["onnx_imported"] is False  # only writing an export needs onnx


@pytest.mark.model
def test_a_fresh_cache_is_exported_without_pytorch(tmp_path: Path) -> None:
    # An empty cache folder: the worker's start writes the export itself, with PyTorch unimportable.
    cache = tmp_path / "cache"
    result = run_probe(BUILD_WORKER, tmp_path, **worker_env(tmp_path, cache))
    assert result["loaded"] == [] and result["onnx_imported"] is True
    (export,) = [path for path in (cache / "onnx").iterdir() if path.is_dir()]
    assert (export / "model.onnx").is_file() and (export / "manifest.json").is_file()


@pytest.mark.model
def test_torch_backend_does_import_pytorch(tmp_path: Path) -> None:
    # The probe can fail: choosing the PyTorch backend loads PyTorch, so an empty list above means
    # the default path avoids it, not that the check is blind.
    pytest.importorskip("sentence_transformers", reason="the PyTorch backend needs the full package set")
    code = """
from contracts.settings import Settings
from models.factories import embedder

embedder(Settings())
extra = {}
"""
    env = {**worker_env(tmp_path, ROOT / ".cache"), "YOUASKED_EMBEDDING_BACKEND": "torch"}
    result = run_probe(code, tmp_path, block=False, **env)
    assert "torch" in result["loaded"]
    assert "sentence_transformers" in result["loaded"]


def test_torch_backend_without_pytorch_says_what_to_install(tmp_path: Path) -> None:
    code = """
from contracts.settings import Settings
from models.embedding import TorchBackendMissingError
from models.factories import embedder

try:
    embedder(Settings())
except TorchBackendMissingError as error:
    extra = {"error": str(error)}
else:
    extra = {"error": None}
"""
    env = {**worker_env(tmp_path, ROOT / ".cache"), "YOUASKED_EMBEDDING_BACKEND": "torch"}
    message = str(run_probe(code, tmp_path, **env)["error"])
    assert "make install-dev" in message and "YOUASKED_EMBEDDING_BACKEND=onnx" in message
