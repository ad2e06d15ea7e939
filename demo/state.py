"""What the app holds from start to exit: its limits, its models and its work folder, made once by ``build_demo``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from demo.limits import AppLimits
from demo.models import ModelCatalog
from demo.workdir import WorkDir

__all__ = ["AppState"]


@dataclass(frozen=True)
class AppState:
    """Read-only after start-up and shared by every request; requests keep their own state to themselves."""

    limits: AppLimits
    models: ModelCatalog
    work: WorkDir

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AppState:
        """Read the limits and the model from the environment, then create the work folder (removed at exit).

        Raises:
            demo.errors.SetupError: a ``VDSR_APP_*`` limit or ``$VDSR_MODEL`` is unusable; the message is one line.
        """
        limits = AppLimits.from_env(environ)
        models = ModelCatalog.discover(environ)
        return cls(limits, models, WorkDir.create())
