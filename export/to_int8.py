"""Quantise a VDSR checkpoint to int8 ONNX (QDQ): ``python export/to_int8.py [--model NAME_OR_PATH]``.

Thin shell over :func:`export.quantize.build_int8`: calibrates on T91, scores the
int8 model on Set5 at x2/x3/x4 through one engine and compares it with PyTorch
fp32 through the same pipeline, prints the comparison and writes the int8 model
only if no scale loses more than ``--tolerance`` dB (exit 0); otherwise nothing
is written (exit 1). Run the result with
``python -m vdsr upscale ... --model PATH.onnx --engine openvino``. ``auto``
needs none of this: it builds, gates and caches the same model itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from export.quantize import CALIBRATION_METHODS, build_int8  # noqa: E402
from vdsr.checkpoint import CheckpointError  # noqa: E402
from vdsr.data import data_dir  # noqa: E402
from vdsr.engine import EngineUnavailableError  # noqa: E402
from vdsr.weights import DEFAULT_MODEL, resolve_model  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="to_int8.py", description=__doc__.splitlines()[0])
    p.add_argument("--model", default=DEFAULT_MODEL, help="shipped model name or .safetensors checkpoint path")
    p.add_argument("--out", type=Path, default=None, help="output .onnx (default: <checkpoint>-int8.onnx)")
    p.add_argument(
        "--engine", default="openvino", choices=["openvino", "onnxruntime"], help="engine that runs the int8 model"
    )
    p.add_argument("--tolerance", type=float, default=0.05, help="max Set5 PSNR loss against torch fp32 per scale, dB")
    p.add_argument("--keep-first", type=int, default=3, help="leading convolutions kept in fp32")
    p.add_argument("--calibration", default="minmax", choices=CALIBRATION_METHODS)
    p.add_argument("--patches", type=int, default=64, help="96x96 T91 calibration patches")
    p.add_argument("--degradation", default="clean", help="damage for the calibration inputs, e.g. jpeg:30-95")
    p.add_argument("--data-dir", type=Path, help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        checkpoint = resolve_model(args.model)
        out = args.out or checkpoint.with_name(f"{checkpoint.stem}-int8.onnx")
        report = build_int8(
            checkpoint,
            out,
            data_dir(args.data_dir),
            engine=args.engine,
            tolerance=args.tolerance,
            keep_first=args.keep_first,
            method=args.calibration,
            patches=args.patches,
            degradation=args.degradation,
        )
    except (CheckpointError, EngineUnavailableError, FileNotFoundError, ValueError) as exc:
        print(f"to_int8.py: error: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if report.path is None:
        print(f"not written: int8 loses more than {args.tolerance} dB against torch fp32 on Set5", file=sys.stderr)
        return 1
    print(f"wrote {report.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
