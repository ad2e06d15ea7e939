"""VDSR: Accurate Image Super-Resolution Using Very Deep Convolutional Networks.

Kim, Lee and Lee, CVPR 2016, https://arxiv.org/abs/1511.04587

The network refines the luma (Y) of a bicubic upscale: ``out = y + body(y)``.
Three variants share the same head, tail and global residual and differ in
their middle blocks, as in the seed project's ablation study.
"""

from __future__ import annotations

import torch
from torch import nn

from vdsr.config import ModelConfig
from vdsr.registry import Registry

__all__ = ["ARCHS", "VDSR", "build_model", "count_parameters"]

ARCHS: Registry[type[nn.Module]] = Registry("block type")


def _conv(cin: int, cout: int) -> nn.Conv2d:
    # No bias, as in the paper: VDSR-20 then has exactly 664,704 weights.
    return nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False)


@ARCHS.register("plain")
class PlainBlock(nn.Sequential):
    """Conv -> ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__(_conv(channels, channels), nn.ReLU(inplace=True))


@ARCHS.register("bn")
class BNBlock(nn.Sequential):
    """Conv -> BatchNorm -> ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__(_conv(channels, channels), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


@ARCHS.register("resbn")
class ResBNBlock(nn.Module):
    """x + ReLU(BatchNorm(Conv(x))): a block with its own skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = BNBlock(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class VDSR(nn.Module):
    """VDSR on one luma channel.

    Input and output are float32 tensors of shape (N, 1, H, W) holding Y in
    [0, 1] (BT.601 studio swing, so about [16/255, 235/255]).

    The head convolution and the global residual always run in float32, even
    under autocast: rounding the input image to bf16 costs ~0.15 dB at x4.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        block = ARCHS.get(config.arch)
        c = config.channels
        self.head = _conv(1, c)
        self.body = nn.Sequential(*(block(c) for _ in range(config.repeats)))
        self.tail = _conv(c, 1)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        # A zero tail makes the untrained net exactly the identity: it starts at bicubic.
        nn.init.zeros_(self.tail.weight)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=y.device.type, enabled=False):
            feat = torch.relu(self.head(y.float()))
        residual = self.tail(self.body(feat))
        return y + residual.float()


def build_model(config: ModelConfig) -> VDSR:
    """Build a randomly initialised VDSR variant from its config."""
    return VDSR(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
