"""``auto`` on a CPU: (backend, precision) pairs, the fastest one inside the quality gate, cached per machine."""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import engines
import engines._fastest as fastest
import engines.fingerprint as fingerprint
from engines import PREFERENCE, create_engine
from engines.candidates import REFERENCE, Candidate, cpu_candidates
from engines.quality_gate import GATE_DB, REFERENCE_LABEL, QualityGate
from engines.shipped import set5_images
from tests.conftest import make_model
from tests.engines.test_quality_gate import CheckerEngine
from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig
from vdsr.engine import EngineUnavailableError, describe_engine


class FakeEngine:
    name = "fake"

    def __init__(self, precision: str) -> None:
        self.precision = precision
        self.closed = False

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return y

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class FakeCandidate:
    """A pair whose speed and verdict the test sets, so the choice is checked without timing anything."""

    backend: str
    precision: str
    seconds: float = 1.0
    admitted: bool = True
    builds: bool = True

    @property
    def label(self) -> str:
        return f"{self.backend}:{self.precision}"

    def build(self, model: Path) -> FakeEngine:
        if not self.builds:
            raise EngineUnavailableError("not installed")
        engine = FakeEngine(self.precision)
        engine.candidate = self  # type: ignore[attr-defined]
        BUILT.append(engine)
        return engine


BUILT: list[FakeEngine] = []


def pick(candidates: list[FakeCandidate], *, model_key: str = "m", reasons: list[str] | None = None):
    asked: list[str] = []

    def admit(candidate: FakeCandidate, engine: FakeEngine) -> bool:
        asked.append(candidate.label)
        return candidate.admitted

    picked = fastest.fastest_admitted(
        candidates,  # type: ignore[arg-type]
        Path("model"),
        model_key=model_key,
        gate="test gate",
        admit=admit,  # type: ignore[arg-type]
        reasons=reasons if reasons is not None else [],
        measure=lambda engine: engine.candidate.seconds,  # type: ignore[attr-defined]
    )
    return picked, asked


@pytest.fixture()
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VDSR_CACHE_DIR", str(tmp_path / "cache"))
    BUILT.clear()
    return tmp_path / "cache"


def test_pairs_on_this_cpu() -> None:
    checkpoint = Path("m.safetensors")
    plain = [c.label for c in cpu_candidates(checkpoint, native_bf16=False)]
    assert plain == ["torch:fp32", "onnxruntime:fp32", "openvino:fp32", "onnxruntime:int8", "openvino:int8"]
    native = [c.label for c in cpu_candidates(checkpoint, native_bf16=True)]
    assert set(native) - set(plain) == {"torch:bf16", "openvino:bf16", "openvino:int8+bf16"}  # bf16 where native
    mixed, int8 = Candidate.parse("openvino:int8+bf16"), Candidate.parse("openvino:int8")
    assert mixed.quantized and mixed.float_precision == "bf16" and int8.quantized and int8.float_precision == "fp32"
    assert [c.label for c in cpu_candidates(Path("m.onnx"))] == ["onnxruntime:fp32", "openvino:fp32"]
    assert [c.label for c in cpu_candidates(Path("m.xml"))] == ["openvino:fp32"]
    assert REFERENCE.label == REFERENCE_LABEL and Candidate.parse("openvino:int8") == Candidate("openvino", "int8")
    with pytest.raises(ValueError, match="unknown engine pair 'onnxruntime:bf16'"):
        Candidate.parse("onnxruntime:bf16")


def test_the_fastest_admitted_pair_is_picked_and_the_rest_closed(fresh_cache: Path) -> None:
    reasons: list[str] = []
    candidates = [
        FakeCandidate("torch", "fp32", seconds=0.5),
        FakeCandidate("openvino", "int8", seconds=0.1, admitted=False),  # fastest, but over the gate
        FakeCandidate("openvino", "bf16", builds=False),
        FakeCandidate("onnxruntime", "int8", seconds=0.2),
        FakeCandidate("onnxruntime", "fp32", seconds=0.3),
    ]
    (candidate, engine), asked = pick(candidates, reasons=reasons)
    assert candidate.label == "onnxruntime:int8" and not engine.closed
    assert asked == ["openvino:int8", "onnxruntime:int8"]  # slower pairs are never scored
    assert all(e.closed for e in BUILT if e is not engine)
    assert reasons == ["openvino:bf16: not installed"]
    entry = next(iter(json.loads(fastest.cache_file().read_text()).values()))
    assert entry["pick"] == "onnxruntime:int8"
    assert entry["admitted"] == {"openvino:int8": False, "onnxruntime:int8": True}


def test_auto_never_picks_a_pair_over_the_gate(fresh_cache: Path) -> None:
    """Every speed order and every verdict: the pick is admitted and no admitted pair is faster."""
    labels = [("torch", "fp32"), ("openvino", "int8"), ("onnxruntime", "int8"), ("openvino", "bf16")]
    for order in itertools.permutations(range(len(labels))):
        for verdicts in itertools.product([True, False], repeat=len(labels)):
            candidates = [
                FakeCandidate(b, p, seconds=0.1 * (1 + order[i]), admitted=verdicts[i])
                for i, (b, p) in enumerate(labels)
            ]
            picked, _ = pick(candidates, model_key=f"{order}{verdicts}")
            admitted = [c for c in candidates if c.admitted]
            if not admitted:
                assert picked is None
                continue
            assert picked[0].admitted and picked[0].seconds == min(c.seconds for c in admitted)


def test_the_cached_pick_is_invalidated_when_the_runtime_or_the_model_changes(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidates = [FakeCandidate("torch", "fp32", seconds=0.3), FakeCandidate("openvino", "int8", seconds=0.1)]
    assert pick(candidates)[1] == ["openvino:int8"]
    BUILT.clear()
    (candidate, _), asked = pick(candidates)
    assert candidate.label == "openvino:int8" and asked == [] and len(BUILT) == 1  # cached: built alone

    assert pick(candidates, model_key="retrained")[1] == ["openvino:int8"]  # another model: measured again

    versions = {**fingerprint.runtime_versions(), "openvino": "2099.1"}
    monkeypatch.setattr(fingerprint, "runtime_versions", lambda: versions)
    assert pick(candidates)[1] == ["openvino:int8"]  # a new runtime: measured again
    assert len(json.loads(fastest.cache_file().read_text())) == 3


@dataclass(frozen=True)
class LossyCandidate:
    """A pair that is the fastest on the probe but loses several tenths of a dB on Set5."""

    backend: str = "lossy"
    precision: str = "int8"

    @property
    def label(self) -> str:
        return f"{self.backend}:{self.precision}"

    def build(self, model: Path) -> CheckerEngine:
        return CheckerEngine(model, 4)


def test_auto_on_a_cpu_picks_the_fastest_pair_inside_the_gate(
    tmp_path: Path, small_data: Path, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end on a tiny network with enough layers for int8 to quantise some: real pairs, real gate,
    and a lossy pair that is timed fastest of all."""
    for cls in PREFERENCE:
        monkeypatch.setattr(cls, "uses_gpu", classmethod(lambda c: False))
    monkeypatch.setenv("VDSR_DATA_DIR", str(small_data))
    checkpoint = save_checkpoint(
        tmp_path / "six.safetensors", make_model(ModelConfig(arch="plain", repeats=6, channels=8)), scales=[2, 3, 4]
    )
    pairs = [*cpu_candidates(checkpoint, native_bf16=False), LossyCandidate()]
    monkeypatch.setattr(engines, "cpu_candidates", lambda model: pairs)
    speed = ["checker fp32", "openvino int8", "onnxruntime int8", "openvino fp32", "onnxruntime fp32", "torch fp32"]
    monkeypatch.setattr(fastest, "probe_seconds", lambda engine: speed.index(describe_engine(engine)) + 1.0)
    create_engine.cache_clear()
    engine = create_engine("auto", checkpoint)
    entry = next(iter(json.loads(fastest.cache_file().read_text()).values()))
    verdicts = entry["admitted"]
    assert verdicts["lossy:int8"] is False and entry["pick"] == f"{engine.name}:{engine.precision}"
    fastest_first = sorted(entry["ms"], key=entry["ms"].get)
    assert fastest_first[0] == "lossy:int8" and list(verdicts) == fastest_first[: len(verdicts)]
    assert list(verdicts.values()) == [False] * (len(verdicts) - 1) + [True]  # scored until one is admitted
    gate = QualityGate(checkpoint, set5_images(small_data))
    assert all(loss <= GATE_DB for loss in gate.check(entry["pick"], engine).losses.values())  # cached score
    create_engine.cache_clear()


def test_every_engine_logs_its_backend_and_precision_once(
    tiny_checkpoint: Path, small_data: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VDSR_DATA_DIR", str(small_data))
    create_engine.cache_clear()
    with caplog.at_level(logging.INFO, logger="engines"):
        engine = create_engine("openvino:int8", tiny_checkpoint)
        create_engine("openvino", tiny_checkpoint)
    lines = [r.getMessage() for r in caplog.records if r.name == "engines"]
    assert lines == ["engine openvino:int8: openvino int8", "engine openvino: openvino fp32"]
    assert (engine.name, engine.precision) == ("openvino", "int8") and describe_engine(engine) == "openvino int8"
    create_engine.cache_clear()


def test_without_set5_in_the_data_folder_the_gate_scores_the_shipped_images(
    tiny_checkpoint: Path, tmp_path: Path, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Space or a ``pip install`` has no data folder: lower precisions are still gated, not dropped."""
    for cls in PREFERENCE:
        monkeypatch.setattr(cls, "uses_gpu", classmethod(lambda c: False))
    monkeypatch.setenv("VDSR_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(engines, "cpu_candidates", lambda model: [REFERENCE, LossyCandidate()])
    monkeypatch.setattr(fastest, "probe_seconds", lambda engine: 1.0 if engine.name == "checker" else 2.0)
    create_engine.cache_clear()
    engine = create_engine("auto", tiny_checkpoint)
    entry = next(iter(json.loads(fastest.cache_file().read_text()).values()))
    assert entry["admitted"] == {"lossy:int8": False, "torch:fp32": True}  # int8 was timed and gated, then refused
    assert (engine.name, engine.precision) == ("torch", "fp32")
    create_engine.cache_clear()
