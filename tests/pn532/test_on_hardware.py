"""A real PN532 on a serial port (opt-in: ``EXAMGATE_PN532_PORT=/dev/serial0 pytest -m hardware tests/pn532``).

With ``EXAMGATE_TEST_CAN`` set and a CCCD on the reader, also reads the card.
"""

from __future__ import annotations

import os

import pytest

from edge.device_config import Pn532ReaderConfig
from edge.devices import AccessKey
from firmware_bridge.pn532.driver import Pn532
from firmware_bridge.pn532.reader import Pn532CardReader
from firmware_bridge.pn532.transport import Pn532Transport, open_serial

PORT = os.environ.get("EXAMGATE_PN532_PORT", "")

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not PORT, reason="set EXAMGATE_PN532_PORT to the PN532's serial port"),
    pytest.mark.timeout(60),
]


def test_firmware_and_baud_switch() -> None:
    driver = Pn532(Pn532Transport(open_serial(PORT, 115200)))
    try:
        driver.wake_up()
        assert driver.get_firmware_version().ic == 0x32
        driver.set_max_retries(passive_activation=1)
        driver.set_serial_baud_rate(921600)
        assert driver.get_firmware_version().ic == 0x32
        driver.set_serial_baud_rate(115200)
    finally:
        driver.transport.close()


@pytest.mark.skipif(
    not os.environ.get("EXAMGATE_TEST_CAN"), reason="set EXAMGATE_TEST_CAN and put a CCCD on the reader"
)
def test_read_a_real_card() -> None:
    reader = Pn532CardReader(Pn532ReaderConfig(port=PORT))
    try:
        tap = reader.poll(10.0)
        assert tap is not None, "no card on the reader"
        identity = reader.read(tap, AccessKey(can=os.environ["EXAMGATE_TEST_CAN"]))
        assert len(identity.personal_id) == 12
        assert identity.face_image
    finally:
        reader.close()
