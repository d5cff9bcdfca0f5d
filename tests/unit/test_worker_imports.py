"""The stream worker runs without PyTorch: with the default (ONNX) backend and an export in place,
building the worker's app imports neither torch, transformers nor sentence-transformers.

The check runs in a fresh interpreter (this test process may have imported PyTorch already).
The worker's faust app is built for real (``streams.app.create_app``: building connects to
nothing), with the embedder and judge that ``models.factories`` makes for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.settings import Settings
from models.factories import onnx_model_dir
from models.onnx_export import ensure_exported

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sentence_transformers")
#: The probe's last line: which of HEAVY the interpreter has imported, as JSON.
REPORT = f"""
import json, sys
print(json.dumps({{"loaded": sorted(m for m in {HEAVY!r} if m in sys.modules), **extra}}))
"""

BUILD_WORKER = """
import youasked.cli  # the worker's entry point
from contracts.settings import Settings
from streams.app import create_app

app = create_app(Settings())
extra = {"agents": sorted(app.agents)}
"""


def run_isolated(code: str, tmp_path: Path, **env: str) -> dict[str, list[str]]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "YOUASKED_CACHE_DIR": str(ROOT / ".cache"),
        "YOUASKED_STATE_DIR": str(tmp_path / "state"),
        "YOUASKED_KAFKA_BOOTSTRAP": "127.0.0.1:1",  # nothing may connect while the app is built
    }
    environment.pop("YOUASKED_EMBEDDING_BACKEND", None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def exported() -> Path:
    """The export the worker loads (made here once on a fresh clone: exporting needs PyTorch)."""
    return ensure_exported(onnx_model_dir(Settings(cache_dir=ROOT / ".cache")))


@pytest.mark.model
def test_worker_builds_without_pytorch(exported: Path, tmp_path: Path) -> None:
    result = run_isolated(BUILD_WORKER + REPORT, tmp_path)
    assert result["agents"], "the worker's app has no agents"
    assert result["loaded"] == []


@pytest.mark.model
def test_torch_backend_does_import_pytorch(exported: Path, tmp_path: Path) -> None:
    # The probe can fail: choosing the PyTorch backend loads PyTorch, so an empty list above means
    # the default path avoids it, not that the check is blind.
    code = """
from contracts.settings import Settings
from models.factories import embedder

embedder(Settings())
extra = {}
"""
    result = run_isolated(code + REPORT, tmp_path, YOUASKED_EMBEDDING_BACKEND="torch")
    assert "torch" in result["loaded"]
    assert "sentence_transformers" in result["loaded"]
