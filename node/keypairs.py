"""Key pairs for actors: RSA-2048 for HTTP signatures, Ed25519 for object proofs."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


@dataclass(frozen=True)
class KeyPairPems:
    """PEM-encoded private (PKCS#8) and public (SubjectPublicKeyInfo) keys."""

    private_pem: str
    public_pem: str


def _pems(private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> KeyPairPems:
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPairPems(private_pem, public_pem)


def generate_rsa() -> KeyPairPems:
    """A fresh RSA-2048 key pair (what Mastodon expects for HTTP signatures)."""
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def generate_ed25519() -> KeyPairPems:
    """A fresh Ed25519 key pair (FEP-8b32 object integrity proofs)."""
    return _pems(ed25519.Ed25519PrivateKey.generate())


def load_rsa_private(pem: str) -> rsa.RSAPrivateKey:
    """Load a stored RSA private key.

    Only keys this node generated and keeps in its own database come here, so the RSA
    consistency checks (primality tests: ~40 ms a key, measured) are skipped, as
    cryptography allows for trusted keys. A delivery queue, the fetch signer and each CLI
    command that signs load them.
    """
    key = serialization.load_pem_private_key(
        pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("not an RSA private key")
    return key


def load_ed25519_private(pem: str) -> ed25519.Ed25519PrivateKey:
    """Load a stored Ed25519 private key."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TypeError("not an Ed25519 private key")
    return key
