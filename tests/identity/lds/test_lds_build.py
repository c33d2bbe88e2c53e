from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from edge.identity import tlv
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki
from firmware_bridge.sim.pki import LdsBuildError


def test_ef_com_from_numbers_or_tags() -> None:
    by_number = lds_build.build_ef_com([1, 2, 3, 13, 14, 15])
    by_tag = lds_build.build_ef_com([0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F])
    assert by_number == by_tag
    com = tlv.decode(by_number)
    assert com.tag == 0x60
    assert com.require(0x5F01).value == b"0107"
    assert com.require(0x5F36).value == b"040000"
    assert com.require(0x5C).value == bytes([0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F])


def test_mrz_transliterates_vietnamese() -> None:
    assert lds_build.mrz_field("Đặng Thị Ánh", 15) == "DANG<THI<ANH<<<"
    mrz = lds_build.build_mrz_td1(
        "099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "Nữ", "VNM", "Đỗ", "Thị Hằng", "001099012345"
    )
    assert len(mrz) == 90
    assert mrz[60:90].rstrip("<") == "DO<<THI<HANG"
    assert mrz[37] == "<"  # "Nữ" is not M/F in MRZ terms: unspecified


@pytest.mark.parametrize("number", ["", "X" * 23])
def test_mrz_rejects_bad_document_number(number: str) -> None:
    with pytest.raises(LdsBuildError):
        lds_build.build_mrz_td1(number, dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", "VNM", "A", "B", None)


def test_dg2_rejects_impossible_size() -> None:
    with pytest.raises(LdsBuildError):
        lds_build.build_dg2(b"\xff\xd8", "jpeg", 0, 10)
    with pytest.raises(LdsBuildError):
        lds_build.build_dg2(b"\xff\xd8", "jpeg", 10, 70000)


def test_sod_rejects_unknown_hash(pki: sim_pki.TestPki) -> None:
    with pytest.raises(LdsBuildError, match="hash algorithm"):
        lds_build.build_sod({1: b"x"}, pki, "md5")


def test_pki_certificates_have_icao_extensions(pki: sim_pki.TestPki) -> None:
    csca_bc = pki.csca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    ds_bc = pki.ds_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert csca_bc.ca
    assert not ds_bc.ca
    assert pki.ds_cert.issuer == pki.csca_cert.subject
    aki = pki.ds_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert pki.csca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
