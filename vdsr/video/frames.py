"""Single frames out of a video: as RGB arrays (scoring, previews) or as bicubic | model PNGs (a quick look)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from vdsr.imageio import write_image
from vdsr.pipeline import Upscaler
from vdsr.video.colour import to_rgb
from vdsr.video.deinterlace import deinterlace_filter, deinterlaced
from vdsr.video.errors import VideoError
from vdsr.video.probe import VideoInfo, decode_frames, open_video, probe_video, time_base, video_stream

__all__ = ["as_displayed", "extract_frames", "read_frames"]


def _orient(img: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a counter-clockwise display rotation to pixels (for still images)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


def as_displayed(rgb: np.ndarray, info: VideoInfo, *, upright: bool = True) -> np.ndarray:
    """A frame (or its upscale) as players show it, for pictures meant to be looked at, never for scoring.

    Non-square pixels (128/117 on NTSC 4:3 sources such as carphone) are stretched to square ones,
    so a preview has the video's shape; ``upright=False`` says the frame is still in coded
    orientation and turns it first.
    """
    if not upright:
        rgb = _orient(rgb, info.rotation)
    height, width = info.display_size(*rgb.shape[:2])
    if (height, width) == rgb.shape[:2]:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def read_frames(
    src: str | Path, frame_indices: Iterable[int], *, deinterlace: str = "auto"
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for the chosen frames in ascending order; duplicates once.

    Each frame is (H, W, 3) uint8 RGB, converted with the source's own matrix and
    range, deinterlaced as :func:`~vdsr.video.upscale_video` would (``deinterlace``: ``auto``,
    ``on`` or ``off``), and turned upright if the video carries a display rotation. Frames are
    decoded in order from the start, so late indices in long videos take a while.

    Raises:
        VideoError: bad video, no indices, or an index that is negative or past the last frame.
    """
    src = Path(src)
    wanted = sorted(set(int(i) for i in frame_indices))
    if not wanted:
        raise VideoError("no frame numbers given")
    if wanted[0] < 0:
        raise VideoError(f"frame numbers start at 0, got {wanted[0]}")
    info = probe_video(src)
    bwdif = deinterlace_filter(deinterlace, info)
    full = info.color_range == "full"
    done = 0
    with open_video(src) as container:
        stream = video_stream(src, container)
        stream.thread_type = "AUTO"
        index = -1
        frames = deinterlaced(decode_frames(src, container, stream), bwdif, time_base(stream))
        for index, frame in enumerate(frames):
            if index != wanted[done]:
                continue
            rgb = to_rgb(frame, info.color_matrix, full, info.width, info.height)
            yield index, _orient(rgb, info.rotation)
            done += 1
            if done == len(wanted):
                return
    raise VideoError(f"{src}: frame {wanted[done]} is past the end ({index + 1} frames)")


def extract_frames(
    src: str | Path,
    frame_indices: Iterable[int],
    upscaler: Upscaler,
    scale: float,
    out_dir: str | Path,
    *,
    deinterlace: str = "auto",
) -> list[Path]:
    """Write bicubic | upscaler side-by-side PNGs of chosen frames, for a quick look.

    Each PNG is (H', 2 * W', 3) uint8 with the plain bicubic upscale on the left
    and ``upscaler``'s on the right (H', W' = the upscaled frame size as players show it:
    turned upright, non-square pixels stretched). Frames are decoded in order
    from the start, so late indices in long videos take a while.

    Args:
        src: input video.
        frame_indices: 0-based frame numbers; duplicates are written once.
        upscaler: the model to compare against bicubic.
        scale: upscaling factor.
        out_dir: created if missing; files are named ``<stem>_f<index>_x<scale>.png``.
        deinterlace: ``auto``, ``on`` or ``off``, as for :func:`~vdsr.video.upscale_video`.

    Returns:
        The written paths, in ascending frame order.

    Raises:
        VideoError: bad video, or an index that is negative or past the last frame; nothing is
            written then.
    """
    src, out_dir = Path(src), Path(out_dir)
    info = probe_video(src)
    upscaler.check(info.height, info.width, scale)
    bicubic = Upscaler(None, limits=upscaler.limits)
    frames = list(read_frames(src, frame_indices, deinterlace=deinterlace))  # all found before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index, rgb in frames:
        pair = np.hstack([as_displayed(up.upscale(rgb, scale), info) for up in (bicubic, upscaler)])
        written.append(write_image(out_dir / f"{src.stem}_f{index:06d}_x{scale:g}.png", pair))
    return written
