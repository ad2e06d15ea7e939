"""What a measurement on this machine depends on, as cache keys: the runtimes' versions and the CPU.

A speed or quality figure measured once is only reused while these are unchanged: a new runtime
may pick other kernels (or another precision), and another CPU other instructions.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence

from vdsr.cpu import cpu_name

__all__ = ["RUNTIMES", "machine_key", "runtime_versions"]

RUNTIMES = ("torch", "onnxruntime", "openvino")


def runtime_versions(names: Sequence[str] = RUNTIMES, missing: str = "-") -> dict[str, str]:
    """The installed version of each package in ``names`` (``missing`` where it is not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = missing
    return versions


def machine_key() -> str:
    """The CPU, its core count and the runtime versions, as one line."""
    versions = " | ".join(f"{name} {version}" for name, version in runtime_versions().items())
    return f"{cpu_name()} | {os.cpu_count()} cpus | {versions}"
