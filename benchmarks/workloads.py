"""The benchmark's inputs: luma planes exactly as the pipeline feeds the network, and its FLOP count.

Each input is the bicubic upscale's Y channel; colour conversion and resizing are the same for every
engine and are not timed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from vdsr.color import rgb_to_ycbcr
from vdsr.data import data_dir
from vdsr.degrade import low_resolution, modcrop
from vdsr.pipeline import from_float, to_float
from vdsr.resize import imresize, scaled_size

__all__ = ["Workload", "conv_weights", "make_workloads"]


@dataclass(frozen=True)
class Workload:
    """One network input: float32 (1, 1, H, W) luma in [0, 1]."""

    name: str
    y: np.ndarray
    source: str

    @property
    def pixels(self) -> int:
        return int(self.y.shape[-2] * self.y.shape[-1])


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
    """The benchmark inputs; ``images`` is Set5 by name.

    * ``tile 256``: a 256x256 crop of Set5 ``baby`` at x2;
    * ``Set5 baby x2``: the whole image, 512x512;
    * ``360p x2`` and ``480p x2``: a Big Buck Bunny frame at 640x360 and at 854x480, upscaled
      x2, so the network runs at 1280x720 and 1708x960 in one call (left out when ``quick``).
    """
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
        for label, lr_size in (("360p", (360, 640)), ("480p", (480, 854))):
            workloads.append(_frame_workload(label, lr_size, images[name]))
    return workloads


def _frame_workload(label: str, lr_size: tuple[int, int], fallback: np.ndarray) -> Workload:
    """A video frame of ``lr_size`` (H, W) upscaled x2, as the network sees it in one call."""
    frame = _video_frame(lr_size)
    if frame is None:  # no OpenCV or no video: a Set5 image stretched to the same size
        frame = (from_float(imresize(to_float(fallback), lr_size), np.dtype(np.uint8)), "Set5 image resized")
    rgb, source = frame
    up = rgb_to_ycbcr(imresize(to_float(rgb), scaled_size(*lr_size, 2)))[..., 0].astype(np.float32)
    return Workload(f"{label} x2 ({up.shape[1]}x{up.shape[0]})", up[None, None], source)
