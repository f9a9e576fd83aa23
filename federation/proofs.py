"""FEP-8b32 object integrity proofs (``eddsa-jcs-2022``) and FEP-521a Ed25519 multikeys.

Follows W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3: the proof configuration
and the unsecured document are each canonicalised with JCS (RFC 8785), hashed with SHA-256,
and the concatenation ``hash(proofConfig) || hash(document)`` is signed with Ed25519.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub as an unsigned varint
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: i for i, char in enumerate(_ALPHABET)}


class ProofError(Exception):
    """A proof or multikey is missing, malformed, of the wrong kind, or does not verify."""


def base58btc_encode(data: bytes) -> str:
    """Encode bytes as Bitcoin base58 (no multibase prefix)."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_ALPHABET[rest])
    # Each leading zero byte is carried as a leading "1", since the integer drops it.
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin base58 (no multibase prefix), raising ProofError on bad characters."""
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ProofError(f"invalid base58btc character {char!r}")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def encode_multikey_ed25519(public_key: Ed25519PublicKey) -> str:
    """Return the FEP-521a ``publicKeyMultibase`` value for an Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc_encode(_ED25519_PUB + raw)


def decode_multikey(value: str) -> Ed25519PublicKey:
    """Decode a ``publicKeyMultibase`` value holding an Ed25519 key."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("multikey must be a base58btc multibase string starting with 'z'")
    raw = base58btc_decode(value[1:])
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        raise ProofError("multikey is not an Ed25519 public key (multicodec 0xed01, 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def create_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
    *,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``document`` carrying an ``eddsa-jcs-2022`` DataIntegrityProof.

    As the spec's step 2 asks, the proof repeats the document's ``@context`` (so it can
    later join a proof set); verifiers rely on that to rebuild the signed configuration.
    """
    if "proof" in document:
        raise ValueError("document already has a proof; proof sets are not supported")
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in document:
        proof["@context"] = document["@context"]
    signature = private_key.sign(_hash_data(proof, document))
    return {**document, "proof": {**proof, "proofValue": "z" + base58btc_encode(signature)}}


def proof_verification_method(document: dict[str, Any]) -> str:
    """Return the proof's ``verificationMethod`` (the key to fetch before verifying)."""
    method = _proof(document).get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof has no verificationMethod string")
    return method


def verify_proof(
    document: dict[str, Any],
    public_key: Ed25519PublicKey,
    *,
    proof_purpose: str = "assertionMethod",
) -> None:
    """Verify the document's ``eddsa-jcs-2022`` proof, raising ProofError if it fails."""
    proof = _proof(document)
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"unsupported proof {proof.get('type')!r}/{proof.get('cryptosuite')!r};"
            f" expected {PROOF_TYPE}/{CRYPTOSUITE}"
        )
    if proof.get("proofPurpose") != proof_purpose:
        raise ProofError(f"proofPurpose is {proof.get('proofPurpose')!r}, not {proof_purpose!r}")
    proof_verification_method(document)
    created = proof.get("created")
    if created is not None and not _is_datetime(created):
        raise ProofError(f"proof created {created!r} is not a valid datetime")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be a base58btc multibase string starting with 'z'")
    signature = base58btc_decode(value[1:])
    if len(signature) != 64:
        raise ProofError(f"proofValue decodes to {len(signature)} bytes, not 64")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in options:
        # Spec 3.3.2 step 4: the proof's context must prefix the document's, and is then
        # the one that was signed (a later proof in a set may have extended the document's).
        if not _starts_with(_as_list(unsecured.get("@context")), _as_list(options["@context"])):
            raise ProofError("proof @context does not match the document's @context")
        unsecured["@context"] = options["@context"]
    try:
        public_key.verify(signature, _hash_data(options, unsecured))
    except InvalidSignature as exc:
        raise ProofError("proof signature does not match the document") from exc


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ProofError("document must be a JSON object")
    proof = document.get("proof")
    if proof is None:
        raise ProofError("document has no proof")
    if isinstance(proof, list):
        raise ProofError("proof sets (a list of proofs) are not supported")
    if not isinstance(proof, dict):
        raise ProofError("proof must be a JSON object")
    return proof


def _hash_data(proof_config: dict[str, Any], document: dict[str, Any]) -> bytes:
    try:
        config, transformed = rfc8785.dumps(proof_config), rfc8785.dumps(document)
    except rfc8785.CanonicalizationError as exc:
        raise ProofError(f"document cannot be canonicalised with JCS: {exc}") from exc
    return hashlib.sha256(config).digest() + hashlib.sha256(transformed).digest()


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _as_list(context: object) -> list[object]:
    return context if isinstance(context, list) else [] if context is None else [context]


def _starts_with(full: list[object], prefix: list[object]) -> bool:
    return len(prefix) <= len(full) and full[: len(prefix)] == prefix
