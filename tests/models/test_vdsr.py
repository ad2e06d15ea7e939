import pytest
import torch

from vdsr.config import ModelConfig
from vdsr.models import ARCHS, build_model, count_parameters


def test_vdsr20_has_the_papers_weight_count() -> None:
    model = build_model(ModelConfig())
    assert count_parameters(model) == 664_704
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 20


@pytest.mark.parametrize("arch", ARCHS.names())
@pytest.mark.parametrize("repeats", [12, 18, 24, 30])
def test_every_variant_builds_and_keeps_shape(arch: str, repeats: int) -> None:
    model = build_model(ModelConfig(arch=arch, repeats=repeats)).eval()
    x = torch.rand(1, 1, 9, 11)
    with torch.no_grad():
        assert model(x).shape == x.shape


def test_names_follow_total_conv_layers() -> None:
    assert ModelConfig("plain", 18).name == "vdsr-20"
    assert ModelConfig("bn", 12).name == "vdsr-bn-14"
    assert ModelConfig("resbn", 30).name == "vdsr-resbn-32"
    assert ModelConfig("plain", 18, channels=32).name == "vdsr-20-c32"
    with pytest.raises(ValueError, match="unknown arch"):
        ModelConfig("dense", 18)


def test_untrained_model_is_the_identity() -> None:
    """The zero-initialised tail makes a fresh model return its input (bicubic)."""
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(build_model(ModelConfig(repeats=3)).eval()(x), x)


def test_bn_variant_has_batchnorm_and_resbn_has_block_skips() -> None:
    bn = build_model(ModelConfig("bn", 2))
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in bn.modules()) == 2
    resbn = build_model(ModelConfig("resbn", 2))
    block = resbn.body[0]
    x = torch.rand(1, 64, 5, 5)
    with torch.no_grad():
        assert torch.allclose(block.eval()(x), x + block.body(x))


def test_unknown_arch_or_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown arch"):
        ModelConfig(arch="vgg")
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"arch": "plain", "depth": 20})
