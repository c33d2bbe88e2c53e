"""Identity documents: the CCCD chip (ICAO 9303 eMRTD), its data groups, and the card's QR code."""
