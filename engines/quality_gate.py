"""The quality gate: a (backend, precision) pair may run only if it keeps PyTorch fp32's Set5 PSNR.

Lower precision is where a CPU's speed is (bf16 about 2x fp32, int8 about 4x), but it costs PSNR,
and how much depends on the runtime and the CPU: OpenVINO's own bf16 on a CPU with native bf16 lost
0.066 dB at x4. So each pair is scored on Set5 at x2, x3 and x4 through the same pipeline the user
runs (:func:`engines.load_upscaler` and :func:`vdsr.evaluate.evaluate`) and compared with PyTorch
fp32 through that pipeline; it is admitted if it loses at most :data:`GATE_DB` at every scale.
Scores are measured once per model content, pair, runtime versions, CPU and evaluation set, and
kept in ``$VDSR_CACHE_DIR/quality-gate.json``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines.factory import load_upscaler
from engines.fingerprint import runtime_versions
from engines.json_cache import JsonCache
from engines.torch_ import TorchEngine, TorchOptions
from vdsr.cache import cache_dir, file_sha256
from vdsr.cpu import cpu_name
from vdsr.engine import Engine
from vdsr.evaluate import evaluate

__all__ = [
    "GATE_DB",
    "GATE_SCALES",
    "GATE_SET",
    "REFERENCE_LABEL",
    "GateResult",
    "QualityGate",
    "cache_file",
    "reference_engine",
    "set5_psnr",
]

log = logging.getLogger(__name__)

GATE_DB = 0.05  # the project's quality floor: no engine may lose more than this on Set5 at any scale
GATE_SCALES = (2, 3, 4)
GATE_SET = "Set5"
REFERENCE_LABEL = "torch:fp32"

Images = Sequence[tuple[str, np.ndarray]]


@dataclass(frozen=True)
class GateResult:
    """One pair's Set5 PSNR beside PyTorch fp32's, per scale."""

    reference: dict[int, float]
    candidate: dict[int, float]
    tolerance: float = GATE_DB

    @property
    def losses(self) -> dict[int, float]:
        """dB lost against PyTorch fp32 per scale (negative: a gain)."""
        return {s: self.reference[s] - self.candidate[s] for s in self.reference}

    @property
    def admitted(self) -> bool:
        return all(loss <= self.tolerance for loss in self.losses.values())

    def summary(self) -> str:
        """``loses x2 0.0031, x3 0.0120, x4 0.0210 dB (limit 0.05): admitted``."""
        losses = ", ".join(f"x{s} {loss:.4f}" for s, loss in self.losses.items())
        verdict = "admitted" if self.admitted else "refused"
        return f"loses {losses} dB (limit {self.tolerance:g}): {verdict}"


def cache_file() -> Path:
    """Where the scores are kept."""
    return cache_dir() / "quality-gate.json"


def reference_engine(checkpoint: Path) -> TorchEngine:
    """PyTorch fp32 on the CPU: what every gate compares with."""
    return TorchEngine(checkpoint, TorchOptions(device="cpu", precision="fp32"))


def set5_psnr(
    checkpoint: Path, engine: Engine, images: Images, scales: Sequence[int] = GATE_SCALES
) -> dict[int, float]:
    """Mean PSNR per scale of ``engine`` running ``checkpoint``'s network in the full pipeline."""
    upscaler = load_upscaler(checkpoint, engine)
    return {int(s.scale): s.psnr for s in evaluate({"gate": upscaler}, images, scales, with_ssim=False)}


def _images_key(images: Images) -> str:
    digest = hashlib.sha256()
    for name, image in images:
        digest.update(name.encode())
        digest.update(str(image.shape).encode())
        digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:12]


class QualityGate:
    """The gate for one checkpoint: PyTorch fp32 scored once, each pair scored once, all cached on disk."""

    def __init__(
        self, checkpoint: Path, images: Images, *, tolerance: float = GATE_DB, scales: Sequence[int] = GATE_SCALES
    ) -> None:
        self.checkpoint = checkpoint
        self.images = images
        self.tolerance = tolerance
        self.scales = tuple(scales)
        versions = ", ".join(f"{name} {version}" for name, version in runtime_versions().items())
        scored_on = f"{GATE_SET} {_images_key(images)} x{','.join(map(str, self.scales))}"
        self.rule = f"{scored_on} loss <= {tolerance:g} dB"  # what admits a pair, for the pick's cache key
        self._key = f"model {file_sha256(checkpoint)[:16]} | {cpu_name()} | {versions} | {scored_on}"
        self._cache = JsonCache(cache_file())
        self._reference: dict[int, float] | None = None

    def reference(self) -> dict[int, float]:
        """PyTorch fp32's Set5 PSNR per scale."""
        if self._reference is None:
            scores = self._cached(REFERENCE_LABEL)
            if scores is None:
                engine = reference_engine(self.checkpoint)
                scores = self._measure(REFERENCE_LABEL, engine)
                engine.close()
            self._reference = scores
        return self._reference

    def check(self, label: str, engine: Engine) -> GateResult:
        """Score ``engine`` (the pair named ``label``, e.g. ``openvino:int8``) against PyTorch fp32."""
        reference = self.reference()
        candidate = reference if label == REFERENCE_LABEL else self._cached(label)
        if candidate is None:
            candidate = self._measure(label, engine)
        result = GateResult(reference, candidate, self.tolerance)
        count = len(self.images)
        log.info("quality gate: %s %s against torch fp32 on %d %s images", label, result.summary(), count, GATE_SET)
        return result

    def _cached(self, label: str) -> dict[int, float] | None:
        entry = self._cache.get(f"{self._key} | {label}")
        if entry is None:
            return None
        return {int(s): float(p) for s, p in entry["psnr"].items()}

    def _measure(self, label: str, engine: Engine) -> dict[int, float]:
        start = time.perf_counter()
        psnr = {s: round(p, 5) for s, p in set5_psnr(self.checkpoint, engine, self.images, self.scales).items()}
        seconds = time.perf_counter() - start
        log.info("quality gate: scored %s on %d %s images in %.1f s", label, len(self.images), GATE_SET, seconds)
        self._cache.put(
            f"{self._key} | {label}",
            {
                "psnr": {str(s): p for s, p in psnr.items()},
                "seconds": round(seconds, 1),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
        )
        return psnr
