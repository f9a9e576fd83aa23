"""Tests for federation.proofs (FEP-8b32 eddsa-jcs-2022 proofs, FEP-521a multikeys).

Vector source: W3C "Data Integrity EdDSA Cryptosuites v1.0" Recommendation, Appendix B.3
"Representation: eddsa-jcs-2022" (examples 29-39), with the key pair of example 29.
A second vector, identical except for its verificationMethod, comes from the spec
repository's TestVectors/eddsa-jcs-2022/signedJCS.json. Ed25519 is deterministic, so
both are reproduced byte for byte, not only verified.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.proofs import (
    ProofError,
    base58btc_decode,
    base58btc_encode,
    create_proof,
    decode_multikey,
    encode_multikey_ed25519,
    proof_verification_method,
    verify_proof,
)

PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
CREDENTIAL: dict[str, Any] = {
    "@context": CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
CANONICAL_CREDENTIAL = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/'
    'examples/v2"],"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:'
    'abcdefgh"},"description":"A minimum viable example of an Alumni Credential.","id":"urn:'
    'uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678","name'
    '":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-'
    '01-01T00:00:00Z"}'
)
CREDENTIAL_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
DID_KEY_METHOD = f"did:key:{PUBLIC_MULTIBASE}#{PUBLIC_MULTIBASE}"
CANONICAL_PROOF_OPTIONS = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/'
    'examples/v2"],"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose'
    '":"assertionMethod","type":"DataIntegrityProof","verificationMethod":"' + DID_KEY_METHOD + '"}'
)
PROOF_OPTIONS_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
SIGNED_CREDENTIAL: dict[str, Any] = CREDENTIAL | {
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": DID_KEY_METHOD,
        "proofPurpose": "assertionMethod",
        "@context": CONTEXT,
        "proofValue": (
            "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
        ),
    }
}
REPO_METHOD = f"https://vc.example/issuers/5678#{PUBLIC_MULTIBASE}"
REPO_PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)

NOTE: dict[str, Any] = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "https://bibnetz.example/notes/1",
    "type": "Note",
    "attributedTo": "https://bibnetz.example/users/stadtbibliothek",
    "content": "Lesecafé am Freitag – Anmeldung nicht nötig",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
}
NOTE_METHOD = "https://bibnetz.example/users/stadtbibliothek#ed25519-key"


@pytest.fixture(scope="module")
def spec_key() -> Ed25519PrivateKey:
    secret = base58btc_decode(SECRET_MULTIBASE[1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(secret[2:])


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signed_note(key: Ed25519PrivateKey) -> dict[str, Any]:
    return create_proof(NOTE, key, NOTE_METHOD, datetime(2025, 3, 1, tzinfo=UTC))


# --- spec vectors ---------------------------------------------------------------------------


def test_spec_key_pair_multikeys(spec_key: Ed25519PrivateKey) -> None:
    assert encode_multikey_ed25519(spec_key.public_key()) == PUBLIC_MULTIBASE
    assert decode_multikey(PUBLIC_MULTIBASE) == spec_key.public_key()


def test_spec_intermediate_values() -> None:
    # Pins the JCS library to the spec's canonical forms and hashes (examples 31-35).
    assert rfc8785.dumps(CREDENTIAL).decode() == CANONICAL_CREDENTIAL
    assert hashlib.sha256(CANONICAL_CREDENTIAL.encode()).hexdigest() == CREDENTIAL_HASH
    options = {k: v for k, v in SIGNED_CREDENTIAL["proof"].items() if k != "proofValue"}
    assert rfc8785.dumps(options).decode() == CANONICAL_PROOF_OPTIONS
    assert hashlib.sha256(CANONICAL_PROOF_OPTIONS.encode()).hexdigest() == PROOF_OPTIONS_HASH


def test_spec_vector_is_reproduced(spec_key: Ed25519PrivateKey) -> None:
    assert create_proof(CREDENTIAL, spec_key, DID_KEY_METHOD, CREATED) == SIGNED_CREDENTIAL


def test_spec_vector_verifies() -> None:
    verify_proof(SIGNED_CREDENTIAL, decode_multikey(PUBLIC_MULTIBASE))
    assert proof_verification_method(SIGNED_CREDENTIAL) == DID_KEY_METHOD


def test_repository_vector_is_reproduced_and_verifies(spec_key: Ed25519PrivateKey) -> None:
    signed = create_proof(CREDENTIAL, spec_key, REPO_METHOD, CREATED)
    assert signed["proof"]["proofValue"] == REPO_PROOF_VALUE
    verify_proof(signed, spec_key.public_key())


# --- round trips ----------------------------------------------------------------------------


def test_round_trip(signed_note: dict[str, Any], key: Ed25519PrivateKey) -> None:
    proof = signed_note["proof"]
    assert proof["created"] == "2025-03-01T00:00:00Z"
    assert proof["@context"] == NOTE["@context"]
    assert proof["proofValue"].startswith("z")
    assert {k: v for k, v in signed_note.items() if k != "proof"} == NOTE
    verify_proof(signed_note, key.public_key())


def test_round_trip_without_context(key: Ed25519PrivateKey) -> None:
    document = {k: v for k, v in NOTE.items() if k != "@context"}
    signed = create_proof(document, key, NOTE_METHOD, datetime(2025, 3, 1, tzinfo=UTC))
    assert "@context" not in signed["proof"]
    verify_proof(signed, key.public_key())


def test_create_proof_does_not_mutate_and_normalises_created(key: Ed25519PrivateKey) -> None:
    original = copy.deepcopy(NOTE)
    plus_two = datetime(2025, 3, 1, 4, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    signed = create_proof(NOTE, key, NOTE_METHOD, plus_two)
    assert original == NOTE
    assert signed["proof"]["created"] == "2025-03-01T02:00:00Z"


def test_extended_document_context_still_verifies(
    signed_note: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    # Spec 3.3.2 step 4: the document's @context may extend the proof's (e.g. a later proof).
    extended = signed_note | {
        "@context": [NOTE["@context"], "https://w3id.org/security/data-integrity/v2"]
    }
    verify_proof(extended, key.public_key())


def test_create_proof_rejects_caller_errors(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        create_proof(NOTE, key, NOTE_METHOD, datetime(2025, 3, 1))
    signed = create_proof(NOTE, key, NOTE_METHOD, datetime(2025, 3, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="already has a proof"):
        create_proof(signed, key, NOTE_METHOD, datetime(2025, 3, 1, tzinfo=UTC))


# --- tampering and malformed proofs ---------------------------------------------------------


_DELETE = object()


def _tamper(document: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("content",), "Lesecafé fällt aus", "does not match"),
        (("to",), [], "does not match"),
        (("bto",), ["https://evil.example/"], "does not match"),
        (("proof", "created"), "2025-03-02T00:00:00Z", "does not match"),
        (("proof", "verificationMethod"), "https://evil.example/key", "does not match"),
        (("proof", "proofValue"), "z" + base58btc_encode(bytes(64)), "does not match"),
        (("proof",), _DELETE, "no proof"),
        (("proof",), [], "proof sets"),
        (("proof",), "z123", "JSON object"),
        (("proof", "type"), "Ed25519Signature2020", "unsupported proof"),
        (("proof", "cryptosuite"), "eddsa-rdfc-2022", "unsupported proof"),
        (("proof", "proofPurpose"), "authentication", "proofPurpose"),
        (("proof", "verificationMethod"), _DELETE, "verificationMethod"),
        (("proof", "created"), "yesterday", "valid datetime"),
        (("proof", "proofValue"), _DELETE, "proofValue must be"),
        (("proof", "proofValue"), "u" + "A" * 86, "proofValue must be"),
        (("proof", "proofValue"), "z0OIl", "invalid base58btc"),
        (("proof", "proofValue"), "z" + base58btc_encode(b"\1" * 63), "not 64"),
        (("proof", "@context"), "https://evil.example/context", "@context"),
        (("@context",), "https://evil.example/context", "@context"),
        (("content",), float("nan"), "canonicalised"),
    ],
)
def test_tampered_or_malformed_proof_is_rejected(
    path: tuple[str, ...],
    value: object,
    message: str,
    signed_note: dict[str, Any],
    key: Ed25519PrivateKey,
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_proof(_tamper(signed_note, path, value), key.public_key())


def test_wrong_key_is_rejected(signed_note: dict[str, Any], spec_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ProofError, match="does not match"):
        verify_proof(signed_note, spec_key.public_key())


def test_other_proof_purpose_can_be_requested(key: Ed25519PrivateKey) -> None:
    signed = create_proof(
        NOTE, key, NOTE_METHOD, datetime(2025, 3, 1, tzinfo=UTC), proof_purpose="authentication"
    )
    verify_proof(signed, key.public_key(), proof_purpose="authentication")
    with pytest.raises(ProofError, match="proofPurpose"):
        verify_proof(signed, key.public_key())


def test_proof_verification_method_errors() -> None:
    with pytest.raises(ProofError, match="no proof"):
        proof_verification_method(NOTE)
    with pytest.raises(ProofError, match="verificationMethod"):
        proof_verification_method(NOTE | {"proof": {"type": "DataIntegrityProof"}})


# --- multikey and base58btc -----------------------------------------------------------------


def test_multikey_round_trip(key: Ed25519PrivateKey) -> None:
    encoded = encode_multikey_ed25519(key.public_key())
    assert encoded.startswith("z6Mk")  # every Ed25519 multikey starts like this
    assert decode_multikey(encoded) == key.public_key()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "starting with 'z'"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "invalid base58btc"),
        (SECRET_MULTIBASE, "not an Ed25519 public key"),
        ("z" + base58btc_encode(b"\xed\x01" + bytes(31)), "not an Ed25519 public key"),
        ("z" + base58btc_encode(b"\x12\x00" + bytes(32)), "not an Ed25519 public key"),
    ],
)
def test_decode_multikey_rejects_bad_values(value: str, message: str) -> None:
    with pytest.raises(ProofError, match=message):
        decode_multikey(value)


@pytest.mark.parametrize(
    "data", [b"", b"\0", b"\0\0\1", b"hello world", bytes(range(256)), b"\xff" * 33]
)
def test_base58btc_round_trip(data: bytes) -> None:
    assert base58btc_decode(base58btc_encode(data)) == data
