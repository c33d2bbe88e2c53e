"""Crypto and APDU units, with a few public ICAO 9303-11 example values as literals (no shared/ needed)."""

from __future__ import annotations

import pytest

from edge.identity.emrtd import bac, crypto, ec, pace
from edge.identity.emrtd.apdu import CommandApdu, ResponseApdu, raise_for_status, sw_error
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    ChipStatusError,
    FileNotFoundOnChipError,
    MalformedResponseError,
    SecureMessagingError,
    SecurityStatusError,
    UnsupportedError,
    WrongLengthError,
)
from edge.identity.emrtd.sm import SecureMessaging

H = bytes.fromhex

# ICAO 9303-11 App. D (BAC, document L898902C<, 690806, 940623)
D_MRZ_INFO = "L898902C<369080619406236"
D_K_ENC, D_K_MAC = H("AB94FDECF2674FDFB9B391F85D7F76F2"), H("7962D9ECE03D1ACD4C76089DCE131543")
D_RND_IC, D_RND_IFD = H("4608F91988702212"), H("781723860C06C226")
D_K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
D_CMD = H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7")
D_RESP = H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
D_KS_ENC, D_KS_MAC = H("979EC13B1CBFE9DCD01AB0FED307EAE5"), H("F1CB1F1FB5ADF208806B89DC579DC1F8")
# ICAO 9303-11 App. G.1 (PACE ECDH-GM AES-128 brainpoolP256r1, MRZ T22000129 / 640812 / 101031)
G_Z = H("95A3A016522EE98D01E76CB6B98B42C3")
G_S = H("3F00C4D39D153F2B2A214A078D899B22")
G_K = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
G_KS_ENC, G_KS_MAC = H("F5F0E35C0D7161EE6724EE513A0D9A7F"), H("FE251C7858B356B24514B3BD5F4297D1")
G_MAPPED_X = int("8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2", 16)


def test_bac_literal_example() -> None:
    assert bac.mrz_information("L898902C", "690806", "940623") == D_MRZ_INFO
    assert bac.basic_keys(bac.key_seed(D_MRZ_INFO)) == (D_K_ENC, D_K_MAC)
    assert bac.authenticate_data(D_K_ENC, D_K_MAC, D_RND_IC, D_RND_IFD, D_K_IFD) == D_CMD
    sm = bac.complete(D_K_ENC, D_K_MAC, D_RESP, D_RND_IC, D_RND_IFD, D_K_IFD)
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (D_KS_ENC, D_KS_MAC, 0x887022120C06C226)


def test_bac_rejects_tampered_chip_answer() -> None:
    bad = D_RESP[:-1] + bytes((D_RESP[-1] ^ 1,))
    with pytest.raises(AccessDeniedError):
        bac.complete(D_K_ENC, D_K_MAC, bad, D_RND_IC, D_RND_IFD, D_K_IFD)
    with pytest.raises(MalformedResponseError):
        bac.complete(D_K_ENC, D_K_MAC, D_RESP[:39], D_RND_IC, D_RND_IFD, D_K_IFD)


def test_sm_literal_select_ef_com() -> None:
    sm = SecureMessaging(SUITES["3DES"], D_KS_ENC, D_KS_MAC, 0x887022120C06C226)
    protected = sm.wrap(CommandApdu.parse(H("00A4020C02011E")))
    assert protected.encode() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    assert sm.unwrap(ResponseApdu.parse(H("990290008E08FA855A5D4C50A8ED9000"))) == ResponseApdu(b"", 0x9000)


def test_sm_rejects_bad_mac_and_stays_broken() -> None:
    sm = SecureMessaging(SUITES["3DES"], D_KS_ENC, D_KS_MAC, 0x887022120C06C226)
    sm.wrap(CommandApdu.parse(H("00A4020C02011E")))
    with pytest.raises(SecureMessagingError):
        sm.unwrap(ResponseApdu.parse(H("990290008E08FA855A5D4C50A8EE9000")))
    with pytest.raises(SecureMessagingError):
        sm.wrap(CommandApdu.parse(H("00B0000004")))


def test_pace_literal_example() -> None:
    suite = SUITES["AES-128"]
    password = pace.PacePassword.from_mrz("T22000129", "640812", "101031")
    nonce = pace.decrypt_nonce(suite, password, G_Z)
    assert nonce == G_S
    curve = ec.curve_for_parameter_id(13)
    sk_map_t = int("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99", 16)
    sk_map_c = int("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560", 16)
    mapped = pace.EcGroup(curve).map_generator(nonce, sk_map_t, ec.generator(curve) * sk_map_c)
    assert mapped.x == G_MAPPED_X
    assert pace.session_keys(suite, G_K) == (G_KS_ENC, G_KS_MAC)


@pytest.mark.parametrize("name", ["3DES", "AES-128", "AES-192", "AES-256"])
def test_sm_roundtrip_against_mirror(name: str) -> None:
    """Reader wraps; a mirror session (same keys) reads the command back as the card would, then answers."""
    suite = SUITES[name]
    keys = crypto.kdf(b"seed", 1, suite), crypto.kdf(b"seed", 2, suite)
    reader = SecureMessaging(suite, *keys, ssc=5)
    card = SecureMessaging(suite, *keys, ssc=5)
    command = CommandApdu(0x00, 0xB0, 0x01, 0x02, b"", 300)
    protected = reader.wrap(command)
    assert protected.cla == 0x0C
    assert protected.ne == 65536  # Le > 256 forces extended length
    card.ssc += 1
    mac_do = protected.data[-10:]
    assert mac_do[:2] == b"\x8e\x08"
    # card answers with data: build DO'87' + DO'99' + DO'8E' with the mirror
    card.ssc += 1
    iv = crypto.aes_ecb_encrypt(keys[0], card.ssc_bytes) if suite.is_aes else bytes(8)
    payload = bytes(range(40))
    do87 = b"\x87" + bytes((1 + len(crypto.pad(payload, suite.block_bytes)),)) + b"\x01"
    do87 += crypto.encrypt(suite, keys[0], crypto.pad(payload, suite.block_bytes), iv)
    do99 = H("99029000")
    mac = crypto.mac8(suite, keys[1], crypto.pad(card.ssc_bytes + do87 + do99, suite.block_bytes))
    answer = ResponseApdu(do87 + do99 + b"\x8e\x08" + mac, 0x9000)
    assert reader.unwrap(answer) == ResponseApdu(payload, 0x9000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00A4020C02011E", CommandApdu(0, 0xA4, 2, 0x0C, H("011E"))),
        ("00B0000000", CommandApdu(0, 0xB0, 0, 0, b"", 256)),
        ("0084000008", CommandApdu(0, 0x84, 0, 0, b"", 8)),
        ("00B0000000012C", CommandApdu(0, 0xB0, 0, 0, b"", 300)),
        ("00B00000000000", CommandApdu(0, 0xB0, 0, 0, b"", 65536)),
        ("0C860000000003AABBCC0000", CommandApdu(0x0C, 0x86, 0, 0, H("AABBCC"), 65536)),
        ("00880000040102030400", CommandApdu(0, 0x88, 0, 0, H("01020304"), 256)),
        ("00A40000", CommandApdu(0, 0xA4, 0, 0)),
    ],
)
def test_command_apdu_roundtrip(raw: str, expected: CommandApdu) -> None:
    parsed = CommandApdu.parse(H(raw))
    assert parsed == expected
    assert parsed.encode() == H(raw)


@pytest.mark.parametrize("raw", ["00A402", "00A4020C05011E", "00B0000000000001", "00B0000000000001FF00"])
def test_command_apdu_bad_lengths(raw: str) -> None:
    with pytest.raises(WrongLengthError):
        CommandApdu.parse(H(raw))


def test_extended_data_encoding() -> None:
    cmd = CommandApdu(0, 0xD6, 0, 0, bytes(300), 0)
    raw = cmd.encode()
    assert raw[4:7] == H("00012C")
    assert CommandApdu.parse(raw) == cmd


@pytest.mark.parametrize(
    ("sw", "error"),
    [
        (0x6300, AccessDeniedError),
        (0x63C2, AccessDeniedError),
        (0x6700, WrongLengthError),
        (0x6982, SecurityStatusError),
        (0x6987, SecureMessagingError),
        (0x6988, SecureMessagingError),
        (0x6A82, FileNotFoundOnChipError),
        (0x6D00, UnsupportedError),
        (0x6F00, ChipStatusError),
    ],
)
def test_status_words_map_to_typed_errors(sw: int, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        raise_for_status(ResponseApdu(b"", sw), "TEST")
    assert getattr(info.value, "sw", None) == sw
    assert sw_error(sw, "x").code.startswith("E_CHIP_")


def test_response_too_short() -> None:
    with pytest.raises(MalformedResponseError):
        ResponseApdu.parse(b"\x90")


def test_padding() -> None:
    assert crypto.pad(b"", 8) == H("8000000000000000")
    assert crypto.pad(bytes(8), 8) == bytes(8) + H("8000000000000000")
    assert crypto.unpad(H("0102800000")) == H("0102")
    with pytest.raises(SecureMessagingError):
        crypto.unpad(H("01020000"))


def test_unsupported_parameter_ids() -> None:
    with pytest.raises(UnsupportedError):
        ec.curve_for_parameter_id(2)
    with pytest.raises(UnsupportedError):
        ec.curve_for_parameter_id(30)


def test_point_validation() -> None:
    curve = ec.curve_for_parameter_id(13)
    g = ec.generator(curve)
    assert ec.decode_point(curve, g.encode()) == g
    off = bytearray(g.encode())
    off[-1] ^= 1
    with pytest.raises(MalformedResponseError):
        ec.decode_point(curve, bytes(off))
    with pytest.raises(MalformedResponseError):
        ec.decode_point(curve, g.encode()[:-1])
