"""How a model's measured gain depends on how clean the reference is: ``python -m training.reference_study``.

The held-out frames are decodes of low-rate H.264 (about 0.05 to 0.09 bits per pixel), so the
ground truth they are scored against carries the codec's smoothing and artifacts. This study keeps
the content fixed and compresses only the reference: every ground truth of a set is passed once
through x264 at a CRF (:func:`vdsr.degrade.h264_round_trip`) and then scored in the usual protocol
(bicubic-downscaled, damaged, upscaled; PSNR on BT.601 Y, ``scale`` px shaved; torch fp32).

The sets: Set5; five frames of ``carphone_pristine.mp4``, a near-lossless clip (about 1.5 bits per
pixel) that no training run and no choice between runs has used; the held-out frames as they are;
and ``bikes``, one held-out clip's intra-coded frames (about 0.7 bits per pixel) beside its held-out
frames (predicted, about 0.08): the same footage and encoder, references of two qualities.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines import load_upscaler
from vdsr.data import HOLDOUT, HOLDOUT_FRAMES, data_dir, load_set
from vdsr.degrade import h264_round_trip
from vdsr.evaluate import evaluate
from vdsr.pipeline import Upscaler

__all__ = [
    "CARPHONE_FRAMES",
    "ReferenceRow",
    "intra_frames",
    "main",
    "reference_sets",
    "stream_bits_per_pixel",
    "study",
]

CARPHONE = "carphone_pristine.mp4"
CARPHONE_FRAMES = (0, 30, 60, 90, 119)
BIKES = "bikes.mp4"
SETS = ("Set5", "carphone", HOLDOUT)  # the default; "bikes" on request


@dataclass(frozen=True)
class ReferenceRow:
    """One set under one reference: its bits per pixel and PSNR per (degradation, method)."""

    set: str
    reference: str
    bits_per_pixel: float | None
    psnr: dict[str, dict[str, float]]  # degradation -> method -> mean PSNR dB


def stream_bits_per_pixel(path: Path) -> float:
    """Mean bits per pixel of a file's video stream (its packets only, audio left out)."""
    from vdsr.video.probe import open_video, video_stream

    with open_video(path) as container:
        stream = video_stream(path, container)
        sizes = [packet.size for packet in container.demux(stream) if packet.size]
        width, height = stream.codec_context.width, stream.codec_context.height
    return 8.0 * sum(sizes) / (len(sizes) * width * height)


def intra_frames(path: Path) -> tuple[list[int], float]:
    """(indices of a video's intra-coded frames, mean bits per pixel of its keyframe packets), in one pass.

    The two name the same frames for a closed-GOP stream such as the shared clips'."""
    import av

    from vdsr.video.probe import open_video, video_stream

    sizes, indices, index = [], [], 0
    with open_video(path) as container:
        stream = video_stream(path, container)
        for packet in container.demux(stream):  # the last, empty packet flushes the decoder
            if packet.size and packet.is_keyframe:
                sizes.append(packet.size)
            for frame in packet.decode():
                if frame.pict_type == av.video.frame.PictureType.I:
                    indices.append(index)
                index += 1
        width, height = stream.codec_context.width, stream.codec_context.height
    return indices, 8.0 * float(np.mean(sizes)) / (width * height)


def _frames(root: Path, clip: str, label: str, indices: Sequence[int]) -> list[tuple[str, np.ndarray]]:
    """Frames of ``<root>/video/<clip>`` as (``label@index``, RGB) pairs, named as the held-out frames are."""
    from vdsr.video import read_frames

    return [(f"{label}@{i}", rgb) for i, rgb in read_frames(root / "video" / clip, indices)]


def _bikes(root: Path) -> list[tuple[str, float | None, list[tuple[str, np.ndarray]]]]:
    """The intra-coded frames of the held-out clip ``bikes.mp4``, then its held-out (predicted) frames."""
    intra, intra_rate = intra_frames(root / "video" / BIKES)
    return [
        ("intra-coded frames", intra_rate, _frames(root, BIKES, "bikes", intra)),
        (
            "the held-out frames",
            stream_bits_per_pixel(root / "video" / BIKES),
            _frames(root, BIKES, "bikes", HOLDOUT_FRAMES[BIKES]),
        ),
    ]


def _load(name: str, root: Path) -> list[tuple[str, np.ndarray]]:
    if name == "carphone":
        return _frames(root, CARPHONE, "carphone", CARPHONE_FRAMES)
    return load_set(name, root)


def reference_sets(
    name: str, root: Path, crfs: Sequence[int]
) -> list[tuple[str, float | None, list[tuple[str, np.ndarray]]]]:
    """(reference, bits per pixel, images): the set as given, then its images through x264 at each CRF.

    The held-out frames are only given as they are: their clips' H.264 is their reference. ``bikes``
    gives the clip's intra-coded frames and its held-out frames, each with the clip's own coding.
    """
    if name == "bikes":
        return _bikes(root)
    images = _load(name, root)
    if name == HOLDOUT:
        rates = [stream_bits_per_pixel(root / "video" / clip) for clip in HOLDOUT_FRAMES]
        return [("the clips' own H.264", float(np.mean(rates)), images)]
    given_rate = stream_bits_per_pixel(root / "video" / CARPHONE) if name == "carphone" else None
    out: list[tuple[str, float | None, list[tuple[str, np.ndarray]]]] = [("as given", given_rate, images)]
    for crf in crfs:
        coded = [(n, *h264_round_trip(rgb, crf)) for n, rgb in images]
        bits = np.mean([8.0 * size / (rgb.shape[0] * rgb.shape[1]) for _, rgb, size in coded])
        out.append((f"h264:{crf}", float(bits), [(n, rgb) for n, rgb, _ in coded]))
    return out


def study(
    models: Sequence[str],
    root: Path,
    *,
    sets: Sequence[str] = SETS,
    crfs: Sequence[int] = (28, 34, 40),
    degradations: Sequence[str] = ("clean", "jpeg:50", "h264:23", "h264:28"),
    scale: int = 2,
) -> list[ReferenceRow]:
    """Score bicubic and each model on every set under every reference and degradation."""
    methods = {"bicubic": Upscaler(None)} | {model: load_upscaler(model, "torch") for model in models}
    rows = []
    for name in sets:
        for reference, bits, images in reference_sets(name, root, crfs):
            psnr = {
                spec: {s.method: s.psnr for s in evaluate(methods, images, [scale], with_ssim=False, degradation=spec)}
                for spec in degradations
            }
            rows.append(ReferenceRow(name, reference, bits, psnr))
    return rows


def format_rows(rows: Sequence[ReferenceRow], model: str) -> str:
    """Markdown: one row per set and reference, ``model``'s gain over bicubic under each degradation."""
    specs = list(rows[0].psnr)
    lines = [
        "| set | reference | bits/pixel | " + " | ".join(specs) + " |",
        "|" + "---|" * (len(specs) + 3),
    ]
    for row in rows:
        bits = f"{row.bits_per_pixel:.2f}" if row.bits_per_pixel is not None else "lossless"
        gains = [f"{row.psnr[s][model] - row.psnr[s]['bicubic']:+.2f}" for s in specs]
        lines.append(f"| {row.set} | {row.reference} | {bits} | " + " | ".join(gains) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.reference_study", description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["vdsr-20", "vdsr-20-real"], help="shipped names or checkpoints")
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=[*SETS, "bikes"])
    p.add_argument("--crfs", type=int, nargs="+", default=[28, 34, 40], help="x264 CRFs for the compressed references")
    p.add_argument("--degradation", nargs="+", default=["clean", "jpeg:50", "h264:23", "h264:28"], metavar="SPEC")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--json", help="also write every PSNR to this file")
    args = p.parse_args(argv)
    rows = study(
        args.models,
        data_dir(args.data_dir),
        sets=args.sets,
        crfs=args.crfs,
        degradations=args.degradation,
        scale=args.scale,
    )
    for model in args.models:
        print(f"\n{model}: gain over bicubic at x{args.scale}, PSNR dB on Y, by how the reference was stored")  # noqa: T201
        print(format_rows(rows, model))  # noqa: T201
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
