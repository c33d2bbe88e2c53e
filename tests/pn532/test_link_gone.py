"""Fault 1 (issue 14): the reader's serial link going away mid-use is a typed PN532 error, never a termios.error."""

from __future__ import annotations

import os

import pytest

from firmware_bridge.pn532.errors import Pn532Error
from firmware_bridge.pn532.transport import Pn532Transport, open_serial

pytestmark = pytest.mark.timeout(20)


def test_pty_closed_under_the_transport_is_a_typed_error() -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    port = open_serial(path, 115200)
    os.close(slave)
    transport = Pn532Transport(port)  # type: ignore[arg-type]
    os.close(master)  # the USB adapter is unplugged: the slave side now answers EIO
    try:
        with pytest.raises(Pn532Error) as caught:
            transport.command(0x02, timeout_s=0.2)  # GetFirmwareVersion: flush, write, read
        assert caught.value.code == "E_PN532_FAULT"
        assert "serial" in caught.value.message
        with pytest.raises(Pn532Error):
            transport.flush_input()
    finally:
        transport.close()
