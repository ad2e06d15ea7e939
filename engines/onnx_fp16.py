"""The fp16 ONNX pass for TensorRT 11, which has no precision flags: precision comes from the ONNX itself.

Needs only ``onnx``, so it runs and is tested on any machine; :func:`engines.trt_build.build_engine`
applies it before a strongly typed build.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from vdsr.checkpoint import read_onnx_metadata

if TYPE_CHECKING:
    import onnx

__all__ = ["FP16_OPS", "convert_to_fp16"]

# The ops a VDSR export holds (after BatchNorm folding), all safe to run in fp16.
FP16_OPS = frozenset({"Conv", "Relu", "Add", "Sub", "Mul", "Identity", "LeakyRelu", "PRelu", "Clip", "Max", "Min"})


def convert_to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A mixed-precision copy of an fp32 VDSR export, for TensorRT 11's strongly typed networks.

    Nodes that read a graph input (the head convolution, the global residual add)
    or write a graph output stay fp32, so the image itself is never rounded to
    fp16 and the I/O stays float32; every other node and its weights become fp16,
    with Cast nodes at the two boundaries. Only the element-wise and convolution
    ops a VDSR export contains are supported.

    Written here rather than taken from onnxconverter-common: the graph is a plain
    chain of Conv/Relu/Add, and ~50 lines avoid a dependency the CPU-only machines
    would need just for this test.

    Raises:
        ValueError: the graph holds an op this conversion does not handle.
    """
    import onnx
    from onnx import TensorProto, numpy_helper

    from engines.onnx_export import strip_noop_casts

    out = onnx.ModelProto()
    out.CopyFrom(model)
    strip_noop_casts(out)
    graph = out.graph
    unsupported = sorted({n.op_type for n in graph.node} - FP16_OPS)
    if unsupported:
        raise ValueError(f"fp16 conversion supports {sorted(FP16_OPS)}; this graph also has {unsupported}")
    graph_inputs = {v.name for v in graph.input}
    graph_outputs = {v.name for v in graph.output}
    inits = {t.name: t for t in graph.initializer}
    dtype = {v.name: v.type.tensor_type.elem_type for v in graph.input}
    dtype.update({name: t.data_type for name, t in inits.items()})

    def target_of(node: onnx.NodeProto) -> int:
        touches_io = any(i in graph_inputs for i in node.input) or any(o in graph_outputs for o in node.output)
        return TensorProto.FLOAT if touches_io else TensorProto.FLOAT16

    targets = [target_of(n) for n in graph.node]
    users: dict[str, set[int]] = defaultdict(set)
    for node, target in zip(graph.node, targets, strict=True):
        for name in node.input:
            if name in inits and inits[name].data_type == TensorProto.FLOAT:
                users[name].add(target)
    half_name: dict[str, str] = {}
    new_inits = []
    for name, tensor in inits.items():
        wanted = users.get(name, set())
        if TensorProto.FLOAT in wanted or not wanted:
            new_inits.append(tensor)
        if TensorProto.FLOAT16 in wanted:
            half_name[name] = name if TensorProto.FLOAT not in wanted else f"{name}_fp16"
            half = numpy_helper.to_array(tensor).astype(np.float16)
            new_inits.append(numpy_helper.from_array(half, half_name[name]))

    nodes: list[onnx.NodeProto] = []
    casts: dict[tuple[str, int], str] = {}

    def cast(name: str, to: int) -> str:
        if dtype.get(name) == to or dtype.get(name) not in (TensorProto.FLOAT, TensorProto.FLOAT16):
            return name
        if (name, to) not in casts:
            suffix = "fp16" if to == TensorProto.FLOAT16 else "fp32"
            new = f"{name}_{suffix}"
            nodes.append(onnx.helper.make_node("Cast", [name], [new], to=to, name=f"cast_{new}"))
            dtype[new] = to
            casts[(name, to)] = new
        return casts[(name, to)]

    for node, target in zip(graph.node, targets, strict=True):
        new_inputs = []
        for name in node.input:
            if target == TensorProto.FLOAT16 and name in half_name:
                new_inputs.append(half_name[name])
            else:
                new_inputs.append(cast(name, target) if name else name)
        node.input[:] = new_inputs
        for name in node.output:
            dtype[name] = target
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    del graph.value_info[:]
    out = onnx.shape_inference.infer_shapes(out, strict_mode=True)
    onnx.checker.check_model(out)
    meta = read_onnx_metadata(out)
    meta["vdsr.dtype"] = "float16 (head conv, global residual add and I/O in float32)"
    onnx.helper.set_model_props(out, meta)
    return out
