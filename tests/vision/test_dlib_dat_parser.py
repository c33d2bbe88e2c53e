"""models/convert/dlib_dat.py decodes dlib's serialisation formats and rejects files it was not written for.

The encoders below follow the formats documented in dlib's serialize.h, written independently of the
parser.  The test on the real .dat file runs where the face-recognition-models package is installed.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

CONVERT_DIR = Path(__file__).resolve().parents[2] / "models" / "convert"


def _load_parser() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dlib_dat", CONVERT_DIR / "dlib_dat.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dlib_dat"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


dlib_dat = _load_parser()


def enc_int(value: int) -> bytes:
    magnitude = abs(value).to_bytes((abs(value).bit_length() + 7) // 8, "little")
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


def enc_float(value: float) -> bytes:
    fraction, exp = math.frexp(float(np.float32(value)))  # dlib serialises the float32 it holds
    mantissa, exponent = int(fraction * (1 << 24)), exp - 24  # float32: 24 significant bits
    while mantissa and mantissa & 0xFF == 0:
        mantissa >>= 8
        exponent += 8
    return enc_int(mantissa) + enc_int(exponent)


def enc_str(text: str) -> bytes:
    return enc_int(len(text)) + text.encode("ascii")


def enc_tensor(array: np.ndarray) -> bytes:
    shape = (1, 1, 1, 1)[: 4 - array.ndim] + array.shape
    return enc_int(2) + b"".join(enc_int(d) for d in shape) + array.astype("<f4").tobytes()


@pytest.mark.parametrize("value", [0, 1, 2, 127, 255, 256, 150, -1, -28, 2**40 + 3, -(2**62)])
def test_integers(value: int) -> None:
    assert dlib_dat._Reader(enc_int(value)).integer() == value


@pytest.mark.parametrize("value", [0.0, 0.6, 0.04, 122.782, -104.298, 1e-30, 3.0e38, -0.5])
def test_floats_round_to_float32(value: float) -> None:
    assert dlib_dat._Reader(enc_float(value)).real() == float(np.float32(value))


def test_float_specials() -> None:
    assert dlib_dat._Reader(enc_int(0) + enc_int(32000)).real() == math.inf
    assert dlib_dat._Reader(enc_int(0) + enc_int(32001)).real() == -math.inf
    assert math.isnan(dlib_dat._Reader(enc_int(0) + enc_int(32002)).real())


def test_string_bool_tensor() -> None:
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) - 7.5
    reader = dlib_dat._Reader(enc_str("con_4") + b"1" + b"0" + enc_tensor(data))
    assert reader.string() == "con_4"
    assert reader.boolean() is True
    assert reader.boolean() is False
    np.testing.assert_array_equal(reader.tensor(), data)
    assert reader.at_end()


def test_bad_integer_control_byte() -> None:
    with pytest.raises(dlib_dat.DlibFormatError, match="control byte"):
        dlib_dat._Reader(b"\x31").integer()


def test_bad_bool() -> None:
    with pytest.raises(dlib_dat.DlibFormatError, match="bool"):
        dlib_dat._Reader(b"x").boolean()


def test_truncated_tensor() -> None:
    cut = enc_tensor(np.ones((1, 4, 3, 3), dtype=np.float32))[:-5]
    with pytest.raises(dlib_dat.DlibFormatError, match="unexpected end"):
        dlib_dat._Reader(cut).tensor()


def test_wrong_loss_layer() -> None:
    with pytest.raises(dlib_dat.DlibFormatError, match="loss layer"):
        dlib_dat.parse(enc_int(1) + enc_str("loss_multiclass_log_"))


def test_wrong_loss_version() -> None:
    with pytest.raises(dlib_dat.DlibFormatError, match="add_loss_layer"):
        dlib_dat.parse(enc_int(7))


def test_template_matches_dlib_example() -> None:
    nodes = dlib_dat.template()
    convs = [n for n in nodes if n.kind == "con"]
    assert len(convs) == 29
    assert [n.filters for n in convs if n.stride == 2] == [32, 64, 128, 256, 256]
    assert sum(n.kind == "add_prev" for n in nodes) == 14
    assert nodes[0].kind == "input"
    assert nodes[-1].kind == "fc"


def _installed_dat() -> Path | None:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "dlib_face_recognition_resnet_model_v1.dat"
    return path if path.is_file() else None


def test_real_file() -> None:
    path = _installed_dat()
    if path is None:
        pytest.skip("face-recognition-models is not installed (conversion extra)")
    data = path.read_bytes()
    net = dlib_dat.parse(data)
    assert net.input_size == (150, 150)
    assert net.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    params = sum(a.size for layer in net.layers for a in (layer.weights, layer.bias) if a is not None)
    assert params == 5_614_592
    with pytest.raises(dlib_dat.DlibFormatError):
        dlib_dat.parse(data[:-1])
