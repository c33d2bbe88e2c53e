"""Every worked example of ``shared/reference/icao_vectors.json`` (ICAO 9303-11 App. D and G.1) as a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge.identity import tlv
from edge.identity.emrtd import bac, crypto, ec, pace
from edge.identity.emrtd.apdu import CommandApdu, ResponseApdu
from edge.identity.emrtd.cardaccess import PaceInfo
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.sm import SecureMessaging
from edge.identity.mrz import check_digit

TDES = SUITES["3DES"]


def _h(value: str) -> bytes:
    return bytes.fromhex(value)


@pytest.fixture(scope="module")
def vectors(shared_dir: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((shared_dir / "reference" / "icao_vectors.json").read_text(encoding="utf-8"))
    return {item["name"]: item for item in data}


def test_all_vectors_are_covered(vectors: dict[str, dict[str, Any]]) -> None:
    covered = {
        "bac_check_digits",
        "bac_kseed_from_mrz",
        "bac_kenc_from_kseed",
        "bac_kmac_from_kseed",
        "bac_mutual_authentication",
        "bac_session_keys",
        "sm_select_ef_com",
        "sm_read_binary_first_4_bytes",
        "sm_read_binary_remaining_18_bytes",
        "pace_ecdh_gm_brainpoolp256r1",
    }
    assert set(vectors) == covered


def test_bac_check_digits(vectors: dict[str, dict[str, Any]]) -> None:
    v = vectors["bac_check_digits"]
    i, e = v["inputs"], v["expected"]
    assert check_digit(i["document_number"]) == e["document_number_check_digit"]
    assert check_digit(i["date_of_birth"]) == e["date_of_birth_check_digit"]
    assert check_digit(i["date_of_expiry"]) == e["date_of_expiry_check_digit"]
    number = i["document_number"].rstrip("<")
    assert bac.mrz_information(number, i["date_of_birth"], i["date_of_expiry"]) == e["mrz_information"]


def test_bac_kseed(vectors: dict[str, dict[str, Any]]) -> None:
    v = vectors["bac_kseed_from_mrz"]
    assert bac.key_seed(v["inputs"]["mrz_information"]) == _h(v["expected"]["k_seed"])


@pytest.mark.parametrize(("name", "field"), [("bac_kenc_from_kseed", "k_enc"), ("bac_kmac_from_kseed", "k_mac")])
def test_bac_kdf(vectors: dict[str, dict[str, Any]], name: str, field: str) -> None:
    v = vectors[name]
    counter = int(v["inputs"]["counter"], 16)
    assert crypto.kdf(_h(v["inputs"]["k_seed"]), counter, TDES) == _h(v["expected"][field])


def test_bac_kenc_parity_steps(vectors: dict[str, dict[str, Any]]) -> None:
    e = vectors["bac_kenc_from_kseed"]["expected"]
    assert crypto.des_parity(_h(e["ka_unadjusted"])) == _h(e["ka"])
    assert crypto.des_parity(_h(e["kb_unadjusted"])) == _h(e["kb"])


def test_bac_mutual_authentication(vectors: dict[str, dict[str, Any]]) -> None:
    v = vectors["bac_mutual_authentication"]
    i, e = v["inputs"], v["expected"]
    k_enc, k_mac = _h(i["k_enc"]), _h(i["k_mac"])
    data = bac.authenticate_data(k_enc, k_mac, _h(i["rnd_ic"]), _h(i["rnd_ifd"]), _h(i["k_ifd"]))
    assert data == _h(e["cmd_data"])
    # the chip's side of the same exchange
    assert crypto.des3_cbc_encrypt(k_enc, _h(e["r"])) == _h(e["e_ic"])
    assert crypto.retail_mac(k_mac, crypto.pad(_h(e["e_ic"]), 8)) == _h(e["m_ic"])
    sm = bac.complete(k_enc, k_mac, _h(e["resp_data"]), _h(i["rnd_ic"]), _h(i["rnd_ifd"]), _h(i["k_ifd"]))
    keys = vectors["bac_session_keys"]["expected"]
    assert (sm.ks_enc, sm.ks_mac) == (_h(keys["ks_enc"]), _h(keys["ks_mac"]))
    assert sm.ssc_bytes == _h(keys["ssc"])


def test_bac_session_keys(vectors: dict[str, dict[str, Any]]) -> None:
    v = vectors["bac_session_keys"]
    i, e = v["inputs"], v["expected"]
    seed = bytes(a ^ b for a, b in zip(_h(i["k_ifd"]), _h(i["k_ic"]), strict=True))
    assert seed == _h(e["k_seed"])
    assert bac.basic_keys(seed) == (_h(e["ks_enc"]), _h(e["ks_mac"]))


@pytest.mark.parametrize(
    "name", ["sm_select_ef_com", "sm_read_binary_first_4_bytes", "sm_read_binary_remaining_18_bytes"]
)
def test_secure_messaging(vectors: dict[str, dict[str, Any]], name: str) -> None:
    v = vectors[name]
    i, e = v["inputs"], v["expected"]
    sm = SecureMessaging(TDES, _h(i["ks_enc"]), _h(i["ks_mac"]), int(i["ssc_before"], 16))
    protected = sm.wrap(CommandApdu.parse(_h(i["unprotected_apdu"])))
    assert sm.ssc_bytes == _h(e["ssc_command"])
    assert protected.encode() == _h(e["protected_apdu"])
    assert protected.data.endswith(_h(e["do8e"]))
    # N = SSC || M padded, and its MAC is the command checksum
    assert crypto.pad(_h(e["ssc_command"]) + _h(e["m"]), 8) == _h(e["n"])
    assert crypto.retail_mac(_h(i["ks_mac"]), _h(e["n"])) == _h(e["cc"])
    plain = sm.unwrap(ResponseApdu.parse(_h(i["response_apdu"])))
    assert sm.ssc_bytes == _h(e["ssc_response"])
    assert crypto.retail_mac(_h(i["ks_mac"]), _h(e["k"])) == _h(e["response_cc"])
    assert plain.sw == int(e["response_sw"], 16)
    assert plain.data == _h(e.get("decrypted_data", ""))
    if "ef_com" in e:
        first4 = vectors["sm_read_binary_first_4_bytes"]["expected"]["decrypted_data"]
        assert _h(first4) + plain.data == _h(e["ef_com"])
        assert tlv.decode(_h(e["ef_com"])).tag == 0x60


def test_secure_messaging_select_intermediates(vectors: dict[str, dict[str, Any]]) -> None:
    e = vectors["sm_select_ef_com"]["expected"]
    ks_enc = _h(vectors["sm_select_ef_com"]["inputs"]["ks_enc"])
    assert crypto.pad(_h("011E"), 8) == _h(e["padded_data"])
    assert crypto.des3_cbc_encrypt(ks_enc, _h(e["padded_data"])) == _h(e["encrypted_data"])
    assert crypto.pad(_h("0CA4020C"), 8) == _h(e["cmd_header"])


def test_pace_generic_mapping(vectors: dict[str, dict[str, Any]]) -> None:
    v = vectors["pace_ecdh_gm_brainpoolp256r1"]
    i, e = v["inputs"], v["expected"]
    suite = SUITES["AES-128"]
    info = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13, "ECDH", "GM", "AES-128")
    assert info.oid_bytes == _h(i["oid"])
    password = pace.PacePassword.from_mrz(i["document_number"], i["date_of_birth"], i["date_of_expiry"])
    assert password.key == _h(e["k_pi"])
    assert pace.nonce_key(suite, password) == _h(e["nonce_encryption_key"])
    nonce = pace.decrypt_nonce(suite, password, _h(i["encrypted_nonce_z"]))
    assert nonce == _h(e["decrypted_nonce_s"])

    curve = ec.curve_for_parameter_id(13)
    g = ec.generator(curve)
    sk_map_t, sk_map_c = int(i["terminal_mapping_private_key"], 16), int(i["chip_mapping_private_key"], 16)
    pk_map_t, pk_map_c = g * sk_map_t, g * sk_map_c
    assert (pk_map_t.x, pk_map_t.y) == (
        int(e["terminal_mapping_public_key_x"], 16),
        int(e["terminal_mapping_public_key_y"], 16),
    )
    assert (pk_map_c.x, pk_map_c.y) == (
        int(e["chip_mapping_public_key_x"], 16),
        int(e["chip_mapping_public_key_y"], 16),
    )
    h = pk_map_c * sk_map_t
    assert (h.x, h.y) == (int(e["shared_secret_h_x"], 16), int(e["shared_secret_h_y"], 16))
    group = pace.EcGroup(curve)
    mapped = group.map_generator(nonce, sk_map_t, pk_map_c)
    assert mapped == group.map_generator(nonce, sk_map_c, pk_map_t)  # both sides agree
    assert (mapped.x, mapped.y) == (int(e["mapped_generator_x"], 16), int(e["mapped_generator_y"], 16))

    sk_t, sk_c = int(i["terminal_ephemeral_private_key"], 16), int(i["chip_ephemeral_private_key"], 16)
    pk_t, pk_c = mapped * sk_t, mapped * sk_c
    assert pk_t.encode() == b"\x04" + _h(e["terminal_ephemeral_public_key_x"] + e["terminal_ephemeral_public_key_y"])
    assert pk_c.encode() == b"\x04" + _h(e["chip_ephemeral_public_key_x"] + e["chip_ephemeral_public_key_y"])
    shared = ec.shared_x(sk_t, pk_c)
    assert shared == ec.shared_x(sk_c, pk_t) == _h(e["shared_secret_k"])
    ks_enc, ks_mac = pace.session_keys(suite, shared)
    assert (ks_enc, ks_mac) == (_h(e["ks_enc"]), _h(e["ks_mac"]))
    assert group.token(suite, ks_mac, info.oid_bytes, pk_c) == _h(e["terminal_token_t_pcd"])
    assert group.token(suite, ks_mac, info.oid_bytes, pk_t) == _h(e["chip_token_t_picc"])
