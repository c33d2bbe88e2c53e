"""Property-based fuzzing of the chip-data parsers: arbitrary or mutated input may only raise the
parser's own typed error (an ExamGateError), never an IndexError, struct.error, UnicodeError, …"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from edge.errors import ExamGateError
from edge.identity import tlv
from edge.identity.dg2 import parse_dg2
from edge.identity.dg13 import parse_dg13
from edge.identity.mrz import parse_dg1, parse_mrz
from edge.identity.passive_auth import verify_passive
from edge.identity.qr import parse_qr
from edge.identity.sod import parse_sod
from edge.identity.trust_store import TrustStore, parse_master_list
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

# derandomize: CI runs the same 300 cases each time; run with more examples locally to hunt.
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
NOW = dt.datetime.now(dt.UTC)

_jpeg = io.BytesIO()
Image.new("RGB", (8, 8), (1, 2, 3)).save(_jpeg, format="JPEG")
PKI = sim_pki.make_test_pki()
DG1 = lds_build.build_dg1_td1(
    "099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", "VNM", "Nguyễn", "An", "001099012345"
)
DG2 = lds_build.build_dg2(_jpeg.getvalue(), "jpeg", 8, 8)
DG13 = lds_build.build_dg13({1: "001099012345", 2: "Nguyễn Văn An", 3: "01/01/1999", 13: ("a", "b")})
SOD = lds_build.build_sod({1: DG1, 2: DG2, 13: DG13}, PKI)
TRUST = TrustStore.from_certificates([PKI.csca_cert])
MASTER_LIST = sim_pki.build_master_list([PKI.csca_cert], PKI.ds_key, PKI.ds_cert)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """The seed with a few bytes replaced, dropped or inserted, or cut short."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 4))):
            if not data:
                break
            pos = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["set", "delete", "insert", "truncate"]))
            if action == "set":
                data[pos] = draw(st.integers(0, 255))
            elif action == "delete":
                del data[pos]
            elif action == "insert":
                data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
            else:
                del data[pos:]
        return bytes(data)

    return build()


def only_typed(parse: Callable[[bytes], object], data: bytes) -> object | None:
    try:
        return parse(data)
    except ExamGateError:
        return None


def _walk(node: tlv.Tlv) -> None:
    if node.constructed:
        for child in node.children():
            _walk(child)


@FUZZ
@given(st.binary(max_size=64) | mutated(DG2[:200]))
def test_tlv_decoder(data: bytes) -> None:
    def parse(raw: bytes) -> None:
        _walk(tlv.decode(raw))
        list(tlv.iter_tlv(raw))

    only_typed(parse, data)


@FUZZ
@given(st.binary(min_size=1, max_size=8), st.integers(0, 2**40 - 1))
def test_tlv_lying_length(value: bytes, length: int) -> None:
    """Lengths of 1 to 5 octets claiming anything up to 2**40 bytes over a value of at most 8."""
    octets = (length.bit_length() + 7) // 8
    length_field = bytes([length]) if length < 0x80 else bytes([0x80 | octets]) + length.to_bytes(octets, "big")
    header = tlv.encode_tag(0x5F2E) + length_field
    result = only_typed(tlv.decode, header + value)
    if result is not None:
        assert isinstance(result, tlv.Tlv)
        assert len(result.value) == length


@FUZZ
@given(st.binary(max_size=120) | mutated(DG1))
def test_dg1(data: bytes) -> None:
    only_typed(parse_dg1, data)


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=88, max_size=90))
def test_mrz_text(text: str) -> None:
    only_typed(lambda raw: parse_mrz(raw.decode()), text.encode())


@FUZZ
@given(st.binary(max_size=200) | mutated(DG2))
def test_dg2(data: bytes) -> None:
    only_typed(parse_dg2, data)


@FUZZ
@given(st.binary(max_size=200) | mutated(DG13))
def test_dg13(data: bytes) -> None:
    only_typed(parse_dg13, data)


@FUZZ
@given(st.binary(max_size=200) | mutated(SOD))
def test_sod_and_passive_auth(data: bytes) -> None:
    sod = only_typed(parse_sod, data)
    if sod is not None:
        # a parsed SOD, however mangled, gives a result, never an exception
        result = verify_passive(sod, {1: DG1, 2: DG2, 13: DG13}, TRUST, NOW)  # type: ignore[arg-type]
        assert result.status in ("valid", "invalid", "no_trust_anchor", "expired")
        if data != SOD and result.status == "valid":
            # only changes that leave the signed content and signature intact may still verify
            assert parse_sod(data).econtent == parse_sod(SOD).econtent


@FUZZ
@given(mutated(MASTER_LIST))
def test_master_list(data: bytes) -> None:
    only_typed(parse_master_list, data)


@FUZZ
@given(
    st.text(max_size=120)
    | st.lists(st.text(alphabet=st.characters(exclude_characters="|"), max_size=14), max_size=9).map("|".join)
)
def test_qr(text: str) -> None:
    only_typed(lambda raw: parse_qr(raw.decode("utf-8", "surrogatepass")), text.encode("utf-8", "surrogatepass"))
