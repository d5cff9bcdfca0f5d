"""The ``helm`` binary for the chart's tests, built from its Go module once and kept in the cache.

``go install helm.sh/helm/v3/cmd/helm@<HELM_VERSION>`` fetches the sources through the Go module
proxy (nothing from outside a package registry) and puts the binary in
``.cache/tools/helm-<version>/`` (git-ignored, as the Kafka jars are): the first run takes one to
a few minutes, later ones find it there. ``YOUASKED_TEST_HELM`` names an existing binary instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from tests.kafka_support import ROOT

HELM_VERSION = "v3.22.0"
TOOLS = ROOT / ".cache" / "tools"


class HelmUnavailableError(RuntimeError):
    """helm could not be built (no Go on PATH, or the build failed)."""


def ensure_helm(tools: Path = TOOLS, version: str = HELM_VERSION) -> Path:
    """The path of a working helm ``version``: the cached build, else a new one (under a lock, so
    that two test runs build it once).
    """
    existing = os.environ.get("YOUASKED_TEST_HELM")
    if existing:
        return Path(existing)
    target = tools / f"helm-{version}" / "helm"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None:
        raise HelmUnavailableError("Go is needed once to build helm (go install helm.sh/helm/v3/cmd/helm)")
    tools.mkdir(parents=True, exist_ok=True)
    with (tools / f".helm-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        building = target.parent.with_name(target.parent.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        env = {**os.environ, "GOBIN": str(building), "CGO_ENABLED": "0"}
        result = subprocess.run(
            [go, "install", f"helm.sh/helm/v3/cmd/helm@{version}"],
            env=env, capture_output=True, text=True, timeout=3600, check=False,
        )
        if result.returncode != 0 or not (building / "helm").exists():
            raise HelmUnavailableError(
                f"go install helm failed ({result.returncode}): {result.stderr[-3000:]}"
            )
        shutil.rmtree(target.parent, ignore_errors=True)
        building.rename(target.parent)  # whole or not at all
    return target


def helm(*args: str, binary: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run helm with ``args`` (no repositories or plugins of the user's involved)."""
    home = TOOLS / "helm-home"
    env = {
        **os.environ,
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return subprocess.run([str(binary or ensure_helm()), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
