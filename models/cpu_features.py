"""What the CPU offers the encoder: whether it has int8 dot-product instructions.

The int8 export (``embedding_weights="int8"``) runs its layers' products in 8 bits. Where the CPU
multiplies and adds bytes in one instruction (x86's AVX-512 VNNI, AVX-VNNI or AMX; Arm's dot-product
or i8mm extensions; every Apple Silicon core), that is 1.4-1.5x the fp32 export's rate; where it
does not (x86 with AVX2 alone), the same runs are 0.7x of fp32's (``docs/benchmarks.md``, "int8
weights follow the CPU"). ``embedding_weights="auto"`` (the default) takes int8 on the first kind
and fp32 on the second. Pure Python: reads ``/proc/cpuinfo`` on Linux, the machine's name elsewhere.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx512vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm"})
"""CPU flags (``/proc/cpuinfo``'s ``flags`` on x86, ``Features`` on Arm) of int8 dot products."""
CPUINFO = Path("/proc/cpuinfo")


def flags_from_cpuinfo(lines: Iterable[str]) -> frozenset[str]:
    """The flags of the first processor listed in ``/proc/cpuinfo``'s ``lines``."""
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() in {"flags", "features"}:
            return frozenset(value.split())
    return frozenset()


def has_int8_dot_products(
    flags: frozenset[str] | None = None, *, system: str = "", machine: str = ""
) -> bool:
    """Whether the CPU multiplies and adds int8 values in one instruction (see the module).

    ``flags`` default to this machine's; ``system`` and ``machine`` to :mod:`platform`'s. Where no
    flags can be read, only Apple Silicon counts as having them.
    """
    if flags is None:
        flags = _this_machines_flags()
    if flags & INT8_DOT_FLAGS:
        return True
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    return not flags and system == "Darwin" and machine in {"arm64", "aarch64"}


def weights_for_this_cpu(choice: str) -> str:
    """``choice`` ("fp32", "int8" or "auto") as the weights to load: "auto" is int8 where the CPU
    has int8 dot products, fp32 elsewhere.
    """
    if choice != "auto":
        return choice
    return "int8" if has_int8_dot_products() else "fp32"


@lru_cache(maxsize=1)
def _this_machines_flags() -> frozenset[str]:
    try:
        with CPUINFO.open(encoding="utf-8", errors="replace") as handle:
            return flags_from_cpuinfo(handle)
    except OSError:
        return frozenset()
