"""The virtual chip's control flow for an error answer: raise ``Answer(sw)`` and the card returns that status word."""

from __future__ import annotations


class Answer(Exception):  # noqa: N818 - internal control flow: a status word to return, not an error of ours
    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw
