"""What a measurement on this machine depends on, as cache keys: the runtimes' versions and the CPU.

A speed or quality figure measured once is only reused while these are unchanged: a new runtime
may pick other kernels (or another precision), and another CPU other instructions.
"""

from __future__ import annotations

import importlib.metadata
import os

from vdsr.cpu import cpu_name

__all__ = ["RUNTIMES", "machine_key", "runtime_versions"]

RUNTIMES = ("torch", "onnxruntime", "openvino")


def runtime_versions() -> dict[str, str]:
    """The installed version of each CPU runtime (``-`` where it is not installed)."""
    versions = {}
    for runtime in RUNTIMES:
        try:
            versions[runtime] = importlib.metadata.version(runtime)
        except importlib.metadata.PackageNotFoundError:
            versions[runtime] = "-"
    return versions


def machine_key() -> str:
    """The CPU, its core count and the runtime versions, as one line."""
    versions = " | ".join(f"{name} {version}" for name, version in runtime_versions().items())
    return f"{cpu_name()} | {os.cpu_count()} cpus | {versions}"
