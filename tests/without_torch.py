"""Run Python code in a fresh interpreter as if PyTorch were not installed (the runtime install).

The probe's first lines put an import hook in front of every other: importing ``torch``,
``transformers`` or ``sentence_transformers`` (or anything under them) raises
``ModuleNotFoundError``, as it does in a virtual environment made from ``requirements-runtime.lock``.
The full test set has PyTorch installed, so this is how its tests see the runtime path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ABSENT = ("torch", "transformers", "sentence_transformers")

BLOCK = f"""
import importlib.abc, sys

class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {ABSENT!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
"""

#: The probe's last line: which of :data:`ABSENT` the interpreter has imported, and ``extra``.
REPORT = f"""
import json, sys
print(json.dumps({{"loaded": sorted(m for m in {ABSENT!r} if m in sys.modules), **extra}}))
"""


def run_probe(code: str, cwd: Path, *, block: bool = True, **env: str) -> dict[str, object]:
    """Run ``code`` (which sets a dict ``extra``) in a fresh interpreter; return its report.

    ``block`` makes PyTorch and its kin unimportable first. ``env`` adds environment variables
    (on top of this process's, without ``YOUASKED_EMBEDDING_BACKEND``). Fails the test, with the
    probe's stderr, when the probe exits non-zero.
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("YOUASKED_EMBEDDING_BACKEND", None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", (BLOCK if block else "") + code + REPORT],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
