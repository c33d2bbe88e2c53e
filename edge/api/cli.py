"""`examgate users …`: local console accounts (add, passwd, disable, list). Passwords come from a prompt or stdin,
never from the command line (it would show in `ps` and the shell history)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING

from edge.api.accounts import ROLES, AccountStore
from edge.api.errors import AccountError
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


def _accounts(args: argparse.Namespace) -> AccountStore:
    return AccountStore(load(args).store.path)


def cmd_add(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        user = accounts.add_user(args.username, args.role, _password(args), _actor())
    finally:
        accounts.close()
    print(json.dumps({"username": user.username, "role": user.role, "created": True}, ensure_ascii=False))
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        accounts.set_password(args.username, _password(args), _actor())
    finally:
        accounts.close()
    print(json.dumps({"username": args.username, "password_changed": True}, ensure_ascii=False))
    return EXIT_OK


def cmd_disable(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        accounts.disable(args.username, _actor())
    finally:
        accounts.close()
    print(json.dumps({"username": args.username, "disabled": True}, ensure_ascii=False))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        users = accounts.users()
    finally:
        accounts.close()
    for user in users:
        print(json.dumps({"username": user.username, "role": user.role, "disabled": user.disabled}, ensure_ascii=False))
    return EXIT_OK


def register(sub: SubParsers) -> None:
    users = sub.add_parser("users", help="local accounts of the proctor console (proctor, technician, viewer)")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = users_sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add_config_arg(add)
    add.set_defaults(func=cmd_add)

    passwd = users_sub.add_parser("passwd", help="set a new password (logs the account out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add_config_arg(passwd)
    passwd.set_defaults(func=cmd_passwd)

    disable = users_sub.add_parser("disable", help="disable an account (logs it out everywhere)")
    disable.add_argument("username")
    add_config_arg(disable)
    disable.set_defaults(func=cmd_disable)

    listing = users_sub.add_parser("list", help="list the accounts (JSON lines)")
    add_config_arg(listing)
    listing.set_defaults(func=cmd_list)
