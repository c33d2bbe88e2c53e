"""`examgate users …`: local console accounts (add, passwd, disable, list). Passwords come from a prompt or stdin,
never from the command line (it would show in `ps` and the shell history)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from edge.api.accounts import ROLES, AccountStore
from edge.api.errors import AccountError
from edge.cliflags import Argument, Command, add_commands
from edge.cmdline import EXIT_OK, add_config_arg, load

if TYPE_CHECKING:
    from edge.cmdline import SubParsers


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise AccountError("the two passwords differ", code="E_ACCOUNT_PASSWORD_MISMATCH", remedy="type it again")
    return first


@contextlib.contextmanager
def _accounts(args: argparse.Namespace) -> Iterator[AccountStore]:
    accounts = AccountStore(load(args).store.path)
    try:
        yield accounts
    finally:
        accounts.close()


def _say(record: dict[str, object]) -> None:
    print(json.dumps(record, ensure_ascii=False))


def cmd_add(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        user = accounts.add_user(args.username, args.role, _password(args), _actor())
    _say({"username": user.username, "role": user.role, "created": True})
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        accounts.set_password(args.username, _password(args), _actor())
    _say({"username": args.username, "password_changed": True})
    return EXIT_OK


def cmd_disable(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        accounts.disable(args.username, _actor())
    _say({"username": args.username, "disabled": True})
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        users = accounts.users()
    for user in users:
        _say({"username": user.username, "role": user.role, "disabled": user.disabled})
    return EXIT_OK


_USERNAME: Argument = ("username", {})
_ROLE: Argument = ("--role", {"required": True, "choices": ROLES})
_PASSWORD_STDIN: Argument = (
    "--password-stdin",
    {"action": "store_true", "help": "read the password from the first line of stdin"},
)
_ACTIONS = (
    Command("add", "create an account", cmd_add, (_USERNAME, _ROLE, _PASSWORD_STDIN)),
    Command("passwd", "set a new password (logs the account out everywhere)", cmd_passwd, (_USERNAME, _PASSWORD_STDIN)),
    Command("disable", "disable an account (logs it out everywhere)", cmd_disable, (_USERNAME,)),
    Command("list", "list the accounts (JSON lines)", cmd_list),
)


def register(sub: SubParsers) -> None:
    users = sub.add_parser("users", help="local accounts of the proctor console (proctor, technician, viewer)")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add_commands(users_sub, _ACTIONS, finish=add_config_arg)
