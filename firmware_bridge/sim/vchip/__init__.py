"""Virtual CCCD chip (card side of ICAO 9303): PACE, BAC, secure messaging, CA/AA, files from an identity file."""
