"""ICAO 9303 eMRTD, reader side: APDUs, BAC, PACE, secure messaging, chip authentication, file reads."""
