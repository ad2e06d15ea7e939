"""Build TensorRT FP16 engines from ONNX exports (TensorRT 10 and 11).

* TensorRT 10 ("weak typing"): parse the fp32 ONNX and set ``BuilderFlag.FP16``;
  TensorRT picks fp16 kernels where it likes.
* TensorRT 11 removed every precision flag: the ONNX itself is converted to fp16
  first (:func:`engines.onnx_fp16.convert_to_fp16`, keeping the head convolution,
  the global residual add and the I/O in fp32) and built as a strongly typed network.

Every engine gets one optimisation profile for dynamic shapes (:mod:`engines.trt_profile`),
a persistent timing cache, and a JSON sidecar (:mod:`engines.trt_sidecar`). Lives in the
runtime package because the TensorRT backend builds an engine on first use;
``export/to_trt.py`` is its shell.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.onnx_fp16 import convert_to_fp16
from engines.trt_profile import DEFAULT_PROFILE, ShapeProfile
from engines.trt_runtime import gpu_description, require_tensorrt, uses_strong_typing
from engines.trt_sidecar import write_sidecar

__all__ = ["BuildResult", "build_engine"]

log = logging.getLogger(__name__)


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
        onnx_path: an fp32 export from :mod:`engines.onnx_export`.
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
