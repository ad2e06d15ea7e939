"""Random training patches from a folder of images (T91), made on the fly.

Each image is optionally downsized (1.0 / 0.7 / 0.5), then, per scale, degraded
exactly as at inference time: bicubic down by the scale, rounded to 8 bits, optionally
compressed or otherwise damaged (:mod:`vdsr.degrade`), bicubic up again. The luma of every
(ground truth, degraded) pair is kept in memory (about 100 MB for T91 per version of the
degraded images) and patches are cropped from it with a random
flip/rotation, so sampling costs microseconds and is deterministic per seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from vdsr.color import rgb_to_y
from vdsr.data import load_rgb_folder
from vdsr.degrade import Degradation, low_resolution, modcrop, parse_spec
from vdsr.pipeline import to_float
from vdsr.resize import imresize

__all__ = ["PatchBank", "PatchBatch", "PatchStream"]


def _is_random(spec: Degradation) -> bool:
    """Whether two uses of ``spec`` can differ: a range, or noise."""
    return any(step.low != step.high or step.kind == "noise" for step in spec.steps)


def _degraded_luma(hr: np.ndarray, scale: int, spec: Degradation, *, seed: Sequence[int]) -> np.ndarray:
    """The network's input for ``hr``: the luma of its degraded downscale, bicubic-upscaled back."""
    lr = to_float(low_resolution(hr, scale, spec, seed=seed))
    return imresize(rgb_to_y(lr), hr.shape[:2]).astype(np.float32)


def _image_pairs(
    img: np.ndarray, items: Sequence[tuple[float, int, int]], *, specs: Sequence[Degradation], variants: int, seed: int
) -> list[tuple[np.ndarray, list[list[np.ndarray]]]]:
    """One image's (ground-truth luma, degraded versions per spec) for each (downsize, scale, k) in ``items``.

    A module-level function, so that :class:`PatchBank` can run one image per process: the codecs
    make building a bank of damaged images minutes of CPU time.
    """
    rgb, pairs = to_float(img), []
    for factor, s, k in items:
        size = (round(rgb.shape[0] * factor), round(rgb.shape[1] * factor))
        hr = modcrop(rgb if factor == 1.0 else np.clip(np.rint(imresize(rgb, size) * 255), 0, 255) / 255, s)
        versions = [
            [_degraded_luma(hr, s, spec, seed=[seed, s, k, i, v]) for v in range(variants if _is_random(spec) else 1)]
            for i, spec in enumerate(specs)
        ]
        pairs.append((rgb_to_y(hr).astype(np.float32), versions))
    return pairs


@dataclass(frozen=True)
class PatchBatch:
    """``lr`` is the bicubic-upscaled input and ``hr`` the target: float32 (N, 1, P, P) luma
    in [0, 1]; ``scales`` is (N,) int."""

    lr: np.ndarray
    hr: np.ndarray
    scales: np.ndarray


class PatchBank:
    """Degraded/ground-truth luma pairs for every image, downsize and scale.

    ``degradations`` maps specs (:mod:`vdsr.degrade`, ranges allowed) to their share of the
    patches; ``clean`` alone is the standard protocol. A spec that draws random values gets
    ``variants`` precomputed versions of each low-resolution image, so codecs run once, at start-up;
    ``processes`` > 1 shares that work out over processes, with the same result.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        scales: Sequence[int] = (2, 3, 4),
        downsizes: Sequence[float] = (1.0, 0.7, 0.5),
        patch_size: int = 41,
        degradations: Mapping[str, float] | None = None,
        variants: int = 4,
        seed: int = 0,
        processes: int = 1,
    ) -> None:
        self.scales = tuple(int(s) for s in scales)
        self.patch_size = patch_size
        mix = dict(degradations or {"clean": 1.0})
        self.specs = [parse_spec(spec) for spec in mix]
        shares = np.array(list(mix.values()), float)
        if (shares < 0).any() or shares.sum() <= 0:
            raise ValueError(f"degradation shares must be >= 0 and not all 0, got {mix}")
        self.shares = shares / shares.sum()
        # hr[scale][k]: ground-truth luma; lr[scale][k][spec index]: its bicubic-upscaled degraded versions.
        self.hr: dict[int, list[np.ndarray]] = {s: [] for s in self.scales}
        self.lr: dict[int, list[list[list[np.ndarray]]]] = {s: [] for s in self.scales}
        jobs = []  # per image, the (downsize, scale, k) it adds; k numbered here so seeds never depend on order
        count = dict.fromkeys(self.scales, 0)
        for _, img in load_rgb_folder(folder):
            items = []
            for factor in downsizes:
                h, w = (round(n * factor) for n in img.shape[:2])
                for s in self.scales:
                    if min(h - h % s, w - w % s) >= patch_size:
                        items.append((factor, s, count[s]))
                        count[s] += 1
            jobs.append((img, items))
        build = partial(_image_pairs, specs=self.specs, variants=variants, seed=seed)
        if processes > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(min(processes, len(jobs)), mp_context=get_context("spawn")) as pool:
                results = list(pool.map(build, *zip(*jobs, strict=True)))
        else:
            results = [build(img, items) for img, items in jobs]
        for (_, items), pairs in zip(jobs, results, strict=True):
            for (_, s, _), (hr_y, lr_ys) in zip(items, pairs, strict=True):
                self.hr[s].append(hr_y)
                self.lr[s].append(lr_ys)
        for s, items in self.hr.items():
            if not items:
                raise ValueError(f"no image in {folder} is large enough for {patch_size}px patches at x{s}")
        # Sample images in proportion to their number of patch positions, as a sliding window would.
        self.weights = {
            s: np.array([(a.shape[0] - patch_size + 1) * (a.shape[1] - patch_size + 1) for a in items], float)
            for s, items in self.hr.items()
        }
        for w in self.weights.values():
            w /= w.sum()

    def sample(self, batch_size: int, rng: np.random.Generator) -> PatchBatch:
        """Draw ``batch_size`` random patches, scales mixed uniformly, with random dihedral augmentation.

        All random numbers are drawn in a few vectorised calls, so a batch of 64 takes a few
        milliseconds and a handful of DataLoader workers keep up with a GPU.
        """
        p = self.patch_size
        lr = np.empty((batch_size, 1, p, p), np.float32)
        hr = np.empty_like(lr)
        scales = rng.choice(self.scales, size=batch_size)
        image = np.empty(batch_size, np.int64)
        for s in self.scales:
            picked = scales == s
            image[picked] = rng.choice(len(self.hr[s]), size=int(picked.sum()), p=self.weights[s])
        offsets = rng.random((batch_size, 2))
        rots, flips = rng.integers(0, 4, batch_size), rng.integers(0, 2, batch_size)
        kinds = rng.choice(len(self.specs), size=batch_size, p=self.shares)
        versions = rng.random(batch_size)
        for i, (s, k) in enumerate(zip(scales, image, strict=True)):
            hr_y, options = self.hr[s][k], self.lr[s][k][kinds[i]]
            lr_y = options[int(versions[i] * len(options))]
            top = int(offsets[i, 0] * (hr_y.shape[0] - p + 1))
            left = int(offsets[i, 1] * (hr_y.shape[1] - p + 1))
            for dst, src in ((hr, hr_y), (lr, lr_y)):
                patch = np.rot90(src[top : top + p, left : left + p], rots[i])
                dst[i, 0] = patch[:, ::-1] if flips[i] else patch
        return PatchBatch(lr=lr, hr=hr, scales=scales)


class PatchStream(IterableDataset):
    """The batches of steps ``start .. stop-1`` for one rank, as (lr, hr, scales) tensors.

    Batch ``step`` is drawn with ``default_rng([seed, rank, step])``, so the data depend
    only on the step, never on how many loader workers there are or where a run resumed.
    Worker ``k`` of ``W`` makes steps ``start + k, start + k + W, ...``; a DataLoader hands
    workers' items out round-robin, so the batches still arrive in step order.
    """

    def __init__(self, bank: PatchBank, batch_size: int, *, seed: int, rank: int, start: int, stop: int) -> None:
        super().__init__()
        self.bank, self.batch_size = bank, batch_size
        self.seed, self.rank, self.start, self.stop = seed, rank, start, stop

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        for step in range(self.start + worker, self.stop, workers):
            batch = self.bank.sample(self.batch_size, np.random.default_rng([self.seed, self.rank, step]))
            yield torch.from_numpy(batch.lr), torch.from_numpy(batch.hr), torch.from_numpy(batch.scales)
