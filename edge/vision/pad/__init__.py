"""Presentation-attack detection (issue 12): MiniFASNet scores on context crops, multi-frame signals."""
