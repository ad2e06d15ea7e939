"""Where a video frame's time goes, and what overlapping the stages buys: ``python -m benchmarks.video``.

A short clip of Big Buck Bunny, resized to 854x480 and encoded with x264, is upscaled x2 (so every
frame leaves the network at 1708x960) by :func:`vdsr.video.upscale_video`, the path the command line
and the app take, twice over: once with every stage in turn (``vdsr.video.overlap.DEPTH = 0``) and
once with the network on its own thread while the next frame decodes and the last one encodes (the
default). The engine is wrapped to time its calls, so the report splits each frame into the
network and everything else: decoding, colour conversion, the bicubic upscale, tiling and x264.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from benchmarks.report import system_info
from engines import create_engine, load_upscaler
from vdsr.data import data_dir
from vdsr.engine import describe_engine
from vdsr.pipeline import from_float, to_float
from vdsr.resize import imresize
from vdsr.video import overlap, upscale_video
from vdsr.weights import resolve_model

__all__ = ["TimedEngine", "main", "make_clip"]


class TimedEngine:
    """An engine that adds up the seconds spent in its calls."""

    def __init__(self, engine: object) -> None:
        self.engine, self.seconds, self.calls = engine, 0.0, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine, name)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = self.engine(y)  # type: ignore[operator]
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def make_clip(path: Path, frames: int, size: tuple[int, int] = (480, 854), fps: int = 25) -> Path:
    """``frames`` frames of Big Buck Bunny (looped when it runs out) resized to ``size`` (H, W), as H.264
    CRF 18 at ``fps`` with x264's default keyframe interval."""
    source = data_dir() / "video" / "bigbuckbunny.mp4"
    with av.open(str(source)) as src:
        pictures = [
            from_float(imresize(to_float(frame.to_ndarray(format="rgb24")), size), np.dtype(np.uint8))
            for frame in itertools.islice(src.decode(video=0), frames)
        ]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for i in range(frames):
            picture = av.VideoFrame.from_ndarray(pictures[i % len(pictures)], format="rgb24")
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _run(clip: Path, out: Path, model: str, engine: TimedEngine, depth: int) -> tuple[float, float, int]:
    """(wall seconds, network seconds, frames) of one upscale at x2 with ``depth`` frames in flight."""
    overlap.DEPTH = depth
    engine.seconds = 0.0
    start = time.perf_counter()
    result = upscale_video(clip, out, load_upscaler(model, engine), 2, segment_seconds=None)  # type: ignore[arg-type]
    return time.perf_counter() - start, engine.seconds, result.frames


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.video", description=__doc__)
    p.add_argument("--model", default="vdsr-20-real", help="shipped name or checkpoint (default: the video model)")
    p.add_argument("--engine", default="auto", help="backend, backend:precision or auto (default)")
    p.add_argument("--frames", type=int, default=8, help="frames per run (default 8)")
    p.add_argument("--rounds", type=int, default=2, help="serial/overlapped pairs, alternated (default 2)")
    args = p.parse_args(argv)
    info = system_info()
    engine = TimedEngine(create_engine(args.engine, resolve_model(args.model)))
    serial_runs, overlapped_runs = [], []
    default = overlap.DEPTH
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clip = make_clip(Path(tmp) / "bbb-480p.mp4", args.frames)
            _run(make_clip(Path(tmp) / "warm.mp4", 2), Path(tmp) / "warm-x2.mp4", args.model, engine, 0)  # warm-up
            for _ in range(args.rounds):
                serial_runs.append(_run(clip, Path(tmp) / "serial.mp4", args.model, engine, 0))
                overlapped_runs.append(_run(clip, Path(tmp) / "overlap.mp4", args.model, engine, 1))
    finally:
        overlap.DEPTH = default
    wall, network, frames = (min(r[i] for r in serial_runs) for i in range(3))
    wall_overlap = min(r[0] for r in overlapped_runs)
    lines = [
        f"Video stages, {args.model} on {describe_engine(engine)}: {frames} frames of 854x480 upscaled x2 to 1708x960",
        f"machine: {info['machine']}; {info['load']}; torch {info['lib:torch']}, openvino {info['lib:openvino']}, "
        f"onnxruntime {info['lib:onnxruntime']}, PyAV {av.__version__}; {info['date']}",
        "",
        "| stages | s per frame | network s per frame | not the network | vs in turn |",
        "|---|---:|---:|---:|---:|",
        f"| in turn | {wall / frames:.3f} | {network / frames:.3f} | {1 - network / wall:.1%} | 1.00x |",
        f"| overlapped | {wall_overlap / frames:.3f} | | | {wall / wall_overlap:.2f}x |",
        "",
        f"(the best of {args.rounds} alternated runs each; 'not the network' is the share of a frame's time spent "
        "decoding, converting colour, resizing, tiling and encoding)",
    ]
    print("\n".join(lines))  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    sys.exit(main())
