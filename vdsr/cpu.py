"""What the CPU can do fast: bf16 pays only with native support (AMX or AVX512-BF16)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["cpu_has_native_bf16"]


def cpu_has_native_bf16() -> bool | None:
    """True if the CPU flags list AMX-BF16 or AVX512_BF16; None when /proc/cpuinfo is unreadable.

    Without them bf16 is emulated: on an AVX2-only EPYC a VDSR-20 training step
    took 65 s in bf16 against 7 s in fp32.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    flags = {f for line in text.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    return bool(flags & {"amx_bf16", "avx512_bf16"})
