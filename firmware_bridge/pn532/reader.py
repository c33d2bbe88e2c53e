"""The lane's ``CardReader`` on a PN532 (config kind ``pn532``): poll for a card, read and verify its chip.

A read is: ISO 14443-4 channel through the PN532 → ``EmrtdSession`` (PACE or BAC, secure messaging, EF.COM,
DG1, DG2, DG13, DG14/CA, DG15/AA, EF.SOD) → ``edge.identity.chip_read.verify_read`` (LDS parsers, passive
authentication against the CSCA trust store). ``read_verified`` returns everything (for ``examgate chip read``);
``read`` maps it onto ``ChipIdentity``.

A serial link that goes away (USB adapter unplugged, pty closed) raises a typed ``E_PN532_…``/``E_CHIP_COMM``
error and drops the connection; the next ``poll`` opens the port again, so the reader comes back by itself
when the device does (same path, e.g. a udev ``/dev/serial/by-id/…`` link).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from edge.device_config import Pn532ReaderConfig
from edge.devices import AccessKey, CardTap, ChipIdentity
from edge.errors import DeviceError
from edge.identity.chip_read import READ_FILES, NoCardError, VerifiedRead, verify_read
from edge.identity.emrtd.errors import CardRemovedError
from edge.identity.emrtd.session import EmrtdSession
from edge.identity.trust_store import NO_VNM, TrustStore
from edge.masking import mask_id
from firmware_bridge.pn532.channel import Pn532ApduChannel
from firmware_bridge.pn532.driver import Pn532, Target
from firmware_bridge.pn532.errors import Pn532Error, Pn532TimeoutError
from firmware_bridge.pn532.transport import Pn532Transport, SerialPort, open_serial

log = logging.getLogger(__name__)

PN532_IC = 0x32
POLL_PAUSE_S = 0.05
SELF_CHECK_POLL_S = 1.0


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Pn532CardReader:
    """``edge.devices.CardReader`` on a PN532. Opens the port lazily and reconnects after a link failure."""

    def __init__(
        self,
        config: Pn532ReaderConfig,
        *,
        trust: TrustStore | None = None,
        open_port: Callable[[str, int], SerialPort] = open_serial,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.config = config
        if trust is None:
            if config.csca_dir is None:
                log.warning("reader.csca_dir is not set: %s", NO_VNM)
            trust = TrustStore.load(config.csca_dir) if config.csca_dir else TrustStore.from_certificates([])
        self.trust = trust
        self._open_port = open_port
        self._clock = clock
        self._driver: Pn532 | None = None
        self._target: Target | None = None
        self._last_read_uid: bytes | None = None
        self.last_channel: Pn532ApduChannel | None = None

    # ------------------------------------------------------------------ connection
    def _connect_at(self, baud: int) -> Pn532:
        driver = Pn532(Pn532Transport(self._open_port(self.config.port, baud)))
        try:
            driver.wake_up()
            self._check_chip(driver)
            driver.set_max_retries(passive_activation=0x01)
            if self.config.target_baud != baud:
                driver.set_serial_baud_rate(self.config.target_baud)
                driver.get_firmware_version()  # proves the link at the new speed
        except Exception:
            driver.transport.close()
            raise
        return driver

    def _check_chip(self, driver: Pn532) -> None:
        version = driver.get_firmware_version()
        if version.ic != PN532_IC:
            raise DeviceError(f"the device on {self.config.port} is not a PN532 (IC 0x{version.ic:02X})")

    def connect(self) -> Pn532:
        """The driver, connected and configured. A PN532 left at the target speed by an earlier run is found too."""
        if self._driver is not None:
            return self._driver
        speeds = list(dict.fromkeys((self.config.baud, self.config.target_baud)))
        for i, baud in enumerate(speeds):
            try:
                self._driver = self._connect_at(baud)
                log.info("PN532 on %s at %d baud", self.config.port, self._driver.transport.baud)
                return self._driver
            except Pn532TimeoutError:
                if i == len(speeds) - 1:
                    raise
                log.info("no answer from the PN532 at %d baud, trying %d", baud, speeds[i + 1])
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._driver is not None:
            try:
                self._driver.transport.close()
            finally:
                self._driver = None
                self._target = None

    def _drop_link(self) -> None:
        """After a link failure: forget the connection so the next call starts over (wake-up included)."""
        self.close()

    # ------------------------------------------------------------------ selftest
    def self_check(self) -> str:
        """Connect (wake-up, firmware, speed switch) and poll once; one line for ``examgate selftest``."""
        driver = self.connect()
        try:
            version = driver.get_firmware_version()
            target = driver.poll(timeout_s=min(self.config.poll_timeout_s, SELF_CHECK_POLL_S))
            if target is not None:
                driver.in_release(0)
        except Pn532Error:
            self._drop_link()
            raise
        card = (
            "no card in the field"
            if target is None
            else f"a Type {target.card_type} card is in the field (ISO 14443-4: {target.iso14443_4})"
        )
        return (
            f"PN532 on {self.config.port}: IC 0x{version.ic:02X} firmware {version.version}.{version.revision} "
            f"at {driver.transport.baud} baud; poll ok, {card}"
        )

    # ------------------------------------------------------------------ CardReader
    def poll(self, timeout_s: float) -> CardTap | None:
        """A new card in the field. A card read successfully is not reported again until it has left the field
        (polls find no card), so a card left lying on the reader is read once."""
        deadline = time.monotonic() + timeout_s
        try:
            driver = self.connect()
            while True:
                target = driver.poll()
                if target is None:
                    self._last_read_uid = None
                elif target.uid != self._last_read_uid:
                    self._target = target
                    return CardTap(uid=target.uid)
                if time.monotonic() + POLL_PAUSE_S >= deadline:
                    return None
                time.sleep(POLL_PAUSE_S)
        except Pn532Error:
            self._drop_link()
            raise

    def read(self, tap: CardTap, key: AccessKey | None) -> ChipIdentity:
        return self.read_verified(tap, key).to_chip_identity()

    def read_verified(self, tap: CardTap, key: AccessKey | None) -> VerifiedRead:
        """Read the tapped card (it must still be in the field) and verify it."""
        started = time.perf_counter()
        try:
            driver = self.connect()
            target = self._target
            if target is None or target.uid != tap.uid:
                target = driver.poll()
                if target is None:
                    raise NoCardError("no card on the reader")
                if target.uid != tap.uid:
                    raise CardRemovedError("a different card is on the reader now")
        except Pn532Error:
            self._drop_link()
            raise
        channel = Pn532ApduChannel(driver, target, deadline=time.monotonic() + self.config.read_timeout_s)
        self.last_channel = channel
        try:
            session = EmrtdSession(channel, key or AccessKey(), max_chunk_bytes=self.config.max_read_bytes)
            result = session.read(READ_FILES)
        finally:
            self._release(driver)
        self._last_read_uid = target.uid
        verified = verify_read(result, self.trust, self._clock())
        verified.timings_ms["total"] = (time.perf_counter() - started) * 1000
        log.info(
            "chip read: %s, id %s, %d APDUs, passive auth %s, %.0f ms",
            result.access_protocol,
            mask_id(verified.mrz.personal_id or verified.mrz.document_number),
            result.apdus,
            verified.passive_auth.status,
            verified.timings_ms["total"],
        )
        return verified

    def _release(self, driver: Pn532) -> None:
        self._target = None
        try:
            driver.in_release(0)
        except Pn532Error as exc:
            log.info("InRelease failed (%s); reconnecting on the next poll", exc.code)
            self._drop_link()
