"""Model definitions."""

from vdsr.models.vdsr import ARCHS, PRESETS, VDSR, build_model, count_parameters

__all__ = ["ARCHS", "PRESETS", "VDSR", "build_model", "count_parameters"]
