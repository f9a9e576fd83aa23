"""Password hashing with Argon2id (memory-hard), via argon2-cffi."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults follow RFC 9106's second recommended profile (64 MiB, t=3).
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password that is easy to type (for first logins)."""
    return secrets.token_urlsafe(15)
