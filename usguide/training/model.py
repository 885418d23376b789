"""The needle network: a light fully-convolutional U-Net (grey image in, shaft and tip maps out).

Four stride-2 stages (input H and W must be multiples of 16); the decoder stops at half resolution,
so the outputs are [N,1,H/2,W/2] each, already passed through a sigmoid so that the ONNX graph gives
probabilities directly. About 0.3 M parameters, sized for <= 15 ms per 256x256 frame on 2 CPU cores.
"""

from __future__ import annotations

import torch
from torch import nn

STRIDE = 16  # input H/W must be a multiple of this
OUTPUT_STRIDE = 2  # input pixels per output-map pixel


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 conv + batch norm + ReLU (BN folds into the conv at export: free at inference)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Up(nn.Module):
    """1x1 conv to fewer channels (cheap at low resolution), upsample x2, fuse with the skip."""

    def __init__(self, c_in: int, c_skip: int, c_out: int) -> None:
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(c_in, c_skip, 1, bias=False), nn.BatchNorm2d(c_skip), nn.ReLU(inplace=True)
        )
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.fuse = _conv(2 * c_skip, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([self.up(self.reduce(x)), skip], dim=1))


class NeedleNet(nn.Module):
    """Encoder-decoder returning ``(shaft, tip)`` probability maps at half the input resolution.

    Args:
        width: channel multiplier base (16 gives ~0.3 M parameters).
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        c1, c2, c3, c4 = width, 2 * width, 3 * width, 4 * width
        self.enc1 = nn.Sequential(_conv(1, c1, stride=2), _conv(c1, c1))  # /2
        self.enc2 = nn.Sequential(_conv(c1, c2, stride=2), _conv(c2, c2))  # /4
        self.enc3 = nn.Sequential(_conv(c2, c3, stride=2), _conv(c3, c3))  # /8
        # Dilated convs at /16 give the receptive field to see whole lines (needle vs fascia).
        self.enc4 = nn.Sequential(
            _conv(c3, c4, stride=2), _conv(c4, c4, dilation=2), _conv(c4, c4, dilation=4)
        )
        self.up3 = _Up(c4, c3, c3)  # /8
        self.up2 = _Up(c3, c2, c2)  # /4
        self.up1 = _Up(c2, c1, c1)  # /2
        self.head = nn.Conv2d(c1, 2, 1)
        # Start with low probabilities everywhere (focal-loss practice): needles are rare pixels.
        nn.init.constant_(self.head.bias, -4.0)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Raw [N,2,H/2,W/2] logits (channel 0 shaft, 1 tip); the losses use these (stable)."""
        s1 = self.enc1(x)
        s2 = self.enc2(s1)
        s3 = self.enc3(s2)
        s4 = self.enc4(s3)
        d3 = self.up3(s4, s3)
        d2 = self.up2(d3, s2)
        d1 = self.up1(d2, s1)
        return self.head(d1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: [N,1,H,W] float in 0..1 (grey/255). Returns (shaft, tip) probabilities."""
        out = torch.sigmoid(self.logits(x))
        return out[:, 0:1], out[:, 1:2]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
