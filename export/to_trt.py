"""Build a TensorRT FP16 engine from a VDSR ONNX export (TensorRT 10 or 11).

Usage: ``python export/to_trt.py [--onnx PATH] [--min-shape/--opt-shape/--max-shape] [--out PATH]``.

Thin shell over :func:`engines.trt_build.build_engine`. Without ``--onnx`` the model given by
``--model`` (default: the shipped vdsr-20) is exported to ONNX first (cached).
Writes the engine, ``<engine>.json`` (TensorRT version, GPU, shapes, precision)
and updates a timing cache. Without TensorRT or a GPU it exits with status 2
and one line saying what it needs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engines.trt_build import build_engine  # noqa: E402
from engines.trt_profile import DEFAULT_PROFILE, ShapeProfile  # noqa: E402
from engines.trt_runtime import TensorRTUnavailableError, require_tensorrt  # noqa: E402

EXIT_UNAVAILABLE = 2


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="to_trt.py", description="Build a TensorRT FP16 engine from a VDSR ONNX export.")
    p.add_argument("--onnx", type=Path, default=None, help="fp32 ONNX from export/to_onnx.py")
    p.add_argument("--model", default=None, help="shipped model name or checkpoint, exported first (without --onnx)")
    p.add_argument("--out", type=Path, default=None, help="engine file (default: <onnx stem>.engine beside it)")
    p.add_argument("--min-shape", default=_shape_text(DEFAULT_PROFILE.min), help="NxCxHxW (default %(default)s)")
    p.add_argument("--opt-shape", default=_shape_text(DEFAULT_PROFILE.opt), help="NxCxHxW (default %(default)s)")
    p.add_argument("--max-shape", default=_shape_text(DEFAULT_PROFILE.max), help="NxCxHxW (default %(default)s)")
    p.add_argument("--fp32", action="store_true", help="build an fp32 engine instead of fp16")
    p.add_argument("--timing-cache", type=Path, default=None, help="timing cache file (default: beside the engine)")
    p.add_argument("--workspace-gib", type=float, default=4.0, help="builder workspace limit (default %(default)s)")
    p.add_argument("--device-id", type=int, default=0, help="CUDA device (default %(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        profile = ShapeProfile.parse(args.min_shape, args.opt_shape, args.max_shape)
    except ValueError as exc:
        parser.error(str(exc))  # exits 2 with usage
    try:
        require_tensorrt()  # before any export work: fail fast with one line
    except TensorRTUnavailableError as exc:
        print(f"to_trt.py: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    from engines.onnx_cache import onnx_for  # exports and caches a checkpoint
    from vdsr.weights import resolve_model

    try:
        if args.onnx is not None and not args.onnx.is_file():
            raise ValueError(f"ONNX file not found: {args.onnx}")
        onnx_path = args.onnx or onnx_for(resolve_model(args.model), "tensorrt")
        out = args.out or onnx_path.with_suffix(".engine")
        result = build_engine(
            onnx_path,
            out,
            profile,
            fp16=not args.fp32,
            timing_cache=args.timing_cache or out.with_name("timing.cache"),
            workspace_gib=args.workspace_gib,
            device_id=args.device_id,
        )
    except (RuntimeError, ValueError) as exc:  # CheckpointError and EngineFileError are ValueErrors
        print(f"to_trt.py: error: {exc}", file=sys.stderr)
        return 1
    typing = "strongly typed fp16 ONNX" if result.strongly_typed else "FP16 builder flag"
    print(f"wrote {result.engine} and {result.sidecar} ({typing}; profile {profile.tag()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
