"""MiniFASNet V1/V2/V1SE/V2SE as a flat list of ops read from the state dict itself (NumPy only).

The original network is a fixed sequence: conv1 (3x3 s2), conv2_dw (3x3 depthwise), conv_23
(bottleneck, stride 2), conv_3 (residual bottlenecks), conv_34, conv_4, conv_45, conv_5, conv_6_sep
(1x1), conv_6_dw (depthwise, kernel = feature map, no padding), linear (512 -> 128), BatchNorm1d,
prob (128 -> 3). Channel counts, kernel sizes and which residual blocks carry a squeeze-excitation
module are taken from the tensor shapes and names, so V2 and V1SE come out of the same code.

Every BatchNorm (eval mode, eps 1e-5) is folded into the convolution or matrix before it:
y = gamma * (x - mean) / sqrt(var + eps) + beta. ``forward`` runs the ops in float64 as the
reference the TFLite file and the PyTorch check are compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

BN_EPS = 1e-5
INPUT_SIZE = 80


@dataclass(frozen=True)
class Conv:
    """Conv (OIHW weights, BN folded into weights + bias), optional per-channel PReLU."""

    weight: np.ndarray  # (out, in/groups, kh, kw)
    bias: np.ndarray
    stride: int
    pad: int
    depthwise: bool
    prelu: np.ndarray | None


@dataclass(frozen=True)
class SE:
    """Squeeze-excitation: mean over space, 1x1 conv + BN, ReLU, 1x1 conv + BN, sigmoid, scale."""

    fc1: Conv
    fc2: Conv


@dataclass(frozen=True)
class Bottleneck:
    """1x1 expand (PReLU), 3x3 depthwise (PReLU), 1x1 project (no activation); optional SE; optional skip."""

    expand: Conv
    dw: Conv
    project: Conv
    residual: bool
    se: SE | None = None


@dataclass(frozen=True)
class Head:
    """conv_6_sep, conv_6_dw, flatten, linear + BatchNorm1d folded, prob."""

    sep: Conv
    dw: Conv
    linear_w: np.ndarray  # (in, out), BN1d folded
    linear_b: np.ndarray
    prob_w: np.ndarray  # (in, classes)


@dataclass(frozen=True)
class MiniFASNet:
    stem: list[Conv]
    blocks: list[Bottleneck] = field(default_factory=list)
    head: Head | None = None


def _strip(sd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}


def _bn_fold(sd: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    gamma = sd[f"{prefix}.weight"].astype(np.float64)
    beta = sd[f"{prefix}.bias"].astype(np.float64)
    mean = sd[f"{prefix}.running_mean"].astype(np.float64)
    var = sd[f"{prefix}.running_var"].astype(np.float64)
    scale = gamma / np.sqrt(var + BN_EPS)
    return scale, beta - mean * scale


def _conv(
    sd: dict[str, np.ndarray], prefix: str, stride: int, act: bool, conv_key: str = "conv", bn_key: str = "bn"
) -> Conv:
    w = sd[f"{prefix}.{conv_key}.weight"].astype(np.float64)
    scale, shift = _bn_fold(sd, f"{prefix}.{bn_key}")
    depthwise = w.shape[1] == 1 and w.shape[2] > 1
    k = w.shape[2]
    pad = (k - 1) // 2 if k == 3 else 0  # 3x3 convs pad 1; 1x1 and the final 5x5 depthwise pad 0
    prelu = sd[f"{prefix}.prelu.weight"].astype(np.float64) if act else None
    return Conv(w * scale[:, None, None, None], shift, stride, pad, depthwise, prelu)


def _bottleneck(sd: dict[str, np.ndarray], prefix: str, stride: int, residual: bool) -> Bottleneck:
    se = None
    if f"{prefix}.se_module.fc1.weight" in sd:
        p = f"{prefix}.se_module"
        se = SE(
            _conv(sd, p, 1, False, conv_key="fc1", bn_key="bn1"),
            _conv(sd, p, 1, False, conv_key="fc2", bn_key="bn2"),
        )
    return Bottleneck(
        expand=_conv(sd, f"{prefix}.conv", 1, True),
        dw=_conv(sd, f"{prefix}.conv_dw", stride, True),
        project=_conv(sd, f"{prefix}.project", 1, False),
        residual=residual,
        se=se,
    )


def parse(state_dict: dict[str, np.ndarray]) -> MiniFASNet:
    sd = _strip(state_dict)
    stem = [_conv(sd, "conv1", 2, True), _conv(sd, "conv2_dw", 1, True)]
    blocks: list[Bottleneck] = []
    for down, stage in (("conv_23", "conv_3"), ("conv_34", "conv_4"), ("conv_45", "conv_5")):
        blocks.append(_bottleneck(sd, down, 2, residual=False))
        i = 0
        while f"{stage}.model.{i}.conv.conv.weight" in sd:
            blocks.append(_bottleneck(sd, f"{stage}.model.{i}", 1, residual=True))
            i += 1
    scale, shift = _bn_fold(sd, "bn")
    lin = sd["linear.weight"].astype(np.float64).T  # (512, 128)
    head = Head(
        sep=_conv(sd, "conv_6_sep", 1, True),
        dw=_conv(sd, "conv_6_dw", 1, False),
        linear_w=lin * scale[None, :],
        linear_b=shift,
        prob_w=sd["prob.weight"].astype(np.float64).T,
    )
    return MiniFASNet(stem=stem, blocks=blocks, head=head)


# ---------------------------------------------------------------- the op order, shared by every back end


class _Activation(Protocol):
    def __add__(self, other: Any, /) -> Any: ...


A = TypeVar("A", bound=_Activation)  # one back end's feature map: NumPy (C,H,W) here, TensorFlow NHWC in tf_minifasnet


def run_convs(net: MiniFASNet, x: A, conv: Callable[[A, Conv], A], se: Callable[[A, SE], A]) -> A:
    """Stem, bottlenecks (SE before the skip) and the head's two convs, in the network's order, with one back
    end's ``conv`` and ``se``. What follows (flatten, linear, prob) is left to the caller."""
    for c in net.stem:
        x = conv(x, c)
    for b in net.blocks:
        y = conv(conv(conv(x, b.expand), b.dw), b.project)
        if b.residual:
            if b.se is not None:
                y = se(y, b.se)
            y = x + y
        x = y
    assert net.head is not None
    return conv(conv(x, net.head.sep), net.head.dw)


# ---------------------------------------------------------------- NumPy float64 reference forward (NCHW)


def _np_conv(x: np.ndarray, c: Conv) -> np.ndarray:
    """x (C,H,W) -> (O,H',W'); plain loops over the kernel taps, float64."""
    if c.pad:
        x = np.pad(x, ((0, 0), (c.pad, c.pad), (c.pad, c.pad)))
    _, h, w = x.shape
    o, _, kh, kw = c.weight.shape
    oh, ow = (h - kh) // c.stride + 1, (w - kw) // c.stride + 1
    out = np.zeros((o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + c.stride * oh : c.stride, j : j + c.stride * ow : c.stride]
            if c.depthwise:
                out += c.weight[:, 0, i, j][:, None, None] * patch
            else:
                out += np.einsum("oc,chw->ohw", c.weight[:, :, i, j], patch)
    out += c.bias[:, None, None]
    if c.prelu is not None:
        out = np.where(out >= 0, out, out * c.prelu[:, None, None])
    return out


def _np_se(x: np.ndarray, se: SE) -> np.ndarray:
    s = x.mean(axis=(1, 2), keepdims=True)
    s = np.maximum(_np_conv(s, se.fc1), 0.0)
    s = 1.0 / (1.0 + np.exp(-_np_conv(s, se.fc2)))
    return x * s


def forward(net: MiniFASNet, bgr_chw: np.ndarray) -> np.ndarray:
    """Logits (3,) for one 3x80x80 BGR crop holding 0..255 values."""
    assert net.head is not None
    x = run_convs(net, bgr_chw.astype(np.float64), _np_conv, _np_se).reshape(-1)
    x = x @ net.head.linear_w + net.head.linear_b
    logits: np.ndarray = x @ net.head.prob_w
    return logits


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out
