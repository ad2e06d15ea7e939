"""The one way a model becomes an :class:`~vdsr.pipeline.Upscaler`.

The tile halo must cover the network's receptive field, and only the model knows it, so every
upscaler with a network is built here, from the model itself: a shipped name, a checkpoint or
ONNX export path, or a network in memory.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from torch import nn

from engines.torch_ import TorchEngine, TorchOptions
from vdsr.checkpoint import read_model_config
from vdsr.engine import Engine
from vdsr.ensemble import SelfEnsemble
from vdsr.models import VDSR
from vdsr.pipeline import UpscaleLimits, Upscaler
from vdsr.weights import resolve_model

__all__ = ["load_upscaler"]

ModelRef = str | Path | VDSR | None


def load_upscaler(
    model: ModelRef = None,
    engine: str | Engine = "auto",
    *,
    tile: int | None = None,
    ensemble: bool = False,
    limits: UpscaleLimits | None = None,
) -> Upscaler:
    """An Upscaler for ``model`` run by ``engine``.

    Args:
        model: a shipped name (``vdsr-20``), a checkpoint or VDSR ``.onnx`` path, a :class:`VDSR`
            network in memory (run by PyTorch in fp32, as training scores it), or None for the default.
        engine: ``auto``, a backend name, or an engine already built for this model (benchmarks and
            int8 checks build their own); the model still supplies the halo.
        tile: tile size in output pixels; overrides ``limits.tile``.
        ensemble: average the x8 flips and rotations (:class:`vdsr.ensemble.SelfEnsemble`).
        limits: size bounds (default :class:`UpscaleLimits`).
    """
    from engines import create_engine  # the package imports this module

    if isinstance(model, nn.Module):
        radius = model.config.receptive_radius
        if isinstance(engine, str) and engine not in ("auto", "torch"):
            raise ValueError(f"a network in memory runs on torch, not {engine!r}; export it first")
        refine = TorchEngine(model, TorchOptions(precision="fp32")) if isinstance(engine, str) else engine
    else:
        path = resolve_model(model).resolve()
        radius = read_model_config(path).receptive_radius
        refine = create_engine(engine, path) if isinstance(engine, str) else engine
    limits = limits or UpscaleLimits()
    if tile:
        limits = replace(limits, tile=tile)
    return Upscaler(SelfEnsemble(refine) if ensemble else refine, receptive_radius=radius, limits=limits)
