"""Simulators of the gate hardware (card reader, virtual chip) behind the same interfaces as the real drivers."""
