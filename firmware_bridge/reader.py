"""Card readers: card fixtures in a folder (tests, demo) and a PN532 on a serial port. The one reader-kind dispatch."""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from edge.device_config import Pn532ReaderConfig, SimulatedReaderConfig
from edge.devices import CheckableReader
from edge.errors import ConfigError

if TYPE_CHECKING:
    from edge.identity.trust_store import TrustStore
    from firmware_bridge.pn532.reader import Pn532CardReader
    from firmware_bridge.sim.fixture_reader import FixtureCardReader

__all__ = ["open_reader"]


@overload
def open_reader(cfg: Pn532ReaderConfig, *, trust: TrustStore | None = None) -> Pn532CardReader: ...
@overload
def open_reader(cfg: SimulatedReaderConfig, *, trust: TrustStore | None = None) -> FixtureCardReader: ...
@overload
def open_reader(
    cfg: SimulatedReaderConfig | Pn532ReaderConfig, *, trust: TrustStore | None = None
) -> CheckableReader: ...
def open_reader(cfg: SimulatedReaderConfig | Pn532ReaderConfig, *, trust: TrustStore | None = None) -> CheckableReader:
    """The reader the config names. ``trust`` replaces the PN532 reader's ``csca_dir`` store (``chip read --csca``).

    Nothing is opened yet: the PN532's port opens at the first ``poll`` (and again after a link failure); a
    fixture folder that does not exist is refused here (``E_SIM_FIXTURE_INVALID``).
    """
    if isinstance(cfg, SimulatedReaderConfig):
        from firmware_bridge.sim.fixture_reader import FixtureCardReader  # noqa: PLC0415 (load a backend only when chosen)

        return FixtureCardReader(cfg.cards_dir)
    if isinstance(cfg, Pn532ReaderConfig):
        from firmware_bridge.pn532.reader import Pn532CardReader  # noqa: PLC0415 (the serial stack only when chosen)

        return Pn532CardReader(cfg, trust=trust)
    raise ConfigError(f"unknown reader kind {cfg!r}")
