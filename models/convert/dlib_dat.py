"""Parse dlib's ``dlib_face_recognition_resnet_model_v1.dat`` into plain NumPy weights.

dlib writes a network recursively: each ``add_layer`` first writes its version, then its whole
sub-network, then its own layer details.  The file therefore starts with the loss layer, then one
version number per layer from the output inwards, then the input layer, then the layer details from
the input outwards.  This module walks the network template (``template()``) to know which node is a
computational layer, a tag or a skip, reads each record with the formats dlib documents in
``dlib/serialize.h`` (integers: control byte + little-endian magnitude; floats: integer mantissa and
exponent; bool: ASCII '0'/'1'; tensors: shape + raw little-endian float32) and checks every layer
against the template, so a different file fails loudly instead of converting to garbage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


class DlibFormatError(ValueError):
    """The file is not the dlib ResNet this converter was written for."""


# --------------------------------------------------------------------------------------------------
# Network template (dlib's dnn_face_recognition_ex.cpp anet_type), listed from the input outwards.


@dataclass(frozen=True)
class Node:
    """One element of the template: ``kind`` is input/con/affine/relu/max_pool/avg_pool/add_prev/tag/skip/fc."""

    kind: str
    filters: int = 0
    size: int = 0
    stride: int = 1
    tag: int = 0


def _block(nodes: list[Node], filters: int, stride: int) -> None:
    nodes += [
        Node("con", filters=filters, size=3, stride=stride),
        Node("affine"),
        Node("relu"),
        Node("con", filters=filters, size=3, stride=1),
        Node("affine"),
    ]


def _ares(nodes: list[Node], filters: int) -> None:
    # relu<add_prev1<block<N,1,tag1<SUBNET>>>>
    nodes.append(Node("tag", tag=1))
    _block(nodes, filters, 1)
    nodes += [Node("add_prev", tag=1), Node("relu")]


def _ares_down(nodes: list[Node], filters: int) -> None:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<SUBNET>>>>>>>>
    nodes.append(Node("tag", tag=1))
    _block(nodes, filters, 2)
    nodes += [
        Node("tag", tag=2),
        Node("skip", tag=1),
        Node("avg_pool", size=2, stride=2),
        Node("add_prev", tag=2),
        Node("relu"),
    ]


def template() -> list[Node]:
    """The face-recognition ResNet from its input (index 0) to the fc layer (last); the loss is not a node."""
    nodes = [
        Node("input"),
        Node("con", filters=32, size=7, stride=2),
        Node("affine"),
        Node("relu"),
        Node("max_pool", size=3, stride=2),
    ]
    for _ in range(3):
        _ares(nodes, 32)
    for filters, repeats in ((64, 3), (128, 2), (256, 2)):
        _ares_down(nodes, filters)
        for _ in range(repeats):
            _ares(nodes, filters)
    _ares_down(nodes, 256)
    nodes += [Node("avg_pool", size=0, stride=1), Node("fc", filters=128)]
    return nodes


# --------------------------------------------------------------------------------------------------
# Parsed layers


@dataclass
class Layer:
    """A parsed node.  Arrays are in dlib's layout: conv filters (out, in, rows, cols), fc weights (in, out)."""

    node: Node
    version: str = ""
    weights: F32 | None = None
    bias: F32 | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    window: tuple[int, int] = (0, 0)


@dataclass
class DlibNet:
    """The whole network: input normalisation, layers from the input outwards, and the loss metadata."""

    mean_rgb: tuple[float, float, float]
    input_size: tuple[int, int]
    layers: list[Layer] = field(default_factory=list)
    loss_version: str = ""
    loss_margin: float = 0.0
    loss_dist_thresh: float = 0.0


# --------------------------------------------------------------------------------------------------
# Primitive readers


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    def _take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self._data):
            raise DlibFormatError(f"unexpected end of file at byte {self.pos} (wanted {count} bytes)")
        chunk = self._data[self.pos : end]
        self.pos = end
        return chunk

    def at_end(self) -> bool:
        return self.pos == len(self._data)

    def integer(self) -> int:
        control = self._take(1)[0]
        if control & 0x70:
            raise DlibFormatError(f"bad integer control byte 0x{control:02x} at byte {self.pos - 1}")
        magnitude = int.from_bytes(self._take(control & 0x0F), "little")
        return -magnitude if control & 0x80 else magnitude

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        specials = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        if exponent in specials:
            return specials[exponent]
        # dlib rebuilds a float with ldexp((float)mantissa, exponent); every value here fits float32 exactly.
        return float(np.float32(math.ldexp(mantissa, exponent)))

    def boolean(self) -> bool:
        byte = self._take(1)
        if byte not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {byte!r} at byte {self.pos - 1}")
        return byte == b"1"

    def string(self) -> str:
        return self._take(self.integer()).decode("ascii")

    def expect_version(self, allowed: tuple[int, ...], what: str) -> int:
        version = self.integer()
        if version not in allowed:
            raise DlibFormatError(f"{what}: version {version}, expected one of {allowed}")
        return version

    def tensor(self) -> F32:
        self.expect_version((2,), "tensor")
        shape = tuple(self.integer() for _ in range(4))
        count = math.prod(shape)
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias_shape(self) -> tuple[int, int, int, int]:
        self.expect_version((1,), "alias_tensor")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc


# --------------------------------------------------------------------------------------------------
# Layer detail readers (dispatch on dlib's version string)


def _read_con(r: _Reader, version: str, layer: Layer) -> None:
    params = r.tensor().reshape(-1)
    num_filters = r.integer()
    nr, nc = r.integer(), r.integer()
    layer.stride = (r.integer(), r.integer())
    layer.padding = (r.integer(), r.integer())
    filt_shape = r.alias_shape()
    bias_shape = r.alias_shape()
    for _ in range(4):  # learning-rate / weight-decay multipliers
        r.real()
    use_bias = r.boolean() if version in ("con_5", "con_6") else True
    if version == "con_6":
        r.boolean()  # use_relu: a training-time fusion flag, not part of inference maths
    if filt_shape[0] != num_filters or filt_shape[2:] != (nr, nc):
        raise DlibFormatError(f"con: filter shape {filt_shape} disagrees with {num_filters}x{nr}x{nc}")
    n_filt = math.prod(filt_shape)
    layer.weights = params[:n_filt].reshape(filt_shape)
    if use_bias:
        n_bias = math.prod(bias_shape)
        layer.bias = params[n_filt : n_filt + n_bias].copy()
        if params.size != n_filt + n_bias:
            raise DlibFormatError(f"con: {params.size} params, expected {n_filt + n_bias}")


def _read_affine(r: _Reader, version: str, layer: Layer) -> None:
    if version in ("bn_con2", "bn_fc2"):
        params = r.tensor().reshape(-1)
        gamma_shape = r.alias_shape()
        r.alias_shape()  # beta
        r.tensor()  # means (training batch)
        r.tensor()  # invstds (training batch)
        running_means = r.tensor().reshape(-1)
        running_vars = r.tensor().reshape(-1)
        r.integer()  # num_updates
        r.integer()  # running_stats_window_size
        for _ in range(4):
            r.real()
        eps = r.real()
        n = math.prod(gamma_shape)
        gamma = params[:n] / np.sqrt(running_vars + np.float32(eps))
        layer.weights = gamma.astype(np.float32)
        layer.bias = (params[n : 2 * n] - gamma * running_means).astype(np.float32)
        return
    params = r.tensor().reshape(-1)
    gamma_shape = r.alias_shape()
    r.alias_shape()
    r.integer()  # layer mode (conv / fc)
    if version == "affine_2" and r.boolean():
        raise DlibFormatError("affine layer is disabled; this converter expects active affine layers")
    n = math.prod(gamma_shape)
    layer.weights = params[:n].copy()
    layer.bias = params[n : 2 * n].copy()


def _read_pool(r: _Reader, _version: str, layer: Layer) -> None:
    layer.window = (r.integer(), r.integer())
    layer.stride = (r.integer(), r.integer())
    layer.padding = (r.integer(), r.integer())


def _read_relu(r: _Reader, version: str, _layer: Layer) -> None:
    if version == "relu_2" and r.boolean():
        raise DlibFormatError("relu layer is disabled; this converter expects active relu layers")


def _read_fc(r: _Reader, version: str, layer: Layer) -> None:
    num_outputs = r.integer()
    num_inputs = r.integer()
    params = r.tensor().reshape(-1)
    w_shape = r.alias_shape()
    r.alias_shape()
    bias_mode = r.integer()
    for _ in range(4):
        r.real()
    use_bias = r.boolean() if version == "fc_3" else True
    if bias_mode != 1:  # FC_NO_BIAS in dlib's enum
        raise DlibFormatError(f"fc: bias mode {bias_mode}, expected fc_no_bias (1)")
    del use_bias  # meaningless with FC_NO_BIAS
    if math.prod(w_shape) != num_inputs * num_outputs or params.size != num_inputs * num_outputs:
        raise DlibFormatError(f"fc: {params.size} params for {num_inputs}x{num_outputs}")
    layer.weights = params.reshape(num_inputs, num_outputs)


_READERS = {
    "con": (("con_4", "con_5", "con_6"), _read_con),
    "affine": (("affine_", "affine_2", "bn_con2"), _read_affine),
    "relu": (("relu_", "relu_2"), _read_relu),
    "max_pool": (("max_pool_2",), _read_pool),
    "avg_pool": (("avg_pool_2",), _read_pool),
    "fc": (("fc_2", "fc_3"), _read_fc),
    "add_prev": (("add_prev_",), lambda _r, _v, _l: None),
}


def _check(layer: Layer, index: int) -> None:
    node = layer.node
    where = f"layer {index} ({node.kind})"
    if node.kind == "con":
        assert layer.weights is not None
        pad = 0 if node.stride != 1 else node.size // 2
        if (
            layer.weights.shape[0] != node.filters
            or layer.weights.shape[2:] != (node.size, node.size)
            or layer.stride != (node.stride, node.stride)
            or layer.padding != (pad, pad)
        ):
            raise DlibFormatError(f"{where}: got {layer.weights.shape} stride {layer.stride} pad {layer.padding}")
    elif node.kind in ("max_pool", "avg_pool"):
        pad = 0 if node.stride != 1 else node.size // 2
        if layer.window != (node.size, node.size) or layer.padding != (pad, pad):
            raise DlibFormatError(f"{where}: window {layer.window} pad {layer.padding}")
        if node.size and layer.stride != (node.stride, node.stride):
            raise DlibFormatError(f"{where}: stride {layer.stride}")
    elif node.kind == "fc":
        assert layer.weights is not None
        if layer.weights.shape[1] != node.filters:
            raise DlibFormatError(f"{where}: {layer.weights.shape[1]} outputs, expected {node.filters}")


def parse(data: bytes) -> DlibNet:
    """Parse the bytes of ``dlib_face_recognition_resnet_model_v1.dat``; raise DlibFormatError on any mismatch."""
    r = _Reader(data)
    nodes = template()
    r.expect_version((1,), "add_loss_layer")
    loss_version = r.string()
    if loss_version not in ("loss_metric_", "loss_metric_2"):
        raise DlibFormatError(f"loss layer is {loss_version!r}, expected loss_metric")
    margin = r.real()
    dist_thresh = r.real() if loss_version == "loss_metric_2" else 0.0

    # Version numbers, from the outermost node inwards (index len-1 .. 1).
    versions: dict[int, int] = {}
    for i in range(len(nodes) - 1, 0, -1):
        kind = nodes[i].kind
        allowed = (1,) if kind in ("tag", "skip") else ((2, 3) if i == 1 else (1, 2))
        versions[i] = r.expect_version(allowed, f"node {i} ({kind})")

    if (name := r.string()) != "input_rgb_image_sized":
        raise DlibFormatError(f"input layer is {name!r}, expected input_rgb_image_sized")
    mean_rgb = (r.real(), r.real(), r.real())
    input_size = (r.integer(), r.integer())
    net = DlibNet(mean_rgb, input_size, loss_version=loss_version, loss_margin=margin, loss_dist_thresh=dist_thresh)

    for i in range(1, len(nodes)):
        node = nodes[i]
        layer = Layer(node=node)
        if node.kind not in ("tag", "skip"):
            layer.version = r.string()
            allowed_versions, reader = _READERS[node.kind]
            if layer.version not in allowed_versions:
                raise DlibFormatError(f"node {i}: found {layer.version!r}, template expects {node.kind}")
            reader(r, layer.version, layer)
            _check(layer, i)
            for _ in range(3):  # setup-called, gradient-stale, output-disabled flags
                r.boolean()
            r.tensor()  # x_grad (training scratch)
            r.tensor()  # cached_output (training scratch)
            if i == 1:
                r.tensor()  # grad_final
                if versions[i] >= 3:
                    r.integer()  # sample expansion factor
            elif versions[i] == 2:
                r.tensor()  # params_grad
        net.layers.append(layer)
    if not r.at_end():
        raise DlibFormatError(f"{len(data) - r.pos} trailing bytes after the network")
    return net


def load(path: Path) -> DlibNet:
    """Read and parse a ``.dat`` file."""
    return parse(path.read_bytes())
