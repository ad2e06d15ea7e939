"""Benchmark every available engine on the same inputs: ``python -m benchmarks.latency``.

Engines: every (backend, precision) pair ``auto`` considers on this CPU (fp32 on each
backend, bf16 where native, int8), backends on a GPU where there is one, and ``auto``
itself (:func:`benchmarks.measure.engine_rows`). Workloads
(:func:`benchmarks.workloads.make_workloads`; each a luma plane exactly as the pipeline
feeds the network): a 256x256 tile, a whole Set5 image, and 360p and 480p video frames upscaled
x2 (skipped by ``--quick``). Each engine runs ``--warmup`` untimed calls, then
``--repeats`` timed ones; the table gives the median. Effective GFLOP/s is ``2 x conv
weights x pixels / latency``, printed beside the machine's peak for the engine's
precision, measured first in the same run (:mod:`benchmarks.peak`). Quality is the PSNR
difference from PyTorch fp32 on Set5 x2/x3/x4 through :func:`vdsr.evaluate.evaluate`
with an ``Upscaler`` per engine. Writes ``docs/benchmarks.md`` and ``docs/benchmarks.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.measure import AUTO, BASELINE, Result, run_benchmark
from benchmarks.peak import measure_peaks
from benchmarks.report import checkpoint_line, render_markdown, render_png, system_info
from benchmarks.workloads import conv_weights, make_workloads
from engines import ENGINES
from vdsr.checkpoint import load_checkpoint
from vdsr.data import data_dir, load_rgb_folder
from vdsr.weights import resolve_model

__all__ = ["COMMAND", "build_parser", "main"]

COMMAND = "python -m benchmarks.latency"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="shipped model name or checkpoint (default: vdsr-20)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per input (default 5, --quick 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls first (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="skip the video frames (360p and 480p)")
    p.add_argument("--engines", nargs="+", default=None, help=f"subset of {[*ENGINES.names(), AUTO]}")
    p.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4], help="Set5 scales for PSNR")
    p.add_argument("--out-dir", type=Path, default=_REPO_ROOT / "docs", help="where benchmarks.md/.png go")
    p.add_argument("--note", default="", help="a line to put at the top of the report")
    p.add_argument(
        "--int8", type=Path, default=None, help="run this int8 model (from export/to_int8.py) instead of auto's"
    )
    p.add_argument(
        "--peak-size", type=int, default=256, help="plane side for the peak microbenchmark (default %(default)s)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, writing the report after each engine so a long run keeps what it measured."""
    args = build_parser().parse_args(argv)
    checkpoint = resolve_model(args.model)
    model, _ = load_checkpoint(checkpoint)
    weights = conv_weights(model)
    repeats = args.repeats or (3 if args.quick else 5)
    images = load_rgb_folder(data_dir() / "Set5")
    workloads = make_workloads(dict(images), quick=args.quick)
    engines = args.engines or [*ENGINES.names(), AUTO]
    if BASELINE in engines:  # the baseline first, so a slow machine still reports it
        engines = [BASELINE] + [e for e in engines if e != BASELINE]
    info = system_info()
    print(f"measuring the machine's peak per precision on {args.peak_size}x{args.peak_size}", file=sys.stderr)
    peaks = measure_peaks(args.peak_size, repeats=repeats)
    for peak in peaks:
        value = f"{peak.gflops:.1f} GFLOP/s" if peak.gflops is not None else f"not run: {peak.note}"
        print(f"peak {peak.precision} {peak.runtime}: {value}", file=sys.stderr)
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    args.out_dir.mkdir(parents=True, exist_ok=True)
    text = ""

    def write(results: list[Result]) -> None:
        nonlocal text
        text = render_markdown(
            results,
            workloads,
            info,
            model_line=checkpoint_line(checkpoint, weights),
            command=f"{COMMAND} {argv_text}".strip(),
            weights=weights,
            repeats=repeats,
            warmup=args.warmup,
            note=args.note,
            peaks=peaks,
            peak_size=args.peak_size,
        )
        (args.out_dir / "benchmarks.md").write_text(text)
        title = f"{model.config.name} on {info['cpu']} ({info['date']})"
        render_png(results, workloads, weights, args.out_dir / "benchmarks.png", title)

    results = run_benchmark(
        checkpoint,
        workloads,
        images,
        engines=engines,
        repeats=repeats,
        warmup=args.warmup,
        scales=tuple(args.scales),
        int8=args.int8,
        on_result=write,
    )
    write(results)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
