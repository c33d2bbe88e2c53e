"""Rebuild a parsed MiniFASNet (``minifasnet.parse``) in TensorFlow and convert it to TFLite.

Input ``crop_bgr``: [1, 80, 80, 3] float32, BGR, 0..255 (the original's to_tensor does not scale).
Output ``probs``: [1, 3] softmax; class 1 = live face (bona fide).
PyTorch pads 3x3 convs symmetrically by 1 even at stride 2, where TF 'SAME' would pad (0, 1): the
padding is explicit and every conv runs 'VALID'. BatchNorms are already folded by the parser.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from minifasnet import SE, Conv, MiniFASNet, run_convs

INPUT_NAME = "crop_bgr"


def _conv(x: tf.Tensor, c: Conv) -> tf.Tensor:
    if c.pad:
        x = tf.pad(x, [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]])
    if c.depthwise:
        k = tf.constant(np.ascontiguousarray(c.weight.transpose(2, 3, 0, 1)).astype(np.float32))  # (kh,kw,C,1)
        y = tf.nn.depthwise_conv2d(x, k, strides=[1, c.stride, c.stride, 1], padding="VALID")
    else:
        k = tf.constant(np.ascontiguousarray(c.weight.transpose(2, 3, 1, 0)).astype(np.float32))  # (kh,kw,in,out)
        y = tf.nn.conv2d(x, k, strides=c.stride, padding="VALID")
    y = tf.nn.bias_add(y, tf.constant(c.bias.astype(np.float32)))
    if c.prelu is not None:
        alpha = tf.constant(c.prelu.astype(np.float32).reshape(1, 1, -1))
        y = tf.maximum(y, 0.0) + alpha * tf.minimum(y, 0.0)
    return y


def _se(x: tf.Tensor, se: SE) -> tf.Tensor:
    s = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    s = tf.nn.relu(_conv(s, se.fc1))
    return x * tf.sigmoid(_conv(s, se.fc2))


def forward(net: MiniFASNet, x: tf.Tensor) -> tf.Tensor:
    assert net.head is not None
    x = tf.reshape(run_convs(net, x, _conv, _se), [1, -1])
    x = tf.matmul(x, tf.constant(net.head.linear_w.astype(np.float32))) + tf.constant(
        net.head.linear_b.astype(np.float32)
    )
    return tf.nn.softmax(tf.matmul(x, tf.constant(net.head.prob_w.astype(np.float32))))


class _Module(tf.Module):  # type: ignore[misc]  # TensorFlow ships no type stubs
    def __init__(self, net: MiniFASNet, name: str) -> None:
        super().__init__(name=name.replace(".", "_"))
        self._net = net
        self.serve = tf.function(
            self._serve, input_signature=[tf.TensorSpec([1, 80, 80, 3], tf.float32, name=INPUT_NAME)]
        )

    def _serve(self, crop_bgr: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probs": forward(self._net, crop_bgr)}


def to_tflite(net: MiniFASNet, name: str) -> bytes:
    module = _Module(net, name)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.serve.get_concrete_function()], module)
    return bytes(converter.convert())
