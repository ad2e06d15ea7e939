"""The VDSR engine contract every backend checks: one float (N, 1, H, W) input and output, clear errors.

A model file that does not fit, or an input that does not fit the model, is refused with one line
that names the file, the tensor and the shape, instead of a runtime's own message.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EngineFileError", "EngineMismatchError", "check_input", "check_io", "require_file"]


class EngineFileError(ValueError):
    """An engine's model file is missing or unreadable."""


class EngineMismatchError(EngineFileError):
    """A model file (or an input) does not fit the VDSR engine contract: one float input
    and one float output of shape (N, 1, H, W), with the expected names and sizes."""


def require_file(engine: str, path: str | Path) -> Path:
    """``path`` as a Path, or :class:`EngineFileError` (one line) when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise EngineFileError(f"{engine}: model file not found: {path}")
    return path


def check_io(
    engine: str,
    source: Path,
    inputs: Sequence[tuple[str, Sequence[object]]],
    outputs: Sequence[tuple[str, Sequence[object]]],
    *,
    expected_input: str | None = None,
) -> tuple[str, str]:
    """Check a model's I/O against the VDSR contract and return (input name, output name).

    Args:
        engine: backend name for messages.
        source: the model file, for messages.
        inputs, outputs: (name, shape) per tensor; a dimension is an int, or
            anything else (None, a string, -1) for a dynamic one.
        expected_input: the input name the file's metadata declares, if any.

    Raises:
        EngineMismatchError: not exactly one input and one output of rank 4 with 1 channel,
            or an input name that differs from ``expected_input``.
    """
    if len(inputs) != 1 or len(outputs) != 1:
        raise EngineMismatchError(
            f"{engine}: {source.name} has {len(inputs)} input(s) and {len(outputs)} output(s); "
            "a VDSR engine has exactly one of each"
        )
    for kind, (name, shape) in (("input", inputs[0]), ("output", outputs[0])):
        dims = list(shape)
        if len(dims) != 4 or (isinstance(dims[1], int) and dims[1] not in (-1, 1)):
            raise EngineMismatchError(
                f"{engine}: {source.name} {kind} {name!r} has shape {dims}; expected (N, 1, H, W) luma"
            )
    in_name, out_name = inputs[0][0], outputs[0][0]
    if expected_input is not None and in_name != expected_input:
        raise EngineMismatchError(
            f"{engine}: {source.name} input is named {in_name!r} but its metadata says {expected_input!r}"
        )
    return in_name, out_name


def check_input(
    engine: str,
    y: np.ndarray,
    static: Sequence[object] = (None, 1, None, None),
    low: Sequence[int] | None = None,
    high: Sequence[int] | None = None,
) -> np.ndarray:
    """Validate a call's input and return it as contiguous float32.

    Args:
        engine: backend name for messages.
        y: the input, (N, 1, H, W).
        static: the model's input shape; int entries (other than -1) must match exactly.
        low, high: optional inclusive per-dimension bounds (a TensorRT optimisation profile).

    Raises:
        EngineMismatchError: the input does not fit the model.
    """
    if y.ndim != 4 or y.shape[1] != 1:
        raise EngineMismatchError(f"{engine}: input has shape {tuple(y.shape)}; expected (N, 1, H, W) luma")
    for axis, (got, want) in enumerate(zip(y.shape, static, strict=True)):
        if isinstance(want, int) and want >= 0 and got != want:
            raise EngineMismatchError(
                f"{engine}: input shape {tuple(y.shape)} does not fit the model's fixed shape "
                f"{tuple(static)} (axis {axis})"
            )
    if (
        low is not None
        and high is not None
        and not all(lo <= got <= hi for got, lo, hi in zip(y.shape, low, high, strict=True))
    ):
        raise EngineMismatchError(
            f"{engine}: input shape {tuple(y.shape)} is outside the engine's profile "
            f"{tuple(low)}..{tuple(high)}; rebuild it with larger --max-shape or lower the tile size"
        )
    return np.ascontiguousarray(y, dtype=np.float32)
