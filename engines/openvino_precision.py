"""Which layers OpenVINO's CPU plugin runs in which precision, and keeping chosen layers in fp32.

With ``INFERENCE_PRECISION_HINT`` bf16 the CPU plugin lowers every convolution, the first one
included, so the input luma is rounded to bf16 before it is convolved: on an AMD EPYC with
AVX512-BF16 that alone cost 0.066 dB on Set5 at x4. The plugin leaves a node alone when its
rt_info holds a ``DisablePrecisionConversion`` attribute. Python can only put plain strings into
rt_info, which the plugin ignores; the IR reader turns the same attribute, written into the
layer's ``<rt_info>`` in the ``.xml``, into the real one. So the model is saved as IR, the
attribute is written there, and the IR is read back (:func:`keep_in_fp32`). OpenVINO 2026.4's
CPU plugin honours the ``dynamic:f16`` form (no lowering to any 16-bit type) for bf16 as well;
``dynamic:bf16`` is ignored.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["KEEP_ATTRIBUTE", "LayerPrecision", "first_convolution", "keep_in_fp32", "runtime_precisions"]

# The attribute as the IR serialises it: name, version, value (no conversion from any type to 16 bits).
KEEP_ATTRIBUTE = {"name": "DisablePrecisionConversion", "version": "0", "value": "dynamic:f16"}


@dataclass(frozen=True)
class LayerPrecision:
    """One layer of a compiled model as the plugin runs it: its type, the source nodes fused into it,
    and the precision its kernel computes in (``f32``, ``bf16``, ``u8``/``i8`` for int8 kernels)."""

    layer_type: str
    original_names: tuple[str, ...]
    precision: str


def first_convolution(ov_model: Any) -> str:
    """The friendly name of the convolution that reads the input image (the first in topological order).

    Raises:
        ValueError: the model has no convolution.
    """
    for op in ov_model.get_ordered_ops():
        if op.get_type_name() == "Convolution":
            return str(op.get_friendly_name())
    raise ValueError("the model has no Convolution")


def keep_in_fp32(core: Any, ov_model: Any, names: Iterable[str]) -> Any:
    """A copy of ``ov_model`` whose layers ``names`` the CPU plugin keeps in fp32 under a bf16 or f16 hint.

    Raises:
        ValueError: a name is not a layer of the model.
    """
    import openvino as ov

    wanted = set(names)
    with tempfile.TemporaryDirectory() as tmp:
        xml_path = Path(tmp) / "model.xml"
        ov.save_model(ov_model, str(xml_path), compress_to_fp16=False)
        tree = ET.parse(xml_path)
        found = set()
        for layer in tree.getroot().iter("layer"):
            if layer.get("name") not in wanted:
                continue
            rt_info = layer.find("rt_info")
            if rt_info is None:
                rt_info = ET.SubElement(layer, "rt_info")
            ET.SubElement(rt_info, "attribute", KEEP_ATTRIBUTE)
            found.add(layer.get("name"))
        missing = wanted - found
        if missing:
            raise ValueError(f"no layer named {', '.join(sorted(missing))} in the model")
        weights = np.fromfile(xml_path.with_suffix(".bin"), dtype=np.uint8)
        # Read from memory: nothing in the returned model refers to the temporary files.
        return core.read_model(ET.tostring(tree.getroot(), encoding="unicode"), ov.Tensor(weights))


def runtime_precisions(compiled: Any) -> list[LayerPrecision]:
    """Every layer of a compiled model with the precision the plugin runs it in (its execution graph)."""
    layers = []
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        names = str(info["originalLayersNames"].astype(str))
        layers.append(
            LayerPrecision(
                layer_type=str(info["layerType"].astype(str)),
                original_names=tuple(n for n in names.split(",") if n),
                precision=str(info["runtimePrecision"].astype(str)),
            )
        )
    return layers
