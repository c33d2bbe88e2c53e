"""Rebuild foamliu/MobileFaceNet (a PyTorch state dict, read by pad/pth_legacy.py) in TensorFlow and convert it.

Network (``mobilefacenet.py`` of that repository, described): conv 3x3/2 64 + BN + ReLU6 -> depthwise-separable
3x3 (64) with BN + ReLU after each half -> 15 inverted residual blocks (t,c,n,s: 2,64,5,2 / 4,128,1,2 / 2,128,6,1 /
4,128,1,2 / 2,128,2,1; expand 1x1 + BN + ReLU6, depthwise 3x3 + BN + ReLU6, project 1x1 + BN, identity shortcut when
stride 1 and channels equal) -> 1x1 512 + BN + ReLU6 -> global depthwise 7x7 (GDConv) + BN -> 1x1 128 with bias + BN.

Points where a naive port goes wrong:
- PyTorch pads symmetrically (1 pixel for every 3x3); TF 'SAME' with stride 2 on an even input pads only bottom/right,
  so strided convolutions pad explicitly and run 'VALID'.
- Batch norm is folded into the preceding convolution in float64 (eps 1e-5, PyTorch's default), like the ONNX export.
- Preprocessing is inside the model: RGB 0..255 -> /255 -> ImageNet mean/std, as the training transforms did.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

INPUT_NAME = "chip_rgb"
CHIP_PX = 112
BN_EPS = 1e-5
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# t (expansion), c (output channels), n (repeats), s (stride of the first repeat)
INVERTED_RESIDUAL_SETTING = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))

StateDict = dict[str, np.ndarray]


def _fold(sd: StateDict, conv: str, bn: str, conv_bias: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Conv weights (out,in/groups,kh,kw) and bias with the following batch norm folded in (float64 maths)."""
    w = sd[f"{conv}.weight"].astype(np.float64)
    b = sd[f"{conv}.bias"].astype(np.float64) if conv_bias else np.zeros(w.shape[0])
    gamma, beta = sd[f"{bn}.weight"].astype(np.float64), sd[f"{bn}.bias"].astype(np.float64)
    mean, var = sd[f"{bn}.running_mean"].astype(np.float64), sd[f"{bn}.running_var"].astype(np.float64)
    scale = gamma / np.sqrt(var + BN_EPS)
    return (w * scale[:, None, None, None]).astype(np.float32), ((b - mean) * scale + beta).astype(np.float32)


def _pad(x: tf.Tensor, size: int, stride: int, pad: int) -> tuple[tf.Tensor, str]:
    if pad == 0:
        return x, "VALID"
    if stride == 1 and size % 2 == 1 and pad == size // 2:
        return x, "SAME"  # identical to a symmetric pad of k//2 at stride 1
    return tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), "VALID"


def _conv(x: tf.Tensor, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> tf.Tensor:
    x, padding = _pad(x, w.shape[2], stride, pad)
    kernel = tf.constant(np.ascontiguousarray(w.transpose(2, 3, 1, 0)))  # (out,in,kh,kw) -> (kh,kw,in,out)
    return tf.nn.bias_add(tf.nn.conv2d(x, kernel, strides=stride, padding=padding), tf.constant(b))


def _depthwise(x: tf.Tensor, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> tf.Tensor:
    x, padding = _pad(x, w.shape[2], stride, pad)
    kernel = tf.constant(np.ascontiguousarray(w.transpose(2, 3, 0, 1)))  # (c,1,kh,kw) -> (kh,kw,c,1)
    y = tf.nn.depthwise_conv2d(x, kernel, strides=[1, stride, stride, 1], padding=padding)
    return tf.nn.bias_add(y, tf.constant(b))


def _relu6(x: tf.Tensor) -> tf.Tensor:
    return tf.nn.relu6(x)


def block_names() -> list[tuple[int, int, int]]:
    """(input channels, output channels, stride) of every inverted residual block, in order."""
    blocks, cin = [], 64
    for _t, c, n, s in INVERTED_RESIDUAL_SETTING:
        for i in range(n):
            blocks.append((cin, c, s if i == 0 else 1))
            cin = c
    return blocks


def forward(sd: StateDict, chip: tf.Tensor) -> tf.Tensor:
    """The 128-D embedding for a batch of 112x112 RGB chips holding 0..255 float values (NHWC)."""
    mean = tf.constant(np.array(IMAGENET_MEAN, dtype=np.float32) * np.float32(255.0))
    inv_std = tf.constant(np.float32(1.0) / (np.array(IMAGENET_STD, dtype=np.float32) * np.float32(255.0)))
    x = (chip - mean) * inv_std
    x = _relu6(_conv(x, *_fold(sd, "conv1.0", "conv1.1"), stride=2, pad=1))
    x = tf.nn.relu(_depthwise(x, *_fold(sd, "dw_conv.depthwise", "dw_conv.bn1"), stride=1, pad=1))
    x = tf.nn.relu(_conv(x, *_fold(sd, "dw_conv.pointwise", "dw_conv.bn2"), stride=1, pad=0))
    for i, (cin, cout, stride) in enumerate(block_names()):
        p = f"features.{i}.conv"
        y = _relu6(_conv(x, *_fold(sd, f"{p}.0.0", f"{p}.0.1"), stride=1, pad=0))
        y = _relu6(_depthwise(y, *_fold(sd, f"{p}.1.0", f"{p}.1.1"), stride=stride, pad=1))
        y = _conv(y, *_fold(sd, f"{p}.2", f"{p}.3"), stride=1, pad=0)
        x = x + y if stride == 1 and cin == cout else y
    x = _relu6(_conv(x, *_fold(sd, "conv2.0", "conv2.1"), stride=1, pad=0))
    x = _depthwise(x, *_fold(sd, "gdconv.depthwise", "gdconv.bn"), stride=1, pad=0)
    x = _conv(x, *_fold(sd, "conv3", "bn", conv_bias=True), stride=1, pad=0)
    return tf.reshape(x, [tf.shape(x)[0], 128])


class MobileFaceNetModule(tf.Module):  # type: ignore[misc]  # TensorFlow ships no type stubs
    """tf.Module wrapping ``forward`` with the fixed [1,112,112,3] float32 input contract."""

    def __init__(self, sd: StateDict) -> None:
        super().__init__(name="mobilefacenet")
        self._sd = sd
        spec = tf.TensorSpec([1, CHIP_PX, CHIP_PX, 3], tf.float32, name=INPUT_NAME)
        self.serve = tf.function(self._serve, input_signature=[spec])

    def _serve(self, chip_rgb: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"embedding": forward(self._sd, chip_rgb)}


def to_tflite(sd: StateDict, weights: str = "fp32") -> bytes:
    """Convert to a TFLite flatbuffer: ``fp32`` or ``fp16`` (float16 weights)."""
    module = MobileFaceNetModule(sd)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.serve.get_concrete_function()], module)
    if weights == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif weights != "fp32":
        raise ValueError(f"unknown weight type {weights}")
    return bytes(converter.convert())
