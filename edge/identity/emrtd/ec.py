"""Elliptic-curve domain parameters and point arithmetic for PACE and Chip Authentication (via ``ecdsa``).

``cryptography`` offers no raw point addition, which PACE generic mapping (G' = s·G + H) needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecdsa import curves, ellipticcurve

from edge.identity.emrtd.errors import MalformedResponseError, UnsupportedError

# Standardized domain parameters, ICAO 9303-11 Table "standardized domain parameters" (ids 8-18 are EC).
STANDARD_CURVES: dict[int, curves.Curve] = {
    8: curves.NIST192p,
    9: curves.BRAINPOOLP192r1,
    10: curves.NIST224p,
    11: curves.BRAINPOOLP224r1,
    12: curves.NIST256p,
    13: curves.BRAINPOOLP256r1,
    14: curves.BRAINPOOLP320r1,
    15: curves.NIST384p,
    16: curves.BRAINPOOLP384r1,
    17: curves.BRAINPOOLP512r1,
    18: curves.NIST521p,
}
DH_PARAMETER_IDS = (0, 1, 2)


def curve_for_parameter_id(parameter_id: int) -> curves.Curve:
    if parameter_id in STANDARD_CURVES:
        return STANDARD_CURVES[parameter_id]
    if parameter_id in DH_PARAMETER_IDS:
        raise UnsupportedError(f"PACE over DH (MODP) domain parameters id {parameter_id} is not supported")
    raise UnsupportedError(f"unknown standardized domain parameter id {parameter_id}")


def curve_by_oid(dotted: str) -> curves.Curve:
    for curve in STANDARD_CURVES.values():
        if ".".join(str(arc) for arc in curve.oid) == dotted:
            return curve
    raise UnsupportedError(f"elliptic curve {dotted} is not supported")


def curve_by_parameters(p: int, a: int, b: int, gx: int, gy: int, order: int) -> curves.Curve:
    """Match explicit domain parameters (as found in DG14) against the supported named curves."""
    for curve in STANDARD_CURVES.values():
        fp = curve.curve
        gen = curve.generator
        if (fp.p(), fp.a() % fp.p(), fp.b(), gen.x(), gen.y(), curve.order) == (p, a % p, b, gx, gy, order):
            return curve
    raise UnsupportedError("explicit elliptic-curve parameters match no supported curve")


@dataclass(frozen=True)
class Point:
    """An affine point on ``curve`` (never the point at infinity)."""

    curve: curves.Curve
    x: int
    y: int

    def encode(self) -> bytes:
        """Uncompressed octet string 04 || X || Y."""
        size = field_bytes(self.curve)
        return b"\x04" + self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big")

    def _jacobi(self) -> ellipticcurve.PointJacobi:
        return ellipticcurve.PointJacobi(self.curve.curve, self.x, self.y, 1, self.curve.order)

    def __mul__(self, scalar: int) -> Point:
        return _affine(self.curve, self._jacobi() * scalar)

    def __add__(self, other: Point) -> Point:
        return _affine(self.curve, self._jacobi() + other._jacobi())


def field_bytes(curve: curves.Curve) -> int:
    return (int(curve.curve.p()).bit_length() + 7) // 8


def _affine(curve: curves.Curve, point: ellipticcurve.PointJacobi) -> Point:
    if point == ellipticcurve.INFINITY or point.x() is None:
        raise MalformedResponseError("elliptic-curve operation produced the point at infinity")
    return Point(curve, int(point.x()), int(point.y()))


def generator(curve: curves.Curve) -> Point:
    return Point(curve, int(curve.generator.x()), int(curve.generator.y()))


def decode_point(curve: curves.Curve, data: bytes) -> Point:
    """Decode and validate an uncompressed point; anything off the curve raises ``MalformedResponseError``."""
    size = field_bytes(curve)
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise MalformedResponseError(f"expected an uncompressed point of {1 + 2 * size} bytes, got {len(data)}")
    x = int.from_bytes(data[1 : 1 + size], "big")
    y = int.from_bytes(data[1 + size :], "big")
    p = curve.curve.p()
    if x >= p or y >= p or not curve.curve.contains_point(x, y):
        raise MalformedResponseError("public key point is not on the curve")
    return Point(curve, x, y)


def shared_x(private: int, public: Point) -> bytes:
    """ECDH: x-coordinate of private·public as a field-size octet string."""
    return (public * private).x.to_bytes(field_bytes(public.curve), "big")
