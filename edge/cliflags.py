"""Command-line flags that feed a function's keywords, declared once: the flag, the keyword it becomes, its options.

A command lists its flags in a table, adds them with ``add_flags`` and reads them back with ``keywords``, so that the
mapping from ``--ca`` to ``ca_file`` (say) is written in one place instead of once per parser and once per call.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Flag:
    flag: str  # e.g. "--password-file"; argparse stores it as ``password_file``
    keyword: str  # the keyword argument it feeds
    options: Mapping[str, Any] = field(default_factory=dict)  # for ``add_argument`` (type, help, action, …)

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


def add_flags(parser: argparse.ArgumentParser, flags: Iterable[Flag]) -> None:
    for flag in flags:
        parser.add_argument(flag.flag, **flag.options)


def keywords(args: argparse.Namespace, flags: Iterable[Flag]) -> dict[str, Any]:
    """The parsed value of each flag under the keyword it feeds."""
    return {flag.keyword: getattr(args, flag.dest) for flag in flags}
