"""Transport + driver + APDU channel against the virtual PN532 over a real pseudo-terminal."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from edge.identity.emrtd.apdu import ApduChannel
from edge.identity.emrtd.errors import CardRemovedError, ChipCommunicationError
from firmware_bridge.pn532.channel import Pn532ApduChannel
from firmware_bridge.pn532.driver import (
    BRTY_106_TYPE_A,
    Pn532,
    parse_target_a,
    parse_target_b,
    status_error,
)
from firmware_bridge.pn532.errors import (
    FrameChecksumError,
    Pn532ChainError,
    Pn532Error,
    Pn532ParameterError,
    Pn532ProtocolError,
    Pn532StatusError,
    Pn532SyntaxError,
    Pn532TimeoutError,
    RfError,
    TargetGoneError,
    TargetTimeoutError,
)
from firmware_bridge.pn532.transport import Pn532Transport, open_serial
from firmware_bridge.sim.virtual_pn532 import CardGoneError, VirtualPn532

pytestmark = pytest.mark.timeout(20)

UID = bytes.fromhex("08a1b2c3")
ATS = bytes.fromhex("0578807002")


class EchoCard:
    """Answers each APDU with its bytes reversed + 9000; ``delay_s`` makes it slow, ``gone_after`` removes it."""

    def __init__(self, *, delay_s: float = 0.0, gone_after: int | None = None, answer: bytes | None = None) -> None:
        self.uid = UID
        self.ats = ATS
        self.delay_s = delay_s
        self.gone_after = gone_after
        self.answer = answer
        self.apdus: list[bytes] = []
        self.resets = 0

    def process_apdu(self, apdu: bytes) -> bytes:
        if self.gone_after is not None and len(self.apdus) >= self.gone_after:
            raise CardGoneError
        self.apdus.append(apdu)
        time.sleep(self.delay_s)
        return self.answer if self.answer is not None else apdu[::-1] + b"\x90\x00"

    def reset(self) -> None:
        self.resets += 1


def connect(virtual: VirtualPn532, **driver_kwargs: float | int) -> Pn532:
    path = virtual.start()
    driver = Pn532(Pn532Transport(open_serial(path, virtual.baud)), **driver_kwargs)  # type: ignore[arg-type]
    driver.wake_up()
    return driver


@pytest.fixture
def card() -> EchoCard:
    return EchoCard()


@pytest.fixture
def virtual(card: EchoCard) -> Iterator[VirtualPn532]:
    sim = VirtualPn532(card)
    yield sim
    sim.stop()


@pytest.fixture
def driver(virtual: VirtualPn532) -> Iterator[Pn532]:
    drv = connect(virtual)
    yield drv
    drv.transport.close()


def test_firmware_version_over_a_real_pty(driver: Pn532, virtual: VirtualPn532) -> None:
    assert virtual.slave_path.startswith("/dev/")
    version = driver.get_firmware_version()
    assert (version.ic, version.version, version.revision) == (0x32, 1, 6)
    assert driver.transport.bytes_out > 0
    assert driver.transport.bytes_in > 0


def test_asleep_pn532_ignores_commands_until_the_wake_up_preamble(card: EchoCard) -> None:
    with VirtualPn532(card) as sim:
        transport = Pn532Transport(open_serial(sim.slave_path, 115200), ack_timeout_s=0.05, max_resends=1)
        drv = Pn532(transport)
        with pytest.raises(Pn532TimeoutError, match="no ACK") as info:
            drv.get_firmware_version()
        assert info.value.code == "E_PN532_TIMEOUT"
        drv.wake_up()
        assert drv.get_firmware_version().ic == 0x32
        drv.power_down()
        with pytest.raises(Pn532TimeoutError):
            drv.get_firmware_version()
        drv.wake_up()
        assert drv.get_firmware_version().ic == 0x32
        transport.close()


def test_poll_type_a_returns_uid_and_ats(driver: Pn532, card: EchoCard) -> None:
    driver.set_max_retries(passive_activation=0x02)
    driver.set_timings()
    target = driver.poll()
    assert target is not None
    assert (target.card_type, target.uid, target.ats, target.tg) == ("A", UID, ATS, 1)
    assert target.iso14443_4
    assert card.resets == 1  # field reset on activation


def test_poll_without_card_returns_none(virtual: VirtualPn532, driver: Pn532) -> None:
    virtual.remove()
    assert driver.poll() is None


def test_poll_finds_a_type_b_card(card: EchoCard) -> None:
    with VirtualPn532(card, card_type="B") as sim:
        drv = Pn532(Pn532Transport(open_serial(sim.slave_path, 115200)))
        drv.wake_up()
        assert drv.in_list_passive_target(BRTY_106_TYPE_A) == []
        target = drv.poll()
        assert target is not None
        assert (target.card_type, target.uid, len(target.atqb)) == ("B", UID, 12)
        assert drv.in_data_exchange(target.tg, b"\x01\x02") == b"\x02\x01\x90\x00"
        drv.transport.close()


@pytest.mark.parametrize("size", [1, 261, 262, 263, 600, 5000])
def test_data_exchange_chains_both_ways(driver: Pn532, virtual: VirtualPn532, card: EchoCard, size: int) -> None:
    target = driver.poll()
    assert target is not None
    apdu = bytes((i * 7) & 0xFF for i in range(size))
    before = driver.exchanges
    assert driver.in_data_exchange(target.tg, apdu) == apdu[::-1] + b"\x90\x00"
    assert card.apdus == [apdu]  # the PN532 reassembled the chained parts into one APDU
    sent_parts = -(-size // 262)
    answer_parts = -(-(size + 2) // 262)
    assert driver.exchanges - before == sent_parts + answer_parts - 1


def test_endless_answer_chain_is_bounded(card: EchoCard) -> None:
    with VirtualPn532(card, endless_chain=True) as sim:
        drv = Pn532(Pn532Transport(open_serial(sim.slave_path, 115200)), max_chain_frames=12)
        drv.wake_up()
        target = drv.poll()
        assert target is not None
        with pytest.raises(Pn532ChainError) as info:
            drv.in_data_exchange(target.tg, b"\x00\xb0\x00\x00\x00")
        assert info.value.code == "E_PN532_CHAIN_TOO_LONG"
        assert drv.exchanges == 12
        drv.transport.close()


def test_send_longer_than_the_chain_bound_is_refused(driver: Pn532) -> None:
    driver.max_chain_frames = 2
    with pytest.raises(Pn532ParameterError):
        driver.in_data_exchange(1, bytes(262 * 2 + 1))


def test_corrupt_answers_are_repeated_after_nack(card: EchoCard) -> None:
    with VirtualPn532(card, corrupt_every=2) as sim:
        drv = connect(sim)
        target = drv.poll()
        assert target is not None
        for size in (4, 300, 1000):
            apdu = bytes(range(256)) * 4
            assert drv.in_data_exchange(target.tg, apdu[:size]) == apdu[:size][::-1] + b"\x90\x00"
        assert sim.stats.corrupted_frames >= 3
        assert drv.transport.nacks_sent >= sim.stats.corrupted_frames // 2  # bad DCS → NACK
        deadline = time.monotonic() + 2
        while sim.stats.nacks_received < drv.transport.nacks_sent and time.monotonic() < deadline:
            time.sleep(0.01)  # the last NACK may still be on its way
        assert sim.stats.nacks_received == drv.transport.nacks_sent
        drv.transport.close()


@pytest.mark.parametrize("seed", range(4))
def test_random_byte_errors_never_yield_wrong_data(card: EchoCard, seed: int) -> None:
    """One flipped byte anywhere in every third answer: each exchange returns the right answer or a typed error."""
    with VirtualPn532(card, corrupt_every=3, corrupt_mode="random", seed=seed) as sim:
        drv = connect(sim, exchange_timeout_s=0.3)
        target = drv.poll()
        assert target is not None
        outcomes = {"ok": 0, "error": 0}
        for i in range(24):
            apdu = bytes((i * 31 + j) & 0xFF for j in range(1 + (i * 97) % 700))
            try:
                answer = drv.in_data_exchange(target.tg, apdu)
            except Pn532Error:
                outcomes["error"] += 1
                continue
            assert answer == apdu[::-1] + b"\x90\x00"
            outcomes["ok"] += 1
        assert sim.stats.corrupted_frames >= 8
        assert outcomes["ok"] >= 12  # most damage is repaired by NACK + repeat
        drv.transport.close()


def test_every_answer_corrupt_gives_a_typed_error(card: EchoCard) -> None:
    with VirtualPn532(card, corrupt_every=1, corrupt_mode="dcs") as sim:
        drv = Pn532(Pn532Transport(open_serial(sim.slave_path, 115200), max_nacks=2))
        drv.transport.wake_up()
        with pytest.raises(FrameChecksumError, match="still bad after 2 repeats") as info:
            drv.sam_configuration()
        assert info.value.code == "E_PN532_FRAME_CHECKSUM"
        drv.transport.close()


def test_card_removed_after_n_apdus_is_status_01(card: EchoCard) -> None:
    with VirtualPn532(card, remove_after_apdus=2) as sim:
        drv = connect(sim)
        target = drv.poll()
        assert target is not None
        drv.in_data_exchange(target.tg, b"\x01")
        drv.in_data_exchange(target.tg, b"\x02")
        with pytest.raises(TargetTimeoutError) as info:
            drv.in_data_exchange(target.tg, b"\x03")
        assert (info.value.status, info.value.code) == (0x01, "E_PN532_TARGET_TIMEOUT")
        assert drv.poll() is None
        drv.transport.close()


def test_exchange_without_target_is_status_27(driver: Pn532) -> None:
    with pytest.raises(Pn532StatusError) as info:
        driver.in_data_exchange(1, b"\x00")
    assert info.value.status == 0x27
    assert info.value.code == "E_PN532_STATUS"


def test_in_release_then_exchange_fails(driver: Pn532, card: EchoCard) -> None:
    target = driver.poll()
    assert target is not None
    driver.in_release(0)
    assert card.resets == 2
    with pytest.raises(Pn532StatusError):
        driver.in_data_exchange(target.tg, b"\x00")


def test_slow_card_times_out_and_the_link_recovers(virtual: VirtualPn532, driver: Pn532, card: EchoCard) -> None:
    target = driver.poll()
    assert target is not None
    card.delay_s = 0.6
    driver.exchange_timeout_s = 0.2
    with pytest.raises(Pn532TimeoutError, match="no answer"):
        driver.in_data_exchange(target.tg, b"\x01")
    card.delay_s = 0.0
    time.sleep(0.6)  # the late answer arrives now and must not be taken for the next one
    driver.exchange_timeout_s = 2.0
    assert driver.in_data_exchange(target.tg, b"\x05\x06") == b"\x06\x05\x90\x00"


def test_late_ack_on_exchange_is_not_resent_and_the_link_resyncs(
    virtual: VirtualPn532, driver: Pn532, card: EchoCard
) -> None:
    target = driver.poll()
    assert target is not None
    driver.transport.ack_timeout_s = 0.1
    virtual.ack_delay_s = 0.3
    with pytest.raises(Pn532TimeoutError, match="no ACK"):
        driver.in_data_exchange(target.tg, b"\x01\x02")
    virtual.ack_delay_s = 0.0
    time.sleep(0.4)  # the late ACK and answer are on the line now
    assert driver.in_data_exchange(target.tg, b"\x03\x04") == b"\x04\x03\x90\x00"
    assert card.apdus == [b"\x01\x02", b"\x03\x04"]  # never sent twice
    assert driver.transport.resyncs == 1


def test_resent_command_duplicates_are_dropped(virtual: VirtualPn532, driver: Pn532) -> None:
    target = driver.poll()
    assert target is not None
    driver.transport.ack_timeout_s = 0.1
    virtual.ack_delay_s = 0.15  # the first ACK comes after the host resent: the PN532 runs the command twice
    assert driver.get_firmware_version().ic == 0x32
    virtual.ack_delay_s = 0.0
    for i in range(3):
        assert driver.in_data_exchange(target.tg, bytes([i, 0xAA])) == bytes([0xAA, i, 0x90, 0x00])
    assert driver.transport.resyncs == 1


def test_baud_rate_switch_to_921600(virtual: VirtualPn532, driver: Pn532) -> None:
    driver.set_serial_baud_rate(921600)
    assert driver.transport.baud == 921600
    assert driver.get_firmware_version().ic == 0x32
    assert virtual.baud == 921600
    assert virtual.stats.bytes_lost_to_baud_mismatch == 0
    target = driver.poll()
    assert target is not None
    assert driver.in_data_exchange(target.tg, bytes(700)) == bytes(700) + b"\x90\x00"


def test_host_switching_alone_loses_the_link(virtual: VirtualPn532, driver: Pn532) -> None:
    driver.transport.set_host_baud(921600)  # the PN532 was not told: its UART sees noise
    driver.transport.ack_timeout_s = 0.05
    driver.transport.max_resends = 1
    with pytest.raises(Pn532TimeoutError):
        driver.get_firmware_version()
    assert virtual.stats.bytes_lost_to_baud_mismatch > 0
    driver.transport.set_host_baud(115200)
    assert driver.get_firmware_version().ic == 0x32


def test_unsupported_baud_rate(driver: Pn532) -> None:
    with pytest.raises(Pn532ParameterError) as info:
        driver.set_serial_baud_rate(1_000_000)
    assert info.value.code == "E_PN532_BAD_PARAMETER"


def test_unknown_command_gets_the_error_frame(driver: Pn532) -> None:
    with pytest.raises(Pn532SyntaxError) as info:
        driver.transport.command(0x7E, b"")
    assert info.value.code == "E_PN532_SYNTAX_ERROR"
    assert driver.get_firmware_version().ic == 0x32


def test_silent_line_times_out() -> None:
    master, slave = os.openpty()
    try:
        transport = Pn532Transport(open_serial(os.ttyname(slave), 115200), ack_timeout_s=0.05, max_resends=2)
        start = time.monotonic()
        with pytest.raises(Pn532TimeoutError, match="after 3 tries"):
            transport.command(0x02)
        assert time.monotonic() - start < 2
        assert transport.frames_out == 3
        transport.close()
    finally:
        os.close(master)
        os.close(slave)


def test_open_missing_port_is_typed() -> None:
    with pytest.raises(Pn532Error) as info:
        open_serial("/dev/does-not-exist-pn532", 115200)
    assert info.value.code == "E_PN532_FAULT"


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (0x01, TargetTimeoutError, "E_PN532_TARGET_TIMEOUT"),
        (0x13, RfError, "E_PN532_RF_ERROR"),
        (0x14, RfError, "E_PN532_RF_ERROR"),
        (0x02, RfError, "E_PN532_RF_ERROR"),
        (0x27, Pn532StatusError, "E_PN532_STATUS"),
        (0x29, TargetGoneError, "E_PN532_TARGET_GONE"),
        (0x2B, TargetGoneError, "E_PN532_TARGET_GONE"),
        (0x3E, Pn532StatusError, "E_PN532_STATUS"),
    ],
)
def test_status_bytes_map_to_typed_errors(status: int, error_type: type[Pn532StatusError], code: str) -> None:
    error = status_error(status, "InDataExchange")
    assert type(error) is error_type
    assert error.code == code
    assert f"0x{status:02X}" in error.message
    assert error.remedy


def test_truncated_target_records() -> None:
    with pytest.raises(Pn532ProtocolError):
        parse_target_a(bytes.fromhex("01000420") + b"\x04\x08\xa1")
    with pytest.raises(Pn532ProtocolError):
        parse_target_a(bytes.fromhex("0100042004") + UID + b"\x05\x78")  # ATS shorter than TL says
    with pytest.raises(Pn532ProtocolError):
        parse_target_b(bytes(10))
    plain = parse_target_a(bytes.fromhex("0100040804") + UID)  # SAK 08: no ISO 14443-4
    assert (plain.uid, plain.ats, plain.iso14443_4) == (UID, b"", False)


# ------------------------------------------------------------------ APDU channel
def test_channel_is_an_apdu_channel(driver: Pn532) -> None:
    target = driver.poll()
    assert target is not None
    channel = Pn532ApduChannel(driver, target)
    assert isinstance(channel, ApduChannel)
    assert channel.transmit(b"\x00\xa4\x02\x0c\x02\x01\x1c") == b"\x1c\x01\x02\x0c\x02\xa4\x00\x90\x00"
    assert channel.apdus == 1


def test_channel_maps_card_gone_to_card_removed(card: EchoCard) -> None:
    card.gone_after = 1
    with VirtualPn532(card) as sim:
        drv = connect(sim)
        target = drv.poll()
        assert target is not None
        channel = Pn532ApduChannel(drv, target)
        channel.transmit(b"\x00\x84\x00\x00\x08")
        with pytest.raises(CardRemovedError) as info:
            channel.transmit(b"\x00\x84\x00\x00\x08")
        assert info.value.code == "E_CHIP_CARD_REMOVED"
        assert isinstance(info.value.__cause__, TargetTimeoutError)
        drv.transport.close()


def test_channel_maps_link_failures_to_comm_errors(card: EchoCard) -> None:
    with VirtualPn532(card) as sim:
        drv = connect(sim)
        target = drv.poll()
        assert target is not None
        channel = Pn532ApduChannel(drv, target)
        sim.corrupt_every = 1
        sim.corrupt_mode = "dcs"
        drv.transport.max_nacks = 1
        with pytest.raises(ChipCommunicationError) as info:
            channel.transmit(b"\x00\xb0\x00\x00\x10")
        assert info.value.code == "E_CHIP_COMM"
        sim.corrupt_every = None
        card.answer = b"\x90"
        with pytest.raises(ChipCommunicationError, match="no status word"):
            channel.transmit(b"\x00\xb0\x00\x00\x10")
        drv.transport.close()
