"""Model definitions."""

from vdsr.models.vdsr import ARCHS, VDSR, build_model, count_parameters

__all__ = ["ARCHS", "VDSR", "build_model", "count_parameters"]
