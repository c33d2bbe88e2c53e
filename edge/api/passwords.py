"""Password hashing with scrypt (memory-hard, in the standard library). The hash string carries its parameters:

``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``: stored hashes keep verifying after the defaults change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LOG2_N = 15  # n = 32768, r = 8: 32 MiB per hash; 92 ms on one x86-64 core (measured), slower on a Pi
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAX_LOG2_N = 20


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n * p + (1 << 20), dklen=KEY_BYTES
    )


def hash_password(password: str, *, log2_n: int = LOG2_N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${log2_n}${r}${p}${_b64(salt)}${_b64(_derive(password, salt, log2_n, r, p))}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a wrong password or a malformed hash string."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (1 <= log2_n <= _MAX_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    return hmac.compare_digest(_derive(password, salt, log2_n, r, p), expected)


# Verified against when the username is unknown, so a wrong username costs as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16), log2_n=LOG2_N)
