"""Export a VDSR checkpoint to one self-contained, verified ONNX file.

The exported graph takes ``y`` (float32, N x 1 x H x W, luma in [0, 1]) and
returns ``out`` of the same shape; batch, height and width are dynamic.
BatchNorm is folded into the preceding convolution before export, so a ``bn``
or ``resbn`` model exports to plain Conv/Relu/Add. Before anything is written
the model passes ``onnx.checker`` and matches PyTorch (max abs difference
<= 1e-4) on a real image run through ONNX Runtime.

The model's provenance travels in ``metadata_props`` (keys start ``vdsr.``),
so engines never need the training config; :func:`vdsr.checkpoint.read_onnx_metadata`
reads it back. Lives in the runtime package because the ONNX backends export a
checkpoint on first use (:mod:`engines.onnx_cache`); ``export/to_onnx.py`` is its shell.

Uses the TorchScript-based exporter (``dynamo=False``): in torch 2.13 it still
works (with a DeprecationWarning), while the torch.export-based exporter needs
the extra ``onnxscript`` package that this project does not depend on.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from engines.shipped import set5_images
from vdsr.checkpoint import load_checkpoint, read_onnx_metadata
from vdsr.color import rgb_to_y
from vdsr.models import VDSR

__all__ = [
    "DEFAULT_OPSET",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "ExportError",
    "ExportReport",
    "export_onnx",
    "fold_batchnorm",
    "reference_luma",
    "save_onnx",
    "strip_noop_casts",
    "to_onnx_model",
    "verify_onnx",
]

log = logging.getLogger(__name__)

DEFAULT_OPSET = 17
INPUT_NAME = "y"
OUTPUT_NAME = "out"
EXPORT_FORMAT = "vdsr-onnx/1"
_REPO_ROOT = Path(__file__).resolve().parent.parent
_DYNAMIC_AXES = {0: "batch", 2: "height", 3: "width"}


class ExportError(ValueError):
    """The model could not be exported, or the export failed its checks."""


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_onnx` wrote and how it was checked."""

    path: Path
    max_abs_diff: float
    checked_on: str
    opset: int
    bn_folded: int


def fold_batchnorm(model: VDSR) -> tuple[VDSR, int]:
    """Return an eval-mode copy of ``model`` with every Conv2d -> BatchNorm2d pair fused.

    The convolution gains a bias and the BatchNorm becomes ``nn.Identity``; the
    input model is not modified. Works for the ``bn`` and ``resbn`` variants (and
    is a no-op for ``plain``).

    Returns:
        (folded model, number of BatchNorm layers folded).
    """
    folded = copy.deepcopy(model).eval()
    count = 0
    for module in folded.modules():
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for first, second in zip(names, names[1:], strict=False):
            conv, bn = module._modules[first], module._modules[second]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module._modules[first] = fuse_conv_bn_eval(conv, bn)
                module._modules[second] = nn.Identity()
                count += 1
    leftover = [m for m in folded.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if leftover:
        raise ExportError(f"{len(leftover)} BatchNorm layer(s) do not follow a Conv2d and cannot be folded")
    return folded, count


def strip_noop_casts(model: onnx.ModelProto) -> onnx.ModelProto:
    """Remove ``Cast(to=FLOAT)`` nodes whose input is already float32 (the exporter emits
    them for ``.float()`` calls in ``VDSR.forward``). Modifies and returns ``model``."""
    graph = model.graph
    float_tensors = {v.name for v in graph.input if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    float_tensors |= {t.name for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    kept = []
    for node in graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        if node.op_type == "Cast" and to == onnx.TensorProto.FLOAT and node.input[0] in float_tensors:
            if node.output[0] in outputs:  # keep the graph output's name stable
                kept.append(onnx.helper.make_node("Identity", [node.input[0]], [node.output[0]], name=node.name))
            else:
                rename[node.output[0]] = node.input[0]
            float_tensors.add(node.output[0])
            continue
        if node.op_type in {"Conv", "Relu", "Add", "Identity"} and all(i in float_tensors for i in node.input if i):
            float_tensors.update(node.output)
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    return model


def reference_luma(max_side: int = 256) -> tuple[np.ndarray, str]:
    """A real image to check exports on: Set5 ``butterfly`` (256x256, whole) as luma.

    Returns:
        (float32 array (1, 1, h, w) in [0, 1] with h, w <= ``max_side``, description).
        Falls back to a deterministic synthetic image (logged) when no Set5 image is found.
    """
    found = set5_images()
    if found is None:
        log.warning("no Set5 image found: checking the export on a synthetic image instead")
        yy, xx = np.mgrid[0:max_side, 0:max_side].astype(np.float32) / max_side
        rng = np.random.default_rng(0)
        y = 0.5 + 0.3 * np.sin(12 * xx) * np.cos(9 * yy) + 0.05 * rng.standard_normal(xx.shape)
        return np.clip(y, 0, 1).astype(np.float32)[None, None], f"synthetic {max_side}x{max_side}"
    images = dict(found)
    name = "butterfly" if "butterfly" in images else sorted(images)[0]
    y = rgb_to_y(images[name].astype(np.float32) / 255.0)
    h, w = y.shape
    top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
    crop = np.ascontiguousarray(y[top : top + max_side, left : left + max_side], dtype=np.float32)
    part = "whole image" if crop.shape == y.shape else "centre crop"
    return crop[None, None], f"Set5/{name} {crop.shape[1]}x{crop.shape[0]} {part}"


def _git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def to_onnx_model(
    model: VDSR, *, opset: int = DEFAULT_OPSET, scales: tuple[float, ...] = (), source: str = ""
) -> tuple[onnx.ModelProto, int]:
    """Fold BatchNorm and trace ``model`` to an in-memory ONNX model with metadata.

    Returns:
        (ONNX model, number of BatchNorm layers folded).
    """
    folded, n_bn = fold_batchnorm(model)
    folded = folded.float().cpu()
    dummy = torch.rand(1, 1, 32, 32)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # TorchScript exporter: see module doc
        torch.onnx.export(
            folded,
            (dummy,),
            buf,  # type: ignore[arg-type]  # a file object works; the stubs name only paths
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: _DYNAMIC_AXES, OUTPUT_NAME: _DYNAMIC_AXES},
            do_constant_folding=True,
        )
    proto = strip_noop_casts(onnx.load_from_string(buf.getvalue()))
    proto.producer_name = "vdsr-toolkit"
    proto.doc_string = (
        f"VDSR luma refiner {model.config.name}: {INPUT_NAME} (N,1,H,W) float32 in [0,1] -> {OUTPUT_NAME}"
    )
    meta = {
        "vdsr.format": EXPORT_FORMAT,
        "vdsr.config": model.config.to_json(),
        "vdsr.name": model.config.name,
        "vdsr.scales": json.dumps([float(s) for s in scales]),
        "vdsr.opset": str(opset),
        "vdsr.dtype": "float32",
        "vdsr.input": INPUT_NAME,
        "vdsr.output": OUTPUT_NAME,
        "vdsr.receptive_radius": str(model.config.receptive_radius),
        "vdsr.bn_folded": str(n_bn),
        "vdsr.git_sha": _git_sha(),
        "vdsr.torch": torch.__version__,
        "vdsr.source": source,
    }
    onnx.helper.set_model_props(proto, meta)
    return proto, n_bn


def verify_onnx(proto: onnx.ModelProto, reference: nn.Module, y: np.ndarray, *, atol: float = 1e-4) -> float:
    """Check ``proto`` with onnx.checker and compare it with ``reference`` on ``y`` in ONNX Runtime.

    Args:
        proto: the model to check.
        reference: the PyTorch model it was exported from (un-folded, eval mode).
        y: float32 (N, 1, H, W) luma in [0, 1].
        atol: the largest allowed absolute difference.

    Returns:
        The max absolute difference.

    Raises:
        ExportError: the checker rejects the model or the outputs differ by more than ``atol``.
    """
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"onnx.checker rejected the export: {str(exc).splitlines()[0]}") from None
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError("verifying an export needs onnxruntime (pip install onnxruntime)") from None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: y})[0]
    with torch.inference_mode():
        want = reference.eval().float().cpu()(torch.from_numpy(y)).numpy()
    if got.shape != want.shape:
        raise ExportError(f"ONNX output shape {got.shape} != PyTorch output shape {want.shape}")
    diff = float(np.abs(got - want).max())
    if not diff <= atol:
        raise ExportError(f"ONNX differs from PyTorch by {diff:.3g} (max abs) > {atol:g}; not writing it")
    return diff


def save_onnx(proto: onnx.ModelProto, out: Path) -> None:
    """Write ``proto`` as one self-contained file, atomically (a crash never leaves half a model)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # per process and thread: concurrent exports never collide
    tmp = out.with_name(f"{out.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    # One self-contained file: weights inline, never an external-data side file.
    onnx.save_model(proto, str(tmp), save_as_external_data=False)
    tmp.replace(out)


def export_onnx(
    model: VDSR | str | Path,
    out: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    atol: float = 1e-4,
    check_image: np.ndarray | None = None,
) -> ExportReport:
    """Export a VDSR model or checkpoint file to ``out``, verified before it is written.

    Args:
        model: a VDSR module or a ``.safetensors`` checkpoint path.
        out: the ``.onnx`` file to write (parent folders are created).
        opset: ONNX opset.
        atol: max abs difference allowed against PyTorch fp32.
        check_image: float32 (N, 1, H, W) luma in [0, 1] to verify on; default
            :func:`reference_luma` (a real Set5 image).

    Raises:
        ExportError: the export failed its checks (nothing is written).
        CheckpointError: ``model`` is a path that is not a valid checkpoint.
    """
    scales: tuple[float, ...] = ()
    source = "in-memory model"
    if not isinstance(model, VDSR):
        source = Path(model).name
        model, info = load_checkpoint(model)
        scales = info.scales
    model = model.eval().float().cpu()
    proto, n_bn = to_onnx_model(model, opset=opset, scales=scales, source=source)
    if check_image is None:
        check_image, checked_on = reference_luma()
    else:
        checked_on = f"given image {tuple(check_image.shape)}"
    diff = verify_onnx(proto, model, np.ascontiguousarray(check_image, dtype=np.float32), atol=atol)
    onnx.helper.set_model_props(
        proto, {**read_onnx_metadata(proto), "vdsr.checked_on": checked_on, "vdsr.max_abs_diff": f"{diff:.3g}"}
    )
    out = Path(out)
    save_onnx(proto, out)
    log.info("wrote %s (max abs diff %.3g on %s)", out, diff, checked_on)
    return ExportReport(path=out, max_abs_diff=diff, checked_on=checked_on, opset=opset, bn_folded=n_bn)
