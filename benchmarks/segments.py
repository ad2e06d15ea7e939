"""What cutting a long video into resumable segments costs, and what more processes buy:
``python -m benchmarks.segments``.

A 20 s clip (Big Buck Bunny looped, 320x180 at 25 fps, so 640x360 after x2) is upscaled by
:func:`vdsr.video.upscale_video` in one pass, as a segmented job (5 s segments: a seek and an x264
start per segment, one join), and as the segmented job spread over two worker processes, and, with
``--ray``, over a local two-node Ray cluster (:class:`ray.cluster_utils.Cluster`). Each run builds
its own engines, as a user's command does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import av

from benchmarks.report import system_info
from benchmarks.video import make_clip
from engines import load_upscaler
from vdsr.video import upscale_video

__all__ = ["main"]


def _timed(clip: Path, out: Path, model: str, engine: str, **options: object) -> float:
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    upscale_video(
        clip, out, load_upscaler(model, engine), 2, make_upscaler=partial(load_upscaler, model, engine), **options
    )  # type: ignore[arg-type]
    return time.perf_counter() - start


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH such as 320x180, got {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.segments", description=__doc__)
    p.add_argument("--model", default="vdsr-20-real", help="shipped name or checkpoint (default: the video model)")
    p.add_argument("--engine", default="auto", help="backend, backend:precision or auto (default)")
    p.add_argument("--seconds", type=int, default=20, help="clip length (default 20)")
    p.add_argument("--size", type=_size, default=(320, 180), help="clip size WxH before x2 (default 320x180)")
    p.add_argument("--segment", type=int, default=5, help="segment length in seconds (default 5)")
    p.add_argument("--ray", action="store_true", help="also run on a local two-node Ray cluster")
    args = p.parse_args(argv)
    width, height = args.size
    seg = args.segment
    info = system_info()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", 25 * args.seconds, size=(height, width))
        run = partial(_timed, clip, model=args.model, engine=args.engine)
        run(Path(tmp) / "warm.mp4", max_frames=2, segment_seconds=None)  # builds and caches the engines once
        rows.append(("one pass", run(Path(tmp) / "one.mp4", segment_seconds=None)))
        rows.append((f"{seg} s segments, 1 process", run(Path(tmp) / "seg.mp4", segment_seconds=seg)))
        rows.append((f"{seg} s segments, 2 processes", run(Path(tmp) / "two.mp4", segment_seconds=seg, workers=2)))
        if args.ray:
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            cluster.add_node(num_cpus=1)
            try:
                rows.append(
                    (
                        f"{seg} s segments, Ray, 2 nodes",
                        run(Path(tmp) / "ray.mp4", segment_seconds=seg, ray=cluster.address),
                    )
                )
            finally:
                import ray

                ray.shutdown()
                cluster.shutdown()
    base = rows[0][1]
    lines = [
        f"Segmented video, {args.model} on {args.engine}: {args.seconds} s of {width}x{height} at 25 fps, upscaled x2",
        f"machine: {info['machine']}; {info['load']}; PyAV {av.__version__}; {info['date']}",
        "",
        "| run | seconds | vs one pass |",
        "|---|---:|---:|",
        *(f"| {name} | {seconds:.1f} | {seconds / base - 1:+.1%} |" for name, seconds in rows),
    ]
    print("\n".join(lines))  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    sys.exit(main())
