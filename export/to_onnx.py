"""Export a VDSR checkpoint to ONNX: ``python export/to_onnx.py [--model NAME_OR_PATH] [--out PATH]``.

Thin shell over :func:`engines.onnx_export.export_onnx`: dynamic batch/height/width,
one self-contained file, BatchNorm folded, checked with onnx.checker and against
PyTorch on a real image before it is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engines.onnx_export import DEFAULT_OPSET, ExportError, export_onnx  # noqa: E402
from vdsr.checkpoint import CheckpointError  # noqa: E402
from vdsr.weights import DEFAULT_MODEL, resolve_model  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="to_onnx.py", description=__doc__.splitlines()[0])
    p.add_argument("--model", default=DEFAULT_MODEL, help="shipped model name or .safetensors checkpoint path")
    p.add_argument("--out", type=Path, default=None, help="output .onnx (default: next to the checkpoint)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (default %(default)s)")
    p.add_argument("--atol", type=float, default=1e-4, help="max abs difference allowed vs PyTorch fp32")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        checkpoint = resolve_model(args.model)
        out = args.out or checkpoint.with_suffix(".onnx")
        report = export_onnx(checkpoint, out, opset=args.opset, atol=args.atol)
    except (CheckpointError, ExportError) as exc:
        print(f"to_onnx.py: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {report.path} (opset {report.opset}, {report.bn_folded} BatchNorm folded, "
        f"max abs diff {report.max_abs_diff:.2g} vs PyTorch on {report.checked_on})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
