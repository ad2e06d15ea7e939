"""What the app holds from start to exit: its limits, its models and its work folder, made once by ``build_demo``."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from demo.engine_menu import AUTO_ENGINE, EngineMenu
from demo.limits import AppLimits
from demo.models import ModelCatalog, ModelPick, Run
from demo.speed_log import SpeedLog
from demo.workdir import WorkDir

__all__ = ["AppState"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    """Shared by every request and read-only after start-up, but for the measured speeds (kept under a lock)."""

    limits: AppLimits
    models: ModelCatalog
    work: WorkDir
    engines: EngineMenu
    speeds: SpeedLog = field(default_factory=SpeedLog)  # measured by requests, for video time estimates

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AppState:
        """Read the limits and the models from the environment, find which engines run here (by building them
        for the first model), then create the work folder (removed at exit).

        Raises:
            demo.errors.SetupError: a ``VDSR_APP_*`` limit or ``$VDSR_MODEL`` is unusable; the message is one line.
        """
        limits = AppLimits.from_env(environ)
        models = ModelCatalog.discover(environ)
        engines = EngineMenu.probe(models.first_path())
        return cls(limits, models, WorkDir.create(), engines)

    def run(self, pick: ModelPick, engine: str | None, *, ensemble: bool = False) -> Run:
        """The upscaler for one request, bounded by the app's limits (the x8 self-ensemble has its own)."""
        limits = self.limits.upscale_limits(ensemble=ensemble)
        return self.models.run(pick, engine or AUTO_ENGINE, limits, self.engines.values(), ensemble=ensemble)

    def warm_up(self) -> None:
        """Build every model's ``auto`` engine now (measuring it on first use), so no first request waits:
        a JPEG or a video gets ``vdsr-20-real``, a PNG ``vdsr-20``."""
        for name in self.models.paths:
            run = self.run(ModelPick(name, "warm-up"), AUTO_ENGINE)
            log.info("loaded model %s on %s", name, run.engine)
