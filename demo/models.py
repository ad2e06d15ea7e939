"""Which models the app offers, which one a request runs, and how (model, engine) becomes an upscaler.

Engines are built once per (engine, checkpoint) by :func:`engines.create_engine`, which caches
them; an :class:`~vdsr.pipeline.Upscaler` around one is cheap (a checkpoint header read), so each
request builds its own with that request's limits and nothing request-specific is shared.

The menu's ``automatic`` choice follows the input through :func:`vdsr.weights.pick_model`: the
real-world model for video, HEIC, AVIF, lossy WebP and JPEGs below quality 88, a blend of the two for
lightly compressed JPEGs, and the clean one for the rest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from demo.errors import SetupError, user_error
from engines import create_engine, load_upscaler
from vdsr.checkpoint import CheckpointError, read_checkpoint_info, read_model_config
from vdsr.engine import EngineUnavailableError
from vdsr.input_kind import InputKind
from vdsr.pipeline import InputError, UpscaleLimits, Upscaler
from vdsr.weights import DEFAULT_MODEL, MODEL_DESCRIPTIONS, offered_models, pick_model, resolve_model

__all__ = ["AUTOMATIC", "MODEL_ENV", "MODELS_TABLE_HEADERS", "ModelCatalog", "ModelPick", "Run"]

log = logging.getLogger(__name__)

MODEL_ENV = "VDSR_MODEL"
AUTOMATIC = "auto"
MODELS_TABLE_HEADERS = ["model", "what it is for", "layers", "trained scales", "PSNR recorded in the checkpoint"]
_AUTOMATIC_LABEL = "automatic (follows the input)"
_CHOSEN = "chosen in the menu"


def _sentence(exc: Exception) -> str:
    """The core's lower-case reason as a sentence."""
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


@dataclass(frozen=True)
class ModelPick:
    """The model a request runs and why, in a user's words."""

    name: str
    reason: str


@dataclass(frozen=True)
class Run:
    """An upscaler for one request, and what it runs: the model, why, and the backend that runs it."""

    upscaler: Upscaler
    model: ModelPick
    engine: str
    precision: str
    ensemble: bool = False

    def pair(self, img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(bicubic, VDSR) from one resize; a size or scale the upscaler refuses becomes a one-line error."""
        try:
            return self.upscaler.upscale_pair(img, scale)
        except InputError as exc:
            raise user_error(_sentence(exc)) from None

    def output_size(self, height: int, width: int, scale: float) -> tuple[int, int]:
        """The output (height, width) for an input of this size, if within the limits; else a one-line error."""
        try:
            return self.upscaler.check(height, width, scale)
        except InputError as exc:
            raise user_error(_sentence(exc)) from None

    def describe(self) -> str:
        """One line for under a result: ``Model vdsr-20: <why>. Ran on onnxruntime (fp32).``"""
        backend = f"{self.engine} ({self.precision})" if self.precision else self.engine
        extra = ", x8 self-ensemble" if self.ensemble else ""
        return f"Model {self.model.name}: {self.model.reason}. Ran on {backend}{extra}."


@dataclass(frozen=True)
class ModelCatalog:
    """Model name -> checkpoint, in menu order: ``$VDSR_MODEL`` first (then the default), then every shipped one."""

    paths: Mapping[str, Path]
    pinned: bool = False  # $VDSR_MODEL names the default instead of the automatic choice

    @classmethod
    def discover(cls, environ: Mapping[str, str] = os.environ) -> ModelCatalog:
        """``$VDSR_MODEL`` (a shipped name or a checkpoint path) if set, then every model offered by name.

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
        for name in offered_models():
            try:
                paths.setdefault(name, resolve_model(name))
            except (CheckpointError, OSError) as exc:  # a blend that cannot be written to the cache
                log.warning("not offering %s: %s", name, exc)
        if not paths:
            log.warning("no model weights: ship weights/%s.safetensors or set %s", DEFAULT_MODEL, MODEL_ENV)
        return cls(MappingProxyType(paths), pinned=bool(chosen))

    def description(self, name: str) -> str:
        """What a model is for: the shipped description, else where it comes from."""
        if name in MODEL_DESCRIPTIONS:
            return MODEL_DESCRIPTIONS[name]
        return f"the checkpoint set by {MODEL_ENV}"

    def menu(self) -> list[tuple[str, str]]:
        """(label, value) pairs for the model menu: automatic, then each model with what it is for."""
        models = [(f"{name}: {self.description(name)}", name) for name in self.paths]
        automatic = (_AUTOMATIC_LABEL, AUTOMATIC)
        return [*models[:1], automatic, *models[1:]] if self.pinned else [automatic, *models]

    def values(self) -> list[str]:
        """The values the model menu accepts."""
        return [value for _, value in self.menu()]

    def default(self) -> str:
        """The menu value used when a request names none: ``$VDSR_MODEL``'s model if set, else automatic."""
        return next(iter(self.paths)) if self.pinned else AUTOMATIC

    def pick(self, choice: str | None, kind: InputKind, context: str = "") -> ModelPick:
        """The model a request runs: the one chosen, or for ``automatic`` the best for ``kind`` of input.

        ``context`` goes before an automatic pick's reason (compare mode names the damage it applied).
        """
        choice = choice or self.default()
        if not self.paths:
            raise user_error(f"No model weights installed: add weights/{DEFAULT_MODEL}.safetensors or set {MODEL_ENV}.")
        if choice != AUTOMATIC:
            if choice not in self.paths:
                raise user_error(f"Unknown model {choice!r}; available: {', '.join(self.values())}.")
            return ModelPick(choice, _CHOSEN)
        name, why = pick_model(kind)
        if name not in self.paths:  # only $VDSR_MODEL's checkpoint is installed
            name, why = next(iter(self.paths)), f"{why}, but {name} is not installed"
        return ModelPick(name, f"{context}, {why}" if context else why)

    def run(self, pick: ModelPick, engine: str, limits: UpscaleLimits, engines: list[str], *, ensemble: bool) -> Run:
        """Build the upscaler for one request on ``engine`` (one of ``engines``, the menu's values)."""
        if engine not in engines:
            raise user_error(f"Unknown engine {engine!r}; available here: {', '.join(engines)}.")
        path = self.paths[pick.name].resolve()
        try:
            backend = create_engine(engine, path)
            upscaler = load_upscaler(path, backend, ensemble=ensemble, limits=limits)
        except (CheckpointError, EngineUnavailableError, KeyError, ValueError, RuntimeError, OSError) as exc:
            # Engines raise their own ValueError/RuntimeError subclasses (bad model file, runtime missing, export
            # failed); the user needs the reason, and another engine or model may still work.
            raise user_error(f"Cannot load model {pick.name} with engine {engine}: {exc}") from None
        return Run(upscaler, pick, backend.name, str(getattr(backend, "precision", "") or ""), ensemble)

    def first_path(self) -> Path | None:
        """The checkpoint the app loads first, for warming up and for checking which engines run here."""
        return next(iter(self.paths.values()), None)

    def table(self) -> list[list[Any]]:
        """One row per offered model (see :data:`MODELS_TABLE_HEADERS`): the PSNR is what its checkpoint records."""
        rows: list[list[Any]] = []
        for name, path in self.paths.items():
            try:
                info = read_checkpoint_info(path)
            except CheckpointError as exc:
                rows.append([name, self.description(name), "?", "?", f"unreadable: {exc}"])
                continue
            evaluation = info.evaluation or {}
            scores = evaluation.get("psnr", {})
            measured = ", ".join(f"x{k}: {v:.2f} dB" for k, v in scores.items()) if isinstance(scores, dict) else ""
            where = f" on {evaluation['set']}" if measured and "set" in evaluation else ""
            scales = ", ".join(f"x{s:g}" for s in info.scales)
            rows.append([name, self.description(name), info.config.depth, scales, (measured + where) or "-"])
        return rows
