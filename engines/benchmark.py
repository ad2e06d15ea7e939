"""Benchmark every available engine on the same inputs: ``python -m engines.benchmark``.

Workloads (each a luma plane exactly as the pipeline feeds the network: the
bicubic upscale's Y channel; colour conversion and resizing are not timed):

* ``tile 256``: a 256x256 crop of Set5 ``baby`` at x2;
* ``Set5 baby x2``: the whole image, 512x512;
* ``480p x2``: a Big Buck Bunny frame at 854x480, upscaled x2, so the network
  runs at 960x1708 in one call (skipped by ``--quick``).

Each engine runs ``--warmup`` untimed calls, then ``--repeats`` timed ones; the
table gives the median. Effective GFLOP/s is ``2 x conv weights x pixels /
latency``. Quality is the PSNR difference from PyTorch fp32 on Set5 x2/x3/x4
through :func:`vdsr.evaluate.evaluate` with an ``Upscaler`` per engine.
Writes ``docs/benchmarks.md`` and ``docs/benchmarks.png``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import hashlib
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engines import ENGINES, load_upscaler
from engines.torch_ import TorchEngine, TorchOptions
from vdsr.checkpoint import read_checkpoint_info
from vdsr.color import rgb_to_ycbcr
from vdsr.cpu import cpu_flags, cpu_name, gpu_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.degrade import low_resolution, modcrop
from vdsr.engine import Engine, EngineUnavailableError
from vdsr.evaluate import evaluate
from vdsr.models import VDSR
from vdsr.pipeline import UpscaleLimits, from_float, to_float
from vdsr.resize import imresize, scaled_size
from vdsr.weights import resolve_model

__all__ = ["Result", "Workload", "conv_weights", "engine_rows", "main", "make_workloads", "median_latency",
           "run_benchmark"]

BASELINE = "torch"
_REPO_ROOT = Path(__file__).resolve().parent.parent
_INT8_ENGINES = ("openvino", "onnxruntime")  # the backends that run a QDQ int8 ONNX model
_LIBRARIES = ("torch", "onnx", "onnxruntime", "openvino", "tensorrt", "numpy")


@dataclass(frozen=True)
class Workload:
    """One network input: float32 (1, 1, H, W) luma in [0, 1]."""

    name: str
    y: np.ndarray
    source: str

    @property
    def pixels(self) -> int:
        return int(self.y.shape[-2] * self.y.shape[-1])


@dataclass
class Result:
    """One engine's numbers (or why it could not run)."""

    engine: str
    precision: str = ""
    details: str = ""
    unavailable: str = ""
    latency_s: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    psnr: dict[int, float] = field(default_factory=dict)


def conv_weights(model: nn.Module) -> int:
    """Multiply-accumulates per output pixel: the number of convolution weights."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))


def _upscaled_luma(rgb: np.ndarray, scale: int) -> np.ndarray:
    """HR uint8 RGB -> its bicubic x``scale`` degrade -> bicubic upscale -> Y (H, W) float32."""
    hr = modcrop(to_float(rgb), scale)
    lr = to_float(low_resolution(hr, scale))
    return rgb_to_ycbcr(imresize(lr, hr.shape[:2]))[..., 0].astype(np.float32)


def _video_frame(size: tuple[int, int]) -> tuple[np.ndarray, str] | None:
    """A Big Buck Bunny frame resized to ``size`` (H, W) as RGB uint8, or None without OpenCV/video."""
    path = data_dir() / "video" / "bigbuckbunny.mp4"
    try:
        import cv2
    except ImportError:
        return None
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, bgr = cap.read()
    cap.release()
    if not ok:
        return None
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    small = from_float(imresize(to_float(rgb), size), np.dtype(np.uint8))
    return small, f"{path.name} frame 60, resized to {size[1]}x{size[0]}"


def make_workloads(images: dict[str, np.ndarray], *, quick: bool) -> list[Workload]:
    """The benchmark inputs (see the module docstring); ``images`` is Set5 by name."""
    name = "baby" if "baby" in images else sorted(images)[0]
    y = _upscaled_luma(images[name], 2)
    h, w = y.shape
    top, left = (h - min(h, 256)) // 2, (w - min(w, 256)) // 2
    tile = np.ascontiguousarray(y[top : top + 256, left : left + 256])
    workloads = [
        Workload(f"tile {tile.shape[1]}x{tile.shape[0]}", tile[None, None], f"centre of Set5 {name} x2"),
        Workload(f"Set5 {name} x2", y[None, None], f"Set5 {name}, bicubic x2, {w}x{h}"),
    ]
    if not quick:
        lr_size = (480, 854)
        frame = _video_frame(lr_size)
        if frame is None:  # no OpenCV or no video: a Set5 image stretched to the same size
            frame = (from_float(imresize(to_float(images[name]), lr_size), np.dtype(np.uint8)), f"Set5 {name} resized")
        rgb, source = frame
        up = rgb_to_ycbcr(imresize(to_float(rgb), scaled_size(*lr_size, 2)))[..., 0].astype(np.float32)
        workloads.append(Workload(f"480p x2 ({up.shape[1]}x{up.shape[0]})", up[None, None], source))
    return workloads


def _precision(engine: Engine) -> str:
    precision = getattr(engine, "precision", None)
    if precision is None:
        precision = getattr(getattr(engine, "options", None), "precision", "fp32")
    return str(precision)


def _details(engine: Engine) -> str:
    """The engine's options, and its execution providers where it has them."""
    text = repr(getattr(engine, "options", ""))
    providers = getattr(engine, "providers", None)
    return f"{text}; providers {', '.join(providers)}" if providers else text


def median_latency(engine: Engine, y: np.ndarray, repeats: int = 3, warmup: int = 1) -> float:
    """Median seconds of ``repeats`` calls on ``y`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        engine(y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine(y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _build_on(cls: type, model: Path, _checkpoint: Path) -> Engine:
    """Build ``cls`` on ``model`` instead of the benchmarked checkpoint."""
    return cls(model)


def engine_rows(names: list[str], int8: Path | None = None) -> list[tuple[str, Callable[[Path], Engine]]]:
    """(row label, builder) for each engine to run.

    The baseline is always PyTorch fp32 eager on the CPU, so speed-ups mean the same
    on every machine; where PyTorch sees a GPU, PyTorch on CUDA (fp16) gets its own row.
    With ``int8`` (a model from ``export/to_int8.py``), the ONNX engines run it too.
    """
    rows: list[tuple[str, Callable[[Path], Engine]]] = []
    for name in names:
        if name != BASELINE:
            rows.append((name, ENGINES.get(name)))
        else:
            rows.append((BASELINE, lambda ckpt: TorchEngine(ckpt, TorchOptions(device="cpu", precision="fp32"))))
            if TorchEngine.uses_gpu():
                rows.append(("torch-cuda", TorchEngine))
        if int8 is not None and name in _INT8_ENGINES:
            rows.append((f"{name}-int8", functools.partial(_build_on, ENGINES.get(name), int8)))
    return rows


def run_benchmark(
    checkpoint: Path,
    workloads: list[Workload],
    images: list[tuple[str, np.ndarray]],
    *,
    engines: list[str],
    repeats: int,
    warmup: int,
    scales: tuple[int, ...] = (2, 3, 4),
    int8: Path | None = None,
    log: bool = True,
    on_result: Callable[[list[Result]], None] | None = None,
) -> list[Result]:
    """Time every engine on every workload and score it on ``images``; one engine in memory at a time.

    ``on_result`` is called with the results so far after each engine, so a long run can
    write its report as it goes.
    """
    results = []
    for name, build in engine_rows(engines, int8):
        result = Result(engine=name)
        results.append(result)
        try:
            engine = build(checkpoint)
        except (EngineUnavailableError, ValueError, RuntimeError) as exc:  # unavailable, or failed to load
            result.unavailable = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if log:
                print(f"{name}: not available here ({exc})", file=sys.stderr)
            if on_result is not None:
                on_result(results)
            continue
        result.precision = _precision(engine)
        result.details = _details(engine)
        for work in workloads:
            try:
                result.latency_s[work.name] = median_latency(engine, work.y, repeats, warmup)
            except (RuntimeError, ValueError, MemoryError) as exc:
                result.errors[work.name] = str(exc).splitlines()[0]
            if log:
                got = result.latency_s.get(work.name)
                text = f"{got * 1e3:.1f} ms" if got is not None else f"failed: {result.errors[work.name]}"
                print(f"{name} [{result.precision}] {work.name}: {text}", file=sys.stderr)
        # One tile per Set5 image (all are <= 512 px), so tiling never changes the result.
        upscaler = load_upscaler(checkpoint, engine, limits=UpscaleLimits(tile=1024))
        for score in evaluate({name: upscaler}, images, scales, with_ssim=False):
            result.psnr[score.scale] = score.psnr
        if log:
            print(f"{name}: Set5 PSNR {result.psnr}", file=sys.stderr)
        engine.close()
        if on_result is not None:
            on_result(results)
    return results


def system_info() -> dict[str, str]:
    flags = cpu_flags() or set()
    simd = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    versions = {}
    for lib in _LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = "not installed"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_name(),
        "cores": f"{os.cpu_count()} logical CPUs; torch uses {torch.get_num_threads()} threads",
        "simd": ", ".join(simd) or "unknown",
        "gpu": gpu_summary() or "none",
        "load": f"{load[0]:.2f} (1-min load average at start)",
        "python": platform.python_version(),
        "os": platform.platform(),
        **{f"lib:{k}": v for k, v in versions.items()},
    }


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def render_markdown(
    results: list[Result],
    workloads: list[Workload],
    info: dict[str, str],
    *,
    model_line: str,
    command: str,
    weights: int,
    repeats: int,
    warmup: int,
    note: str,
) -> str:
    base = next((r for r in results if r.engine == BASELINE and not r.unavailable), None)
    lines = [
        "# Inference benchmarks",
        "",
        f"Generated by `{command}` on {info['date']}.",
        "",
    ]
    if note:
        lines += [f"> {note}", ""]
    lines += [
        "## Machine and libraries",
        "",
        f"- CPU: {info['cpu']} ({info['cores']}); SIMD: {info['simd']}; GPU: {info['gpu']}",
        f"- Load: {info['load']}",
        f"- Python {info['python']} on {info['os']}",
        "- " + ", ".join(f"{k.removeprefix('lib:')} {v}" for k, v in info.items() if k.startswith("lib:")),
        f"- Model: {model_line}",
        "",
        "## Speed",
        "",
        f"Median of {repeats} timed calls after {warmup} warm-up call(s), one image per call (batch 1). "
        f"GFLOP/s = 2 x {weights:,} weights x pixels / latency. Speed-up is against PyTorch fp32 eager.",
        "",
        "| engine | precision | input | pixels | latency (ms) | frames/s | GFLOP/s | speed-up |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.unavailable:
            continue
        for w in workloads:
            lat = r.latency_s.get(w.name)
            if lat is None:
                lines.append(
                    f"| {r.engine} | {r.precision} | {w.name} | {w.pixels:,} | failed: "
                    f"{r.errors.get(w.name, '?')} | | | |"
                )
                continue
            ref = base.latency_s.get(w.name) if base else None
            gflops = 2 * weights * w.pixels / lat / 1e9
            speedup = ref / lat if ref else None
            lines.append(
                f"| {r.engine} | {r.precision} | {w.name} | {w.pixels:,} | {lat * 1e3:.1f} | {1 / lat:.2f} | "
                f"{gflops:.1f} | {_fmt(speedup, '.2f')}x |"
            )
    scales = sorted({s for r in results for s in r.psnr})
    lines += [
        "",
        "## Quality",
        "",
        "Set5 PSNR (Y, border = scale) through the full `Upscaler` pipeline, as the difference from PyTorch fp32 "
        "(dB; +0.0000 means identical to four decimals).",
        "",
        "| engine | precision | "
        + " | ".join(f"x{s} PSNR (dB)" for s in scales)
        + " | "
        + " | ".join(f"x{s} diff" for s in scales)
        + " |",
        "|---|---|" + "---:|" * (2 * len(scales)),
    ]
    for r in results:
        if r.unavailable:
            continue
        diffs = [(r.psnr[s] - base.psnr[s]) if base and s in base.psnr else None for s in scales]
        lines.append(
            f"| {r.engine} | {r.precision} | "
            + " | ".join(_fmt(r.psnr.get(s), ".3f") for s in scales)
            + " | "
            + " | ".join(_fmt(d, "+.4f") for d in diffs)
            + " |"
        )
    lines += ["", "## Engines", ""]
    lines += [f"- **{r.engine}** ({r.precision}): `{r.details}`" for r in results if not r.unavailable]
    missing = [r for r in results if r.unavailable]
    if missing:
        lines += ["", "## Not available here", ""]
        lines += [f"- **{r.engine}**: not available here: {r.unavailable}" for r in missing]
    lines += [
        "",
        "## Inputs",
        "",
        *[f"- {w.name}: {w.source}" for w in workloads],
        "",
        "Timed calls start from a float32 luma array in memory and end with one in memory; for GPU engines "
        "that includes the host-device copies. Colour conversion and bicubic resizing are the same for every "
        "engine and are not timed.",
        "",
        "![benchmark chart](benchmarks.png)",
        "",
    ]
    return "\n".join(lines)


def render_png(results: list[Result], workloads: list[Workload], weights: int, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ran = [r for r in results if not r.unavailable]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    width = 0.8 / max(1, len(ran))
    x = np.arange(len(workloads))
    for i, r in enumerate(ran):
        values = [2 * weights * w.pixels / r.latency_s[w.name] / 1e9 if w.name in r.latency_s else 0 for w in workloads]
        bars = ax.bar(x + (i - (len(ran) - 1) / 2) * width, values, width, label=f"{r.engine} ({r.precision})")
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(x, [w.name for w in workloads])
    ax.set_ylabel("effective GFLOP/s (higher is faster)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _checkpoint_line(checkpoint: Path, model: VDSR, weights: int) -> str:
    info = read_checkpoint_info(checkpoint)
    sha = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:12]
    parts = [f"{key} {info.training[key]}" for key in ("note", "step", "train_set") if key in info.training]
    if info.evaluation.get("psnr"):
        psnr = ", ".join(f"x{k} {v:.2f}" for k, v in info.evaluation["psnr"].items())
        parts.append(f"its own {info.evaluation.get('set', '')} PSNR {psnr} dB".replace("  ", " "))
    training = "; ".join(parts) or "no training metadata"
    return f"{info.config.name} ({weights:,} conv weights), `{checkpoint.name}` sha256 {sha}…; training: {training}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engines.benchmark", description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="shipped model name or checkpoint (default: vdsr-20)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per input (default 5, --quick 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls first (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="skip the 480p frame")
    p.add_argument("--engines", nargs="+", default=None, help=f"subset of {ENGINES.names()}")
    p.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4], help="Set5 scales for PSNR")
    p.add_argument("--out-dir", type=Path, default=_REPO_ROOT / "docs", help="where benchmarks.md/.png go")
    p.add_argument("--note", default="", help="a line to put at the top of the report")
    p.add_argument("--int8", type=Path, default=None, help="an int8 model from export/to_int8.py to run as well")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from vdsr.checkpoint import load_checkpoint

    checkpoint = resolve_model(args.model)
    model, _ = load_checkpoint(checkpoint)
    weights = conv_weights(model)
    repeats = args.repeats or (3 if args.quick else 5)
    images = load_rgb_folder(data_dir() / "Set5")
    workloads = make_workloads(dict(images), quick=args.quick)
    engines = args.engines or ENGINES.names()
    if BASELINE in engines:  # the baseline first, so a slow machine still reports it
        engines = [BASELINE] + [e for e in engines if e != BASELINE]
    info = system_info()
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    args.out_dir.mkdir(parents=True, exist_ok=True)
    text = ""

    def write(results: list[Result]) -> None:
        nonlocal text
        text = render_markdown(
            results,
            workloads,
            info,
            model_line=_checkpoint_line(checkpoint, model, weights),
            command=f"python -m engines.benchmark {argv_text}".strip(),
            weights=weights,
            repeats=repeats,
            warmup=args.warmup,
            note=args.note,
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
