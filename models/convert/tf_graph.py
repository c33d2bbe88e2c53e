"""Rebuild the parsed dlib ResNet as a TensorFlow function with dlib's exact arithmetic layout.

Points where a naive port goes wrong, and how they are handled here:
- dlib's strided convolutions and pools have no padding (output = 1 + (in - k) // stride); TF 'SAME'
  would pad, so they run 'VALID' (and any other padding is applied explicitly with tf.pad).
- dlib's residual add of tensors of different shapes writes into a tensor of the larger shape and
  treats the smaller one as zero outside its extent (bottom/right rows, trailing channels): the
  smaller tensor is zero-padded at the end before the add.
- 'affine' is batch-norm folded at training time: y = gamma * x + beta per channel.
- The input layer subtracts the per-channel RGB mean and divides by 256 inside the model.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from dlib_dat import DlibNet

INPUT_NAME = "chip_rgb"


def _conv(x: tf.Tensor, weights: np.ndarray, bias: np.ndarray | None, stride: int, pad: int) -> tf.Tensor:
    kernel = tf.constant(np.ascontiguousarray(weights.transpose(2, 3, 1, 0)))  # (out,in,r,c) -> (r,c,in,out)
    size = weights.shape[2]
    if pad == 0:
        y = tf.nn.conv2d(x, kernel, strides=stride, padding="VALID")
    elif stride == 1 and pad == size // 2 and size % 2 == 1:
        y = tf.nn.conv2d(x, kernel, strides=1, padding="SAME")  # identical to symmetric pad k//2 here
    else:
        x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        y = tf.nn.conv2d(x, kernel, strides=stride, padding="VALID")
    if bias is not None:
        y = tf.nn.bias_add(y, tf.constant(bias))
    return y


def _pad_to(x: tf.Tensor, shape: list[int]) -> tf.Tensor:
    own = x.shape.as_list()
    if own == shape:
        return x
    return tf.pad(x, [[0, want - have] for have, want in zip(own, shape, strict=True)])


def _add_zero_padded(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    shape = [max(p, q) for p, q in zip(a.shape.as_list(), b.shape.as_list(), strict=True)]
    return _pad_to(a, shape) + _pad_to(b, shape)


def forward(net: DlibNet, chip: tf.Tensor) -> tf.Tensor:
    """dlib's descriptor for a batch of 150x150 RGB chips holding 0..255 float values (NHWC)."""
    mean = tf.constant(np.array(net.mean_rgb, dtype=np.float32))
    x = (chip - mean) * tf.constant(np.float32(1.0 / 256.0))  # exact: 1/256 is a power of two
    tags: dict[int, tf.Tensor] = {}
    for layer in net.layers:
        kind = layer.node.kind
        if kind == "con":
            assert layer.weights is not None
            x = _conv(x, layer.weights, layer.bias, layer.stride[0], layer.padding[0])
        elif kind == "affine":
            x = x * tf.constant(layer.weights) + tf.constant(layer.bias)
        elif kind == "relu":
            x = tf.nn.relu(x)
        elif kind == "max_pool":
            x = tf.nn.max_pool2d(x, ksize=list(layer.window), strides=list(layer.stride), padding="VALID")
        elif kind == "avg_pool":
            if layer.window == (0, 0):  # dlib's avg_pool_everything
                x = tf.reduce_mean(x, axis=[1, 2])
            else:
                x = tf.nn.avg_pool2d(x, ksize=list(layer.window), strides=list(layer.stride), padding="VALID")
        elif kind == "tag":
            tags[layer.node.tag] = x
        elif kind == "skip":
            x = tags[layer.node.tag]
        elif kind == "add_prev":
            x = _add_zero_padded(x, tags[layer.node.tag])
        elif kind == "fc":
            x = tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), tf.constant(layer.weights))
        else:
            raise ValueError(f"unknown layer kind {kind}")
    return x


class DlibResnetModule(tf.Module):  # type: ignore[misc]  # TensorFlow ships no type stubs
    """tf.Module wrapping ``forward`` with the fixed [1,150,150,3] float32 input contract."""

    def __init__(self, net: DlibNet) -> None:
        super().__init__(name="dlib_face_recognition_resnet_v1")
        self._net = net
        rows, cols = net.input_size
        self.serve = tf.function(
            self._serve, input_signature=[tf.TensorSpec([1, rows, cols, 3], tf.float32, name=INPUT_NAME)]
        )

    def _serve(self, chip_rgb: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"descriptor": forward(self._net, chip_rgb)}


def to_tflite(net: DlibNet, weights: str = "fp32") -> bytes:
    """Convert to a TFLite flatbuffer: ``fp32``, ``fp16`` (float16 weights) or ``int8`` (dynamic-range weights)."""
    module = DlibResnetModule(net)
    concrete = module.serve.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    if weights == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif weights == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif weights != "fp32":
        raise ValueError(f"unknown weight type {weights}")
    return bytes(converter.convert())
