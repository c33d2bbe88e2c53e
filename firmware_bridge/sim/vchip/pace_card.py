"""PACE on the card side (ICAO 9303-11 §4.4): the four GENERAL AUTHENTICATE steps of the virtual chip.

Nonce (encrypted under the CAN/MRZ key), mapping, ephemeral key agreement, then the authentication tokens; a
wrong password shows as 6300 at the token check, like a real chip.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.identity import tlv
from edge.identity.emrtd import crypto, pace
from edge.identity.emrtd.cardaccess import PaceInfo
from edge.identity.emrtd.crypto import SUITES
from firmware_bridge.sim.vchip.secure_messaging import CardSecureMessaging
from firmware_bridge.sim.vchip.status import Answer


@dataclass
class PaceState:
    """The card's side of one PACE run: the step reached and the values kept between steps."""

    info: PaceInfo
    password: pace.PacePassword
    group: pace.PaceGroup[Any]
    step: int = 0
    nonce: bytes = b""
    mapped: Any = None  # group elements: ec.Point or int
    pk_eph: Any = None
    pk_eph_terminal: Any = None
    ks_enc: bytes = b""
    ks_mac: bytes = b""


def pace_step(
    state: PaceState, inner: dict[int, bytes], *, chained: bool, random_bytes: Callable[[int], bytes]
) -> tuple[bytes, CardSecureMessaging | None]:
    """One GENERAL AUTHENTICATE of PACE, card side: the answer, and the secure channel once the tokens match."""
    suite = SUITES[state.info.cipher]
    group = state.group
    if state.step == 0:
        if inner or not chained:
            raise Answer(0x6A80)
        state.nonce = random_bytes(suite.block_bytes)
        state.step = 1
        encrypted = crypto.encrypt(suite, pace.nonce_key(suite, state.password), state.nonce)
        return tlv.encode(0x7C, tlv.encode(0x80, encrypted)), None
    if state.step == 1:
        if 0x81 not in inner or not chained:
            raise Answer(0x6A80)
        pk_map_terminal = group.decode(inner[0x81])
        sk_map = crypto.random_scalar(group.order)
        state.mapped = group.map_generator(state.nonce, sk_map, pk_map_terminal)
        state.step = 2
        return tlv.encode(0x7C, tlv.encode(0x82, group.encode(group.power(group.generator(), sk_map)))), None
    if state.step == 2:
        if 0x83 not in inner or not chained:
            raise Answer(0x6A80)
        state.pk_eph_terminal = group.decode(inner[0x83])
        sk_eph = crypto.random_scalar(group.order)
        state.pk_eph = group.power(state.mapped, sk_eph)
        if state.pk_eph == state.pk_eph_terminal:
            raise Answer(0x6A80)
        shared = group.shared_secret(sk_eph, state.pk_eph_terminal)
        state.ks_enc, state.ks_mac = pace.session_keys(suite, shared)
        state.step = 3
        return tlv.encode(0x7C, tlv.encode(0x84, group.encode(state.pk_eph))), None
    if state.step == 3:
        if 0x85 not in inner or chained:
            raise Answer(0x6A80)
        expected = group.token(suite, state.ks_mac, state.info.oid_bytes, state.pk_eph)
        if not hmac.compare_digest(expected, inner[0x85]):
            raise Answer(0x6300)  # wrong CAN/MRZ: the terminal's token does not verify
        token = group.token(suite, state.ks_mac, state.info.oid_bytes, state.pk_eph_terminal)
        return tlv.encode(0x7C, tlv.encode(0x86, token)), CardSecureMessaging(suite, state.ks_enc, state.ks_mac, 0)
    raise Answer(0x6985)
