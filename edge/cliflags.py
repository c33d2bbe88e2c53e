"""Command-line interfaces declared as tables: flags with the keyword each feeds, and sub-commands with their arguments.

A command lists its flags in a table, adds them with ``add_flags`` and reads them back with ``keywords``, so that the
mapping from ``--ca`` to ``ca_file`` (say) is written in one place instead of once per parser and once per call.
A command group lists its sub-commands as ``Command`` rows and adds them all with ``add_commands``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
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


Argument = tuple[str, Mapping[str, Any]]  # what ``add_argument`` takes: the name or flag, then its options


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    func: Callable[[argparse.Namespace], int]
    arguments: tuple[Argument, ...] = ()


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    commands: Iterable[Command],
    finish: Callable[[argparse.ArgumentParser], None],
) -> None:
    """One parser per command: its arguments in order, then what ``finish`` adds to every one (e.g. --config)."""
    for command in commands:
        parser = sub.add_parser(command.name, help=command.help)
        for name, options in command.arguments:
            parser.add_argument(name, **options)
        finish(parser)
        parser.set_defaults(func=command.func)
