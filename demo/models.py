"""Which models the app offers, and how a request's (model, engine) becomes an upscaler.

Engines are built once per (engine, checkpoint) by :func:`engines.create_engine`, which caches
them; an :class:`~vdsr.pipeline.Upscaler` around one is cheap (a checkpoint header read), so each
request builds its own with that request's limits and nothing request-specific is shared.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import gradio as gr

from demo.errors import SetupError
from engines import ENGINES, load_upscaler
from vdsr.checkpoint import CheckpointError, read_checkpoint_info, read_model_config
from vdsr.engine import EngineUnavailableError
from vdsr.pipeline import UpscaleLimits, Upscaler
from vdsr.weights import DEFAULT_MODEL, WEIGHTS_DIR, resolve_model, shipped_models

__all__ = ["MODEL_ENV", "MODELS_TABLE_HEADERS", "ModelCatalog", "engine_choices"]

log = logging.getLogger(__name__)

MODEL_ENV = "VDSR_MODEL"
MODELS_TABLE_HEADERS = ["model", "layers", "trained scales", "PSNR recorded in the checkpoint"]


def engine_choices() -> list[str]:
    """``auto`` and every registered backend."""
    return ["auto", *ENGINES.names()]


@dataclass(frozen=True)
class ModelCatalog:
    """Model name -> checkpoint, in menu order: the chosen model first, then every shipped one."""

    paths: Mapping[str, Path]

    @classmethod
    def discover(cls, environ: Mapping[str, str] = os.environ) -> ModelCatalog:
        """``$VDSR_MODEL`` (a shipped name or a checkpoint path) if set, then every checkpoint in ``weights/``.

        Raises:
            SetupError: ``$VDSR_MODEL`` names no readable VDSR checkpoint.
        """
        paths: dict[str, Path] = {}
        chosen = environ.get(MODEL_ENV)
        if chosen:
            try:
                path = resolve_model(chosen)
                read_model_config(path)  # a file that is not a VDSR checkpoint fails here, not at the first request
            except CheckpointError as exc:
                raise SetupError(f"{MODEL_ENV}: {exc}") from None
            paths[path.stem] = path
        for name in shipped_models():
            paths.setdefault(name, WEIGHTS_DIR / f"{name}.safetensors")
        if not paths:
            log.warning("no model weights: ship weights/%s.safetensors or set %s", DEFAULT_MODEL, MODEL_ENV)
        return cls(MappingProxyType(paths))

    def choices(self) -> list[str]:
        """Names offered in the model menu, default first (the default name alone if none is installed)."""
        return list(self.paths) or [DEFAULT_MODEL]

    def default(self) -> str:
        """The model used when a request names none."""
        return next(iter(self.paths), DEFAULT_MODEL)

    def upscaler(self, model: str | None, engine: str | None, limits: UpscaleLimits, *, ensemble: bool) -> Upscaler:
        """The upscaler for one request, optionally with the x8 self-ensemble; gr.Error says why it cannot be had."""
        model = model or self.default()
        engine = engine or "auto"
        if not self.paths:
            raise gr.Error(f"No model weights installed: add weights/{DEFAULT_MODEL}.safetensors or set {MODEL_ENV}.")
        if model not in self.paths:
            raise gr.Error(f"Unknown model {model!r}; available: {', '.join(self.paths)}.")
        if engine not in engine_choices():
            raise gr.Error(f"Unknown engine {engine!r}; available: {', '.join(engine_choices())}.")
        try:
            return load_upscaler(self.paths[model], engine, ensemble=ensemble, limits=limits)
        except (CheckpointError, EngineUnavailableError, KeyError, ValueError, RuntimeError, OSError) as exc:
            # Engines raise their own ValueError/RuntimeError subclasses (bad model file, runtime missing, export
            # failed); the user needs the reason, and another engine or model may still work.
            raise gr.Error(f"Cannot load model {model} with engine {engine}: {exc}") from None

    def warm_up(self, limits: UpscaleLimits) -> None:
        """Build the default model's ``auto`` engine now, so the first request does not pay for it."""
        if self.paths:
            self.upscaler(self.default(), "auto", limits, ensemble=False)
            log.info("loaded model %s (%s)", self.default(), self.paths[self.default()])

    def table(self) -> list[list[Any]]:
        """One row per offered model (see :data:`MODELS_TABLE_HEADERS`): the PSNR is what its checkpoint records."""
        rows = []
        for name, path in self.paths.items():
            try:
                info = read_checkpoint_info(path)
            except CheckpointError as exc:
                rows.append([name, "?", "?", f"unreadable: {exc}"])
                continue
            evaluation = info.evaluation or {}
            scores = evaluation.get("psnr", {})
            measured = ", ".join(f"x{k}: {v:.2f} dB" for k, v in scores.items()) if isinstance(scores, dict) else ""
            where = f" on {evaluation['set']}" if measured and "set" in evaluation else ""
            rows.append([name, info.config.depth, ", ".join(f"x{s:g}" for s in info.scales), (measured + where) or "-"])
        return rows
