"""The encoder's weights follow the CPU: int8 where it has int8 dot products, fp32 elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.settings import Settings
from models import cpu_features
from models.cpu_features import flags_from_cpuinfo, has_int8_dot_products, weights_for_this_cpu
from models.factories import embedding_weights, onnx_model_dir

XEON = "processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu avx2 avx512_vnni amx_int8\n\nprocessor\t: 1\n"
EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse avx avx2 fma\n"
GRAVITON = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes crc32 asimddp i8mm\n"


def test_flags_are_read_from_the_first_processor() -> None:
    assert "avx512_vnni" in flags_from_cpuinfo(XEON.splitlines())
    assert flags_from_cpuinfo(EPYC.splitlines()) == frozenset({"fpu", "sse", "avx", "avx2", "fma"})
    assert "asimddp" in flags_from_cpuinfo(GRAVITON.splitlines())
    assert flags_from_cpuinfo([]) == frozenset()


def test_int8_dot_products_by_flags_and_by_machine() -> None:
    assert has_int8_dot_products(flags_from_cpuinfo(XEON.splitlines()))
    assert has_int8_dot_products(flags_from_cpuinfo(GRAVITON.splitlines()))
    assert has_int8_dot_products(frozenset({"avx2", "avx_vnni"}))
    assert not has_int8_dot_products(flags_from_cpuinfo(EPYC.splitlines()), system="Linux", machine="x86_64")
    # no flags to read: Apple Silicon has them, anything else is not assumed to
    assert has_int8_dot_products(frozenset(), system="Darwin", machine="arm64")
    assert not has_int8_dot_products(frozenset(), system="Darwin", machine="x86_64")
    assert not has_int8_dot_products(frozenset(), system="Windows", machine="AMD64")


@pytest.mark.parametrize(("vnni", "expected"), [(True, "int8"), (False, "fp32")])
def test_auto_weights_pick_the_export_by_the_cpu(
    vnni: bool, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cpu_features, "has_int8_dot_products", lambda: vnni)
    assert weights_for_this_cpu("auto") == expected
    assert weights_for_this_cpu("fp32") == "fp32" and weights_for_this_cpu("int8") == "int8"
    settings = Settings(cache_dir=tmp_path)
    assert settings.embedding_weights == "auto" and embedding_weights(settings) == expected
    assert onnx_model_dir(settings).name.endswith("-int8") == (expected == "int8")
    # a setting or a configured folder wins over the CPU
    assert embedding_weights(Settings(cache_dir=tmp_path, embedding_weights="int8")) == "int8"
    assert onnx_model_dir(Settings(embedding_onnx_dir=tmp_path / "mine")) == tmp_path / "mine"
