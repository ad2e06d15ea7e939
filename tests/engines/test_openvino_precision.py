"""OpenVINO runs the precision it is asked for, as its compiled model reports, and bf16 keeps the first
convolution in fp32."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.candidates import Candidate
from engines.int8_qdq import quantize_qdq
from engines.onnx_cache import onnx_for
from engines.openvino_ import OpenVinoEngine, OpenVinoOptions
from engines.openvino_precision import LayerPrecision, first_convolution, keep_in_fp32
from tests.conftest import make_model
from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig

pytest.importorskip("openvino", reason="these tests read OpenVINO's compiled models")


def convolutions(engine: OpenVinoEngine) -> list[LayerPrecision]:
    """The compiled model's convolutions in execution order, each with the precision its kernel runs in."""
    return [layer for layer in engine.layer_precisions() if layer.layer_type == "Convolution"]


def hint(engine: OpenVinoEngine) -> str:
    return engine.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()


def bf16_or_skip(model: Path, **options: object) -> OpenVinoEngine:
    engine = OpenVinoEngine(model, OpenVinoOptions(precision="bf16", **options))  # type: ignore[arg-type]
    if hint(engine) != "bf16":
        pytest.skip(f"OpenVINO does not run bf16 on this CPU (the compiled model reports {hint(engine)})")
    return engine


def test_fp32_is_asked_for_and_runs_everywhere(tiny_checkpoint: Path) -> None:
    """The plugin's default on a CPU with native bf16 is bf16; the engine never leaves it to the default."""
    for engine in (OpenVinoEngine(tiny_checkpoint), Candidate("openvino", "fp32").build(tiny_checkpoint)):
        assert engine.options.precision == "f32" and hint(engine) == "f32" and engine.precision == "fp32"
        layers = convolutions(engine)
        assert len(layers) == 4 and {layer.precision for layer in layers} == {"f32"}
    with pytest.raises(ValueError, match="precision"):
        OpenVinoEngine(tiny_checkpoint, OpenVinoOptions(precision="auto"))


def test_bf16_keeps_the_first_convolution_in_fp32(tiny_checkpoint: Path) -> None:
    engine = bf16_or_skip(tiny_checkpoint)
    assert engine.precision == "bf16"
    first, *rest = convolutions(engine)
    assert first.original_names[0] == "/head/Conv" and first.precision == "f32"
    assert {layer.precision for layer in rest} == {"bf16"}
    # Without the attribute the plugin lowers the first convolution too: the attribute is what keeps it.
    plain = bf16_or_skip(tiny_checkpoint, keep_first_conv_fp32=False)
    assert {layer.precision for layer in convolutions(plain)} == {"bf16"}


def test_keep_in_fp32_names_real_layers(tiny_checkpoint: Path) -> None:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(onnx_for(tiny_checkpoint, "test")))
    assert first_convolution(model) == "/head/Conv"
    kept = keep_in_fp32(core, model, ["/head/Conv"])
    rt_info = next(op for op in kept.get_ordered_ops() if op.get_friendly_name() == "/head/Conv").get_rt_info()
    assert "DisablePrecisionConversion_0" in rt_info
    with pytest.raises(ValueError, match="no layer named /nope"):
        keep_in_fp32(core, model, ["/nope"])


@pytest.fixture
def six_layer_int8(tmp_path: Path, small_data: Path) -> Path:
    """A QDQ model of a six-convolution network whose first and last convolutions stay fp32."""
    from engines.calibration import calibration_patches

    checkpoint = save_checkpoint(
        tmp_path / "six.safetensors", make_model(ModelConfig(arch="plain", repeats=6, channels=8)), scales=[2]
    )
    patches = calibration_patches(small_data / "T91", count=4, size=48)
    return quantize_qdq(onnx_for(checkpoint, "test"), tmp_path / "six-int8.onnx", patches, keep_first=1)


def test_int8_runs_int8_kernels_and_its_fp32_layers_in_fp32(six_layer_int8: Path) -> None:
    """The int8 pair asks for f32: layers the quantiser left in fp32 must not drop to the plugin's bf16."""
    engine = OpenVinoEngine(six_layer_int8)
    assert hint(engine) == "f32" and engine.precision == "int8"
    precisions = [layer.precision for layer in convolutions(engine)]
    assert precisions[0] == precisions[-1] == "f32"  # kept in fp32 by the quantiser
    assert set(precisions[1:-1]) <= {"u8", "i8"} and precisions[1:-1]  # the rest run int8 kernels


def test_int8_with_bf16_runs_the_layers_left_in_float_in_bf16_but_the_first(six_layer_int8: Path) -> None:
    """``openvino:int8+bf16``: int8 kernels as before; the last convolution in bf16, the first still fp32."""
    engine = bf16_or_skip(six_layer_int8)
    assert engine.precision == "int8+bf16"
    precisions = [layer.precision for layer in convolutions(engine)]
    assert precisions[0] == "f32" and precisions[-1] == "bf16"
    assert set(precisions[1:-1]) <= {"u8", "i8"} and precisions[1:-1]
