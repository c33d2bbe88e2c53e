"""The RFC 5114 MODP groups used by DH PACE (ids 0-2): sound parameters, subgroup checks on public values."""

from __future__ import annotations

import random

import pytest

from edge.identity.emrtd import dh, pace
from edge.identity.emrtd.cardaccess import PaceInfo
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.errors import MalformedResponseError


def _probably_prime(n: int, rounds: int = 16) -> bool:
    rng = random.Random(n)
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize(("parameter_id", "bits"), [(0, (1024, 160)), (1, (2048, 224)), (2, (2048, 256))])
def test_group_parameters(parameter_id: int, bits: tuple[int, int]) -> None:
    group = dh.STANDARD_GROUPS[parameter_id]
    assert (group.p.bit_length(), group.q.bit_length()) == bits
    assert _probably_prime(group.p) and _probably_prime(group.q)
    assert (group.p - 1) % group.q == 0
    assert pow(group.g, group.q, group.p) == 1 and group.g != 1


def test_public_value_checks() -> None:
    group = dh.MODP_1024_160
    good = pow(group.g, 12345, group.p)
    assert group.decode(group.encode(good)) == good
    for bad in (0, 1, group.p - 1, 2):  # 2 is not in the 160-bit subgroup
        with pytest.raises(MalformedResponseError):
            group.decode(bad.to_bytes(group.size, "big"))
    with pytest.raises(MalformedResponseError):
        group.decode(b"\x01" * (group.size + 1))


def test_dh_generic_mapping_agrees_on_both_sides() -> None:
    info = PaceInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 0, "DH", "GM", "AES-128")
    group = pace.group_for(info)
    nonce = bytes(range(16))
    sk_t, sk_c = 0x1234567, 0x7654321
    pk_t, pk_c = group.power(group.generator(), sk_t), group.power(group.generator(), sk_c)
    mapped = group.map_generator(nonce, sk_t, pk_c)
    assert mapped == group.map_generator(nonce, sk_c, pk_t)
    eph_t, eph_c = group.power(mapped, 99), group.power(mapped, 101)
    assert group.shared_secret(99, eph_c) == group.shared_secret(101, eph_t)
    suite = SUITES["AES-128"]
    token = group.token(suite, bytes(16), info.oid_bytes, eph_c)
    assert len(token) == 8 and token != group.token(suite, bytes(16), info.oid_bytes, eph_t)
