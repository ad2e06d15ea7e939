"""Build TensorRT FP16 engines from ONNX exports (TensorRT 10 and 11).

* TensorRT 10 ("weak typing"): parse the fp32 ONNX and set ``BuilderFlag.FP16``;
  TensorRT picks fp16 kernels where it likes.
* TensorRT 11 removed every precision flag: the ONNX itself is converted to fp16
  first (:func:`convert_to_fp16`, keeping the head convolution, the global
  residual add and the I/O in fp32) and built as a strongly typed network.

Every engine gets one optimisation profile for dynamic shapes, a persistent
timing cache, and a JSON sidecar (``<engine>.json``: TensorRT version, GPU,
shapes, precision, model metadata) so engines never need the training config.

Only :func:`build_engine` needs TensorRT and a GPU; parsing shapes, the fp16
conversion and the sidecar work anywhere (and are tested without a GPU).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from vdsr.engine import EngineUnavailableError

if TYPE_CHECKING:
    import onnx

__all__ = [
    "DEFAULT_PROFILE",
    "TENSORRT_NEEDS",
    "BuildResult",
    "ShapeProfile",
    "TensorRTUnavailableError",
    "build_engine",
    "convert_to_fp16",
    "gpu_description",
    "parse_shape",
    "read_sidecar",
    "require_tensorrt",
    "sidecar_path",
    "uses_strong_typing",
    "write_sidecar",
]

log = logging.getLogger(__name__)

TENSORRT_NEEDS = (
    "TensorRT 10 or 11 (the tensorrt Python package: pip install -r requirements-gpu.txt), "
    "an NVIDIA GPU and a CUDA build of PyTorch"
)
SIDECAR_FORMAT = "vdsr-trt/1"
_FP16_OPS = frozenset({"Conv", "Relu", "Add", "Sub", "Mul", "Identity", "LeakyRelu", "PRelu", "Clip", "Max", "Min"})


class TensorRTUnavailableError(EngineUnavailableError):
    """TensorRT, a GPU or CUDA is missing here."""


# --------------------------------------------------------------------------- shapes


def parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"1x1x256x256"`` (or ``"1,1,256,256"``) -> (N, C, H, W).

    Raises:
        ValueError: not four positive integers.
    """
    parts = [p for p in re.split(r"[x,\s]+", text.strip().lower()) if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"bad shape {text!r}: expected NxCxHxW, e.g. 1x1x552x552") from None
    if len(dims) != 4 or min(dims) < 1:
        raise ValueError(f"bad shape {text!r}: expected four positive integers NxCxHxW, e.g. 1x1x552x552")
    return dims  # type: ignore[return-value]


@dataclass(frozen=True)
class ShapeProfile:
    """One TensorRT optimisation profile for the (N, 1, H, W) input: min <= opt <= max per axis."""

    min: tuple[int, int, int, int]
    opt: tuple[int, int, int, int]
    max: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        for label, shape in (("min", self.min), ("opt", self.opt), ("max", self.max)):
            if len(shape) != 4 or min(shape) < 1:
                raise ValueError(f"{label} shape {shape} must be four positive integers (N, 1, H, W)")
            if shape[1] != 1:
                raise ValueError(f"{label} shape {shape} must have 1 channel: VDSR refines luma only")
        if not all(a <= b <= c for a, b, c in zip(self.min, self.opt, self.max, strict=True)):
            raise ValueError(f"shapes must satisfy min <= opt <= max on every axis: {self.min}, {self.opt}, {self.max}")

    @classmethod
    def parse(cls, min_shape: str, opt_shape: str, max_shape: str) -> ShapeProfile:
        return cls(parse_shape(min_shape), parse_shape(opt_shape), parse_shape(max_shape))

    def as_dict(self) -> dict[str, list[int]]:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max)}

    def tag(self) -> str:
        """Short text for file names, e.g. ``1x1x32x32-1x1x552x552-4x1x1088x1920``."""
        return "-".join("x".join(str(d) for d in s) for s in (self.min, self.opt, self.max))


# The pipeline's default tile (512) plus a 20-pixel halo is 552; the max covers a 1080p frame untiled.
DEFAULT_PROFILE = ShapeProfile(min=(1, 1, 32, 32), opt=(1, 1, 552, 552), max=(4, 1, 1088, 1920))


# --------------------------------------------------------------------------- fp16 ONNX


def convert_to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A mixed-precision copy of an fp32 VDSR export, for TensorRT 11's strongly typed networks.

    Nodes that read a graph input (the head convolution, the global residual add)
    or write a graph output stay fp32, so the image itself is never rounded to
    fp16 and the I/O stays float32; every other node and its weights become fp16,
    with Cast nodes at the two boundaries. Only the element-wise and convolution
    ops a VDSR export contains are supported.

    Written here rather than taken from onnxconverter-common: the graph is a plain
    chain of Conv/Relu/Add, and ~50 lines avoid a dependency the CPU-only machines
    would need just for this test.

    Raises:
        ValueError: the graph holds an op this conversion does not handle.
    """
    import onnx
    from onnx import TensorProto, numpy_helper

    from export.onnx_export import read_metadata, strip_noop_casts

    out = onnx.ModelProto()
    out.CopyFrom(model)
    strip_noop_casts(out)
    graph = out.graph
    unsupported = sorted({n.op_type for n in graph.node} - _FP16_OPS)
    if unsupported:
        raise ValueError(f"fp16 conversion supports {sorted(_FP16_OPS)}; this graph also has {unsupported}")
    graph_inputs = {v.name for v in graph.input}
    graph_outputs = {v.name for v in graph.output}
    inits = {t.name: t for t in graph.initializer}
    dtype = {v.name: v.type.tensor_type.elem_type for v in graph.input}
    dtype.update({name: t.data_type for name, t in inits.items()})

    def target_of(node: onnx.NodeProto) -> int:
        touches_io = any(i in graph_inputs for i in node.input) or any(o in graph_outputs for o in node.output)
        return TensorProto.FLOAT if touches_io else TensorProto.FLOAT16

    targets = [target_of(n) for n in graph.node]
    users: dict[str, set[int]] = defaultdict(set)
    for node, target in zip(graph.node, targets, strict=True):
        for name in node.input:
            if name in inits and inits[name].data_type == TensorProto.FLOAT:
                users[name].add(target)
    half_name: dict[str, str] = {}
    new_inits = []
    for name, tensor in inits.items():
        wanted = users.get(name, set())
        if TensorProto.FLOAT in wanted or not wanted:
            new_inits.append(tensor)
        if TensorProto.FLOAT16 in wanted:
            half_name[name] = name if TensorProto.FLOAT not in wanted else f"{name}_fp16"
            half = numpy_helper.to_array(tensor).astype(np.float16)
            new_inits.append(numpy_helper.from_array(half, half_name[name]))

    nodes: list[onnx.NodeProto] = []
    casts: dict[tuple[str, int], str] = {}

    def cast(name: str, to: int) -> str:
        if dtype.get(name) == to or dtype.get(name) not in (TensorProto.FLOAT, TensorProto.FLOAT16):
            return name
        if (name, to) not in casts:
            suffix = "fp16" if to == TensorProto.FLOAT16 else "fp32"
            new = f"{name}_{suffix}"
            nodes.append(onnx.helper.make_node("Cast", [name], [new], to=to, name=f"cast_{new}"))
            dtype[new] = to
            casts[(name, to)] = new
        return casts[(name, to)]

    for node, target in zip(graph.node, targets, strict=True):
        new_inputs = []
        for name in node.input:
            if target == TensorProto.FLOAT16 and name in half_name:
                new_inputs.append(half_name[name])
            else:
                new_inputs.append(cast(name, target) if name else name)
        node.input[:] = new_inputs
        for name in node.output:
            dtype[name] = target
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    del graph.value_info[:]
    out = onnx.shape_inference.infer_shapes(out, strict_mode=True)
    onnx.checker.check_model(out)
    meta = read_metadata(out)
    meta["vdsr.dtype"] = "float16 (head conv, global residual add and I/O in float32)"
    onnx.helper.set_model_props(out, meta)
    return out


# --------------------------------------------------------------------------- sidecar


def sidecar_path(engine_path: str | Path) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    engine_path = Path(engine_path)
    return engine_path.with_name(engine_path.name + ".json")


def write_sidecar(
    engine_path: str | Path,
    *,
    tensorrt_version: str,
    gpu: dict[str, Any],
    profile: ShapeProfile,
    precision: str,
    strongly_typed: bool,
    onnx_path: str | Path,
    input_name: str,
    output_name: str,
) -> Path:
    """Write the JSON sidecar that describes an engine file; returns its path.

    Args:
        engine_path: the ``.engine`` file it describes (need not exist yet).
        tensorrt_version: ``tensorrt.__version__`` of the builder.
        gpu: :func:`gpu_description` of the GPU it was built on.
        profile: the optimisation profile.
        precision: ``fp16`` or ``fp32``.
        strongly_typed: built as a strongly typed network (TensorRT 11) or with FP16 flags (10).
        onnx_path: the ONNX it was built from; its ``vdsr.*`` metadata is copied.
        input_name, output_name: the engine's I/O tensor names.
    """
    from export.onnx_export import read_metadata

    onnx_path = Path(onnx_path)
    model_meta = {k.removeprefix("vdsr."): v for k, v in read_metadata(onnx_path).items() if k.startswith("vdsr.")}
    data = {
        "format": SIDECAR_FORMAT,
        "tensorrt": tensorrt_version,
        "gpu": gpu,
        "precision": precision,
        "strongly_typed": strongly_typed,
        "profile": profile.as_dict(),
        "input": input_name,
        "output": output_name,
        "onnx": onnx_path.name,
        "model": model_meta,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = sidecar_path(engine_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def read_sidecar(engine_path: str | Path) -> dict[str, Any] | None:
    """The sidecar of an engine file, or None when there is none."""
    path = sidecar_path(engine_path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("format") != SIDECAR_FORMAT:
        raise ValueError(f"{path} is not a VDSR TensorRT sidecar (format {data.get('format')!r})")
    return data


# --------------------------------------------------------------------------- TensorRT


def require_tensorrt() -> ModuleType:
    """Import tensorrt and check for a CUDA GPU.

    Raises:
        TensorRTUnavailableError: one line saying what is missing.
    """
    try:
        import tensorrt as trt
    except ImportError:
        raise TensorRTUnavailableError(f"tensorrt is not installed; this needs {TENSORRT_NEEDS}") from None
    import torch

    if not torch.cuda.is_available():
        raise TensorRTUnavailableError(f"no CUDA GPU is visible to PyTorch; this needs {TENSORRT_NEEDS}")
    return trt


def uses_strong_typing(trt: ModuleType) -> bool:
    """TensorRT 11 has no FP16 builder flag: precision must come from the (fp16) ONNX."""
    return not hasattr(trt.BuilderFlag, "FP16")


def gpu_description(device_id: int = 0) -> dict[str, Any]:
    """Name, compute capability and memory of a CUDA GPU (via PyTorch)."""
    import torch

    props = torch.cuda.get_device_properties(device_id)
    return {
        "name": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "memory_gib": round(props.total_memory / 2**30, 1),
        "cuda": torch.version.cuda,
    }


def _parser_error(error: Any) -> str:
    desc = getattr(error, "desc", None)
    return str(desc() if callable(desc) else error)


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_engine` wrote."""

    engine: Path
    sidecar: Path
    onnx: Path
    strongly_typed: bool


def build_engine(
    onnx_path: str | Path,
    out: str | Path,
    profile: ShapeProfile = DEFAULT_PROFILE,
    *,
    fp16: bool = True,
    timing_cache: str | Path | None = None,
    workspace_gib: float = 4.0,
    device_id: int = 0,
) -> BuildResult:
    """Build a TensorRT engine (FP16 by default) with one dynamic-shape profile.

    Args:
        onnx_path: an fp32 export from :mod:`export.onnx_export`.
        out: the ``.engine`` file to write; the sidecar goes to ``<out>.json``.
        profile: min/opt/max input shapes.
        fp16: build for fp16 (TensorRT 10: FP16 flag; 11: fp16 ONNX, strongly typed).
        timing_cache: file to read tactic timings from and write them back to.
        workspace_gib: builder workspace limit.
        device_id: the GPU to build on.

    Raises:
        TensorRTUnavailableError: no TensorRT or no GPU here.
        RuntimeError: the ONNX parser or the builder failed (first errors in the message).
    """
    trt = require_tensorrt()
    import onnx
    import torch

    torch.cuda.set_device(device_id)
    onnx_path, out = Path(onnx_path), Path(out)
    strongly_typed = uses_strong_typing(trt)
    source = onnx.load(str(onnx_path))
    build_from = onnx_path
    if fp16 and strongly_typed:
        build_from = out.with_name(out.stem + ".fp16.onnx")
        onnx.save_model(convert_to_fp16(source), str(build_from), save_as_external_data=False)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    creation = getattr(trt, "NetworkDefinitionCreationFlag", None)
    if strongly_typed and creation is not None and hasattr(creation, "STRONGLY_TYPED"):
        flags |= 1 << int(creation.STRONGLY_TYPED)  # required on 10.x for strong typing, a no-op on 11.x
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(build_from.read_bytes(), str(build_from)):
        errors = "; ".join(_parser_error(parser.get_error(i)) for i in range(min(parser.num_errors, 3)))
        raise RuntimeError(f"TensorRT could not parse {build_from.name}: {errors}")
    input_name = network.get_input(0).name
    output_name = network.get_output(0).name
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * 2**30))
    if fp16 and not strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)
    opt_profile = builder.create_optimization_profile()
    opt_profile.set_shape(input_name, profile.min, profile.opt, profile.max)
    config.add_optimization_profile(opt_profile)
    cache_file = Path(timing_cache) if timing_cache else None
    cache_bytes = cache_file.read_bytes() if cache_file and cache_file.is_file() else b""
    cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(cache, ignore_mismatch=False)
    log.info("building %s from %s (strongly typed: %s)", out, build_from, strongly_typed)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {build_from.name} (see the log above)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(bytes(serialized))
    tmp.replace(out)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_bytes(bytes(config.get_timing_cache().serialize()))
    sidecar = write_sidecar(
        out,
        tensorrt_version=trt.__version__,
        gpu=gpu_description(device_id),
        profile=profile,
        precision="fp16" if fp16 else "fp32",
        strongly_typed=strongly_typed,
        onnx_path=onnx_path,
        input_name=input_name,
        output_name=output_name,
    )
    return BuildResult(engine=out, sidecar=sidecar, onnx=build_from, strongly_typed=strongly_typed)
