"""Tests for federation.httpsig (draft-cavage-12) and federation.rfc9421 (RFC 9421).

Vector sources:
- draft-cavage-http-signatures-12, Appendix C: the 1024-bit "Test" key, the request, and the
  C.1/C.2/C.3 signatures. RSASSA-PKCS1-v1_5 is deterministic, so the tests also re-sign and
  must reproduce the published values bit for bit.
- RFC 9421, Appendix B: test-key-rsa-pss (B.1.2, public part), test-key-ed25519 (B.1.4),
  the test-request (B.2), B.2.1, B.2.3 and B.2.6, the B.4 transformation example and the
  section 3.2 example. Ed25519 is deterministic, so B.2.6 is also re-signed exactly.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from multidict import CIMultiDict, CIMultiDictProxy

from federation.httpsig import (
    InvalidSignature,
    MalformedSignature,
    PrivateKey,
    PublicKey,
    body_digest,
    cavage_signing_string,
    header_value,
    load_public_key_pem,
    parse_cavage_params,
    parse_signature,
    sign_bytes,
    sign_request,
    verify_bytes,
    verify_signature,
)
from federation.rfc9421 import InnerList, parse_dictionary, sign_request_rfc9421, signature_base

# --- draft-cavage-http-signatures-12, Appendix C ------------------------------------------

CAVAGE_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
CAVAGE_PRIVATE_PEM = b"""-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
"""
CAVAGE_URL = "https://example.com/foo?param=value&pet=dog"
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
CAVAGE_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV"
    "5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3"
    "HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52"
    "LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
C1_STRING = "date: Sun, 05 Jan 2014 21:31:40 GMT"
C2_STRING = (
    "(request-target): post /foo?param=value&pet=dog\n"
    "host: example.com\n"
    "date: Sun, 05 Jan 2014 21:31:40 GMT"
)
C3_STRING = (
    C2_STRING + "\ncontent-type: application/json\n"
    "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    "content-length: 18"
)
C3_HEADERS = "(request-target) host date content-type digest content-length"

# --- RFC 9421, Appendix B ------------------------------------------------------------------

RFC_RSA_PSS_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
RFC_ED25519_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_ED25519_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": RFC_CONTENT_DIGEST,
    "Content-Length": "18",
}
RFC_NOW = datetime.fromtimestamp(1618884473, UTC)
B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++"
    "wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72"
    "rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/Q"
    "EVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    ' "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt"
    "683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNm"
    "vKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim"
    "5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B23_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@query": ?param=Value&Pet=dog\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    f'"content-digest": {RFC_CONTENT_DIGEST}\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type"'
    ' "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type"'
    ' "content-length");created=1618884473;keyid="test-key-ed25519"'
)
SECTION_3_2_INPUT = (
    'sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type")'
    ';created=1618884473;keyid="test-key-rsa-pss"'
)
SECTION_3_2_SIGNATURE = (
    "sig1=:HIbjHC5rS0BYaa9v4QfD4193TORw7u9edguPh0AW3dMq9WImrlFrCGUDih47vAxi4L2YRZ3XMJc1uOKk/J0Z"
    "mZ+wcta4nKIgBkKq0rM9hs3CQyxXGxHLMCy8uqK488o+9jrptQ+xFPHK7a9sRL1IXNaagCNN3ZxJsYapFj+JXbmaI"
    "5rtAdSfSvzPuBCh+ARHBmWuNo1UzVVdHXrl8ePL4cccqlazIJdC4QEjrF+Sn4IxBQzTZsL9y9TP5FsZYzHvDqbInk"
    "TNigBcE9cKOYNFCn4D/WM7F6TNuZO9EgtzepLWcjTymlHzK7aXq6Am6sfOrpIC49yXjj3ae6HRalVc/g==:"
)
B4_INPUT = (
    'transform=("@method" "@path" "@authority" "accept");created=1618884473'
    ';keyid="test-key-ed25519"'
)
B4_SIGNATURE = (
    "transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0"
    "pmj3NDA==:"
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
INBOX = "https://library.example:8443/users/alice/inbox?page=2"
ACTIVITY = b'{"type": "Create", "actor": "https://bibnetz.example/actor"}'


@pytest.fixture(scope="module")
def cavage_private() -> RSAPrivateKey:
    key = serialization.load_pem_private_key(CAVAGE_PRIVATE_PEM, None)
    assert isinstance(key, RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def cavage_public() -> PublicKey:
    return load_public_key_pem(CAVAGE_PUBLIC_PEM)


@pytest.fixture(scope="module")
def rsa_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rfc_ed25519() -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(RFC_ED25519_PRIVATE_PEM, None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _sig_value(header: str) -> bytes:
    """Return the raw bytes of a ``label=:base64:`` Signature field."""
    return base64.b64decode(header.partition("=")[2].strip(":"))


def _post_headers() -> dict[str, str]:
    return {"Content-Type": "application/activity+json"}


def _get_headers() -> dict[str, str]:
    return {"Accept": "application/activity+json"}


def _cavage_post(key: PrivateKey, algorithm: str | None = None) -> dict[str, str]:
    headers = _post_headers()
    return headers | sign_request(
        "POST", INBOX, headers, ACTIVITY, "key", key, algorithm=algorithm, now=NOW
    )


def _rfc9421_post(key: PrivateKey, alg: str | None = None) -> dict[str, str]:
    headers = _post_headers()
    return headers | sign_request_rfc9421(
        "POST", INBOX, headers, ACTIVITY, "key", key, created=NOW, alg=alg
    )


# --- draft-cavage-12 Appendix C vectors ----------------------------------------------------


def test_body_digest_matches_appendix_c() -> None:
    assert body_digest(CAVAGE_BODY) == CAVAGE_HEADERS["Digest"]


@pytest.mark.parametrize(
    ("covered", "expected_string", "expected_signature"),
    [
        pytest.param(["date"], C1_STRING, C1_SIGNATURE, id="C.1-default"),
        pytest.param(["(request-target)", "host", "date"], C2_STRING, C2_SIGNATURE, id="C.2-basic"),
        pytest.param(C3_HEADERS.split(), C3_STRING, C3_SIGNATURE, id="C.3-all-headers"),
    ],
)
def test_appendix_c_signing_string_and_signature(
    covered: list[str],
    expected_string: str,
    expected_signature: str,
    cavage_private: RSAPrivateKey,
    cavage_public: PublicKey,
) -> None:
    signing_string = cavage_signing_string("POST", CAVAGE_URL, CAVAGE_HEADERS, covered)
    assert signing_string == expected_string.encode()
    # PKCS#1 v1.5 is deterministic: re-signing must give the published bytes.
    signature = sign_bytes(cavage_private, "rsa-sha256", signing_string)
    assert base64.b64encode(signature).decode() == expected_signature
    verify_bytes(cavage_public, "rsa-sha256", signing_string, base64.b64decode(expected_signature))


def test_appendix_c3_verifies_end_to_end(cavage_public: PublicKey) -> None:
    headers = CAVAGE_HEADERS | {
        "Signature": f'keyId="Test",algorithm="rsa-sha256",headers="{C3_HEADERS}",'
        f'signature="{C3_SIGNATURE}"'
    }
    parsed = parse_signature("POST", CAVAGE_URL, headers, CAVAGE_BODY)
    assert (parsed.scheme, parsed.key_id, parsed.algorithm) == ("cavage", "Test", "rsa-sha256")
    assert parsed.covered == tuple(C3_HEADERS.split())
    assert parsed.signature_base == C3_STRING.encode()
    assert parsed.date == CAVAGE_HEADERS["Date"]
    verify_signature(parsed, cavage_public, CAVAGE_NOW)


@pytest.mark.parametrize("header", ["Signature", "Authorization"])
def test_appendix_c1_is_rejected_as_under_covered(header: str) -> None:
    value = f'keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'
    if header == "Authorization":
        value = "Signature " + value
    with pytest.raises(MalformedSignature, match="request-target"):
        parse_signature("POST", CAVAGE_URL, CAVAGE_HEADERS | {header: value}, CAVAGE_BODY)


def test_appendix_c2_is_rejected_when_a_body_is_not_digested() -> None:
    value = (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
        f'signature="{C2_SIGNATURE}"'
    )
    with pytest.raises(MalformedSignature, match="digest"):
        parse_signature("POST", CAVAGE_URL, CAVAGE_HEADERS | {"Signature": value}, CAVAGE_BODY)


def test_appendix_c2_verifies_without_a_body(cavage_public: PublicKey) -> None:
    value = (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
        f'signature="{C2_SIGNATURE}"'
    )
    parsed = parse_signature("POST", CAVAGE_URL, CAVAGE_HEADERS | {"Signature": value}, None)
    verify_signature(parsed, cavage_public, CAVAGE_NOW)


def test_parse_cavage_params_accepts_spaces_and_numbers() -> None:
    params = parse_cavage_params('keyId="Test", created=1402170695 ,headers="date",signature="x"')
    assert params == {"keyId": "Test", "created": "1402170695", "headers": "date", "signature": "x"}


# --- RFC 9421 Appendix B vectors ------------------------------------------------------------


def test_rfc9421_ed25519_test_key_pair_matches(rfc_ed25519: Ed25519PrivateKey) -> None:
    public = load_public_key_pem(RFC_ED25519_PUBLIC_PEM)
    assert isinstance(public, Ed25519PublicKey)
    assert rfc_ed25519.public_key() == public


def test_rfc9421_b26_base_and_signature(rfc_ed25519: Ed25519PrivateKey) -> None:
    inner = parse_dictionary(B26_INPUT, "Signature-Input")["sig-b26"]
    assert isinstance(inner, InnerList)
    base = signature_base("POST", RFC_URL, RFC_HEADERS, inner)
    assert base == B26_BASE.encode()
    public = load_public_key_pem(RFC_ED25519_PUBLIC_PEM)
    verify_bytes(public, "ed25519", base, _sig_value(B26_SIGNATURE))


def test_rfc9421_b26_signing_reproduces_the_vector(rfc_ed25519: Ed25519PrivateKey) -> None:
    headers = {k: v for k, v in RFC_HEADERS.items() if k != "Content-Digest"}
    added = sign_request_rfc9421(
        "POST",
        RFC_URL,
        headers,
        RFC_BODY,
        "test-key-ed25519",
        rfc_ed25519,
        created=RFC_NOW,
        components=["date", "@method", "@path", "@authority", "content-type", "content-length"],
        label="sig-b26",
        include_alg=False,
    )
    assert added["Signature-Input"] == B26_INPUT
    assert added["Signature"] == B26_SIGNATURE


def test_rfc9421_b26_is_rejected_because_the_body_is_not_digested() -> None:
    headers = RFC_HEADERS | {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    with pytest.raises(MalformedSignature, match="content-digest"):
        parse_signature("POST", RFC_URL, headers, RFC_BODY)


def test_rfc9421_b21_minimal_signature() -> None:
    inner = parse_dictionary(B21_INPUT, "Signature-Input")["sig-b21"]
    assert isinstance(inner, InnerList)
    base = signature_base("POST", RFC_URL, RFC_HEADERS, inner)
    assert base == B21_INPUT.replace("sig-b21=", '"@signature-params": ').encode()
    public = load_public_key_pem(RFC_RSA_PSS_PUBLIC_PEM)
    verify_bytes(public, "rsa-pss-sha512", base, _sig_value(B21_SIGNATURE))
    # Covers nothing, so the application policy refuses it before any key is fetched.
    headers = RFC_HEADERS | {"Signature-Input": B21_INPUT, "Signature": B21_SIGNATURE}
    with pytest.raises(MalformedSignature, match="@method"):
        parse_signature("POST", RFC_URL, headers, RFC_BODY)


def test_rfc9421_b23_full_coverage_verifies_end_to_end() -> None:
    headers = RFC_HEADERS | {"Signature-Input": B23_INPUT, "Signature": B23_SIGNATURE}
    parsed = parse_signature("POST", RFC_URL, headers, RFC_BODY)
    assert (parsed.scheme, parsed.label, parsed.key_id) == (
        "rfc9421",
        "sig-b23",
        "test-key-rsa-pss",
    )
    assert parsed.algorithm is None
    assert parsed.created == RFC_NOW
    assert parsed.signature_base == B23_BASE.encode()
    # No alg parameter: the RSA key is tried with PKCS#1 v1.5, then with PSS-SHA512.
    verify_signature(parsed, load_public_key_pem(RFC_RSA_PSS_PUBLIC_PEM), RFC_NOW)


def test_rfc9421_section_3_2_example_verifies() -> None:
    headers = RFC_HEADERS | {
        "Signature-Input": SECTION_3_2_INPUT,
        "Signature": SECTION_3_2_SIGNATURE,
    }
    parsed = parse_signature("POST", RFC_URL, headers, RFC_BODY)
    verify_signature(parsed, load_public_key_pem(RFC_RSA_PSS_PUBLIC_PEM), RFC_NOW)


def test_rfc9421_picks_the_requested_label() -> None:
    headers = RFC_HEADERS | {
        "Signature-Input": f"{B26_INPUT}, {B23_INPUT}",
        "Signature": f"{B26_SIGNATURE}, {B23_SIGNATURE}",
    }
    parsed = parse_signature("POST", RFC_URL, headers, RFC_BODY, label="sig-b23")
    verify_signature(parsed, load_public_key_pem(RFC_RSA_PSS_PUBLIC_PEM), RFC_NOW)
    with pytest.raises(MalformedSignature, match="content-digest"):
        parse_signature("POST", RFC_URL, headers, RFC_BODY)  # the first label, sig-b26


@pytest.mark.parametrize(
    ("method", "url", "lines", "valid"),
    [
        pytest.param(
            "GET",
            "https://example.org/demo?name1=Value1&Name2=value2",
            [("Host", "example.org"), ("Accept", "application/json"), ("Accept", "*/*")],
            True,
            id="original",
        ),
        pytest.param(
            "GET",
            "https://example.org/demo?name1=Value1&Name2=value2&param=added",
            [("Accept", "application/json, */*"), ("Accept-Language", "en-US,en;q=0.5")],
            True,
            id="collapsed-accept-added-query",
        ),
        pytest.param(
            "POST",
            "https://example.com/demo?name1=Value1&Name2=value2",
            [("Accept", "application/json"), ("Accept", "*/*")],
            False,
            id="changed-method-and-authority",
        ),
        pytest.param(
            "GET",
            "https://example.org/demo?name1=Value1&Name2=value2",
            [("Accept", "*/*"), ("Accept", "application/json")],
            False,
            id="reordered-accept-values",
        ),
    ],
)
def test_rfc9421_b4_transformations(
    method: str, url: str, lines: list[tuple[str, str]], valid: bool
) -> None:
    headers = CIMultiDict(lines)
    headers["Signature-Input"] = B4_INPUT
    headers["Signature"] = B4_SIGNATURE
    parsed = parse_signature(method, url, CIMultiDictProxy(headers), None)
    public = load_public_key_pem(RFC_ED25519_PUBLIC_PEM)
    if valid:
        verify_signature(parsed, public, RFC_NOW)
    else:
        with pytest.raises(InvalidSignature):
            verify_signature(parsed, public, RFC_NOW)


# --- round trips ----------------------------------------------------------------------------


def test_sign_request_post_headers(rsa_key: RSAPrivateKey) -> None:
    added = sign_request(
        "POST", INBOX, _post_headers(), ACTIVITY, "https://a/key", rsa_key, now=NOW
    )
    assert added["Host"] == "library.example:8443"
    assert added["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"
    assert added["Digest"] == body_digest(ACTIVITY)
    params = parse_cavage_params(added["Signature"])
    assert params["keyId"] == "https://a/key"
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"] == "(request-target) host date digest content-type"


def test_sign_request_get_headers_and_request_target(rsa_key: RSAPrivateKey) -> None:
    added = sign_request("GET", INBOX, _get_headers(), None, "k", rsa_key, now=NOW)
    assert "Digest" not in added
    assert parse_cavage_params(added["Signature"])["headers"] == "(request-target) host date accept"
    parsed = parse_signature("GET", INBOX, _get_headers() | added, None)
    assert parsed.signature_base.startswith(b"(request-target): get /users/alice/inbox?page=2\n")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Example.ORG:443/inbox", "example.org"),
        ("http://example.org:80/inbox", "example.org"),
        ("http://example.org:8080/inbox", "example.org:8080"),
        ("https://[2001:db8::1]:8443/inbox", "[2001:db8::1]:8443"),
    ],
)
def test_sign_request_host_drops_only_default_ports(
    url: str, host: str, rsa_key: RSAPrivateKey
) -> None:
    assert sign_request("GET", url, {}, None, "k", rsa_key, now=NOW)["Host"] == host


def test_sign_request_rejects_relative_url_and_bad_algorithm(rsa_key: RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="relative"):
        sign_request("GET", "/inbox", {}, None, "k", rsa_key, now=NOW)
    with pytest.raises(ValueError, match="unsupported"):
        sign_request("GET", INBOX, {}, None, "k", rsa_key, algorithm="hmac-sha256", now=NOW)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_rsa_sha256_round_trip(method: str, rsa_key: RSAPrivateKey) -> None:
    body, headers = (ACTIVITY, _post_headers()) if method == "POST" else (None, _get_headers())
    headers |= sign_request(method, INBOX, headers, body, "key", rsa_key, now=NOW)
    parsed = parse_signature(method, INBOX, headers, body)
    assert parsed.algorithm == "rsa-sha256"
    verify_signature(parsed, rsa_key.public_key(), NOW + timedelta(minutes=5))


@pytest.mark.parametrize("key_name", ["rsa_key", "ed_key"])
def test_hs2019_round_trip(key_name: str, request: pytest.FixtureRequest) -> None:
    key: PrivateKey = request.getfixturevalue(key_name)
    headers = _cavage_post(key, "hs2019")
    parsed = parse_signature("POST", INBOX, headers, ACTIVITY)
    assert parsed.algorithm == "hs2019"
    verify_signature(parsed, key.public_key(), NOW)


@pytest.mark.parametrize(
    ("key_name", "alg"),
    [("ed_key", None), ("rsa_key", None), ("rsa_key", "rsa-pss-sha512")],
)
def test_rfc9421_round_trip(key_name: str, alg: str | None, request: pytest.FixtureRequest) -> None:
    key: PrivateKey = request.getfixturevalue(key_name)
    headers = _rfc9421_post(key, alg)
    assert headers["Content-Digest"].startswith("sha-256=:")
    parsed = parse_signature("POST", INBOX, headers, ACTIVITY)
    expected = alg or ("ed25519" if key_name == "ed_key" else "rsa-v1_5-sha256")
    assert parsed.algorithm == expected
    assert parsed.covered == ("@method", "@target-uri", "content-digest", "content-type")
    verify_signature(parsed, key.public_key(), NOW)


def test_headers_are_case_insensitive_with_multidict(rsa_key: RSAPrivateKey) -> None:
    signed = _cavage_post(rsa_key)
    proxy = CIMultiDictProxy(CIMultiDict((k.upper(), v) for k, v in signed.items()))
    verify_signature(parse_signature("POST", INBOX, proxy, ACTIVITY), rsa_key.public_key(), NOW)
    lowered = {k.lower(): v for k, v in _rfc9421_post(rsa_key).items()}
    verify_signature(parse_signature("POST", INBOX, lowered, ACTIVITY), rsa_key.public_key(), NOW)


def test_relative_url_uses_the_host_header(rsa_key: RSAPrivateKey) -> None:
    headers = _cavage_post(rsa_key)
    parsed = parse_signature("POST", "/users/alice/inbox?page=2", headers, ACTIVITY)
    verify_signature(parsed, rsa_key.public_key(), NOW)


# --- tampering and policy -------------------------------------------------------------------

Signer = Callable[[PrivateKey], dict[str, str]]
SIGNERS = [pytest.param(_cavage_post, id="cavage"), pytest.param(_rfc9421_post, id="rfc9421")]


@pytest.mark.parametrize("signer", SIGNERS)
def test_changed_body_is_a_digest_mismatch(signer: Signer, rsa_key: RSAPrivateKey) -> None:
    headers = signer(rsa_key)
    with pytest.raises(InvalidSignature, match="does not match the request body"):
        parse_signature("POST", INBOX, headers, ACTIVITY + b" ")


@pytest.mark.parametrize("signer", SIGNERS)
def test_changed_header_value_fails(signer: Signer, rsa_key: RSAPrivateKey) -> None:
    headers = signer(rsa_key) | {"Content-Type": "text/html"}
    parsed = parse_signature("POST", INBOX, headers, ACTIVITY)
    with pytest.raises(InvalidSignature, match="signature does not match"):
        verify_signature(parsed, rsa_key.public_key(), NOW)


@pytest.mark.parametrize("signer", SIGNERS)
def test_changed_path_fails(signer: Signer, rsa_key: RSAPrivateKey) -> None:
    headers = signer(rsa_key)
    other = INBOX.replace("alice", "mallory")
    parsed = parse_signature("POST", other, headers, ACTIVITY)
    with pytest.raises(InvalidSignature):
        verify_signature(parsed, rsa_key.public_key(), NOW)


@pytest.mark.parametrize("signer", SIGNERS)
def test_wrong_key_fails(
    signer: Signer, rsa_key: RSAPrivateKey, other_rsa_key: RSAPrivateKey
) -> None:
    parsed = parse_signature("POST", INBOX, signer(rsa_key), ACTIVITY)
    with pytest.raises(InvalidSignature):
        verify_signature(parsed, other_rsa_key.public_key(), NOW)


@pytest.mark.parametrize("signer", SIGNERS)
@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=2)])
def test_time_outside_the_window_fails(
    signer: Signer, offset: timedelta, rsa_key: RSAPrivateKey
) -> None:
    parsed = parse_signature("POST", INBOX, signer(rsa_key), ACTIVITY)
    verify_signature(parsed, rsa_key.public_key(), NOW + offset, window=timedelta(hours=3))
    with pytest.raises(InvalidSignature, match="away from"):
        verify_signature(parsed, rsa_key.public_key(), NOW + offset)


def test_rfc9421_expired_signature_fails(ed_key: Ed25519PrivateKey) -> None:
    headers = sign_request_rfc9421(
        "GET", INBOX, {}, None, "k", ed_key, created=NOW, expires=NOW + timedelta(seconds=30)
    )
    parsed = parse_signature("GET", INBOX, headers, None)
    verify_signature(parsed, ed_key.public_key(), NOW + timedelta(seconds=30))
    with pytest.raises(InvalidSignature, match="expired"):
        verify_signature(parsed, ed_key.public_key(), NOW + timedelta(seconds=31))


def test_missing_signature_header_is_malformed() -> None:
    with pytest.raises(MalformedSignature, match="no Signature header"):
        parse_signature("POST", INBOX, _post_headers(), ACTIVITY)
    with pytest.raises(MalformedSignature, match="Signature is missing"):
        parse_signature("GET", INBOX, {"Signature-Input": B4_INPUT}, None)


def test_body_without_covered_digest_is_malformed(rsa_key: RSAPrivateKey) -> None:
    headers = sign_request("GET", INBOX, {}, None, "k", rsa_key, now=NOW)
    with pytest.raises(MalformedSignature, match="does not cover digest"):
        parse_signature("POST", INBOX, headers, ACTIVITY)
    headers = sign_request_rfc9421("GET", INBOX, {}, None, "k", rsa_key, created=NOW)
    with pytest.raises(MalformedSignature, match="content-digest is not covered"):
        parse_signature("POST", INBOX, headers, ACTIVITY)


@pytest.mark.parametrize("name", ["Digest", "Content-Digest"])
def test_covered_digest_header_missing_is_malformed(name: str, rsa_key: RSAPrivateKey) -> None:
    signer = _cavage_post if name == "Digest" else _rfc9421_post
    headers = {k: v for k, v in signer(rsa_key).items() if k != name}
    with pytest.raises(MalformedSignature, match="missing"):
        parse_signature("POST", INBOX, headers, ACTIVITY)


@pytest.mark.parametrize(
    "digest",
    [
        pytest.param(body_digest(CAVAGE_BODY).replace("SHA-256", "sha-256"), id="lowercase"),
        pytest.param(
            "SHA-512=" + base64.b64encode(hashlib.sha512(CAVAGE_BODY).digest()).decode(),
            id="sha-512",
        ),
        pytest.param("MD5=abc=, " + body_digest(CAVAGE_BODY), id="unknown-plus-sha-256"),
    ],
)
def test_cavage_digest_variants_are_accepted(digest: str, cavage_private: RSAPrivateKey) -> None:
    headers = CAVAGE_HEADERS | {"Digest": digest}
    signing = cavage_signing_string("POST", CAVAGE_URL, headers, C3_HEADERS.split())
    sig = base64.b64encode(sign_bytes(cavage_private, "rsa-sha256", signing)).decode()
    headers["Signature"] = f'keyId="Test",headers="{C3_HEADERS}",signature="{sig}"'
    parsed = parse_signature("POST", CAVAGE_URL, headers, CAVAGE_BODY)
    verify_signature(parsed, cavage_private.public_key(), CAVAGE_NOW)


def test_digest_with_only_unknown_algorithms_is_malformed() -> None:
    headers = CAVAGE_HEADERS | {
        "Digest": "MD5=Sd/dVLAcvNLSq16eXua5uQ==",
        "Signature": f'keyId="Test",headers="{C3_HEADERS}",signature="{C3_SIGNATURE}"',
    }
    with pytest.raises(MalformedSignature, match="no SHA-256 or SHA-512"):
        parse_signature("POST", CAVAGE_URL, headers, CAVAGE_BODY)


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        'keyId="k",signature="not base64!",headers="(request-target) host date"',
        'keyId="k",keyId="j",signature="AAAA"',
        'keyId="k",headers="(request-target) host date"',
        'signature="AAAA",headers="(request-target) host date"',
        'keyId="k" signature="AAAA"',
    ],
)
def test_garbage_cavage_signature_is_malformed(value: str) -> None:
    headers = CAVAGE_HEADERS | {"Signature": value}
    with pytest.raises(MalformedSignature):
        parse_signature("GET", CAVAGE_URL, headers, None)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ("sig1=(", "sig1=:AAAA:"),
        ('sig1=("@method" "@target-uri");created=1', "sig1=:AAAA:"),  # no keyid
        ('sig1=("@method" "@target-uri");keyid="k";created=1', "sig1=AAAA"),  # not bytes
        ('sig1=("@method" "@target-uri");keyid="k";created=1', "sig2=:AAAA:"),  # no such label
        ('sig1=("@method" "@target-uri");keyid="k";created="1"', "sig1=:AAAA:"),
        ('sig1=("@method" "@target-uri");keyid="k"', "sig1=:AAAA:"),  # no created, no date
        ('sig1=("@method" "@method" "@path");keyid="k";created=1', "sig1=:AAAA:"),
        ('sig1=("@method" "@query-param";name="x");keyid="k";created=1', "sig1=:AAAA:"),
        ('sig1=("@method" "@target-uri" "@status");keyid="k";created=1', "sig1=:AAAA:"),
        ('sig1=("@method" "@target-uri" "x-missing");keyid="k";created=1', "sig1=:AAAA:"),
        ('sig1=("@method" "@path");keyid="k";created=1', "sig1=:AAAA:"),  # no authority
    ],
)
def test_garbage_rfc9421_signature_is_malformed(signature_input: str, signature: str) -> None:
    headers = {"Host": "example.com", "Signature-Input": signature_input, "Signature": signature}
    with pytest.raises(MalformedSignature):
        parse_signature("GET", "https://example.com/x", headers, None)


def test_unsupported_algorithms_are_malformed() -> None:
    cavage = (
        'keyId="k",algorithm="hmac-sha256",headers="(request-target) host date",signature="AA=="'
    )
    with pytest.raises(MalformedSignature, match="unsupported signature algorithm"):
        parse_signature("GET", CAVAGE_URL, CAVAGE_HEADERS | {"Signature": cavage}, None)
    rfc = {
        "Signature-Input": 'sig1=("@method" "@target-uri");created=1;keyid="k";alg="hmac-sha256"',
        "Signature": "sig1=:AAAA:",
    }
    with pytest.raises(MalformedSignature, match="unsupported signature algorithm"):
        parse_signature("GET", CAVAGE_URL, rfc, None)


def test_key_type_must_fit_the_algorithm(ed_key: Ed25519PrivateKey, rsa_key: RSAPrivateKey) -> None:
    parsed = parse_signature("POST", INBOX, _cavage_post(rsa_key), ACTIVITY)
    with pytest.raises(InvalidSignature, match="cannot be used"):
        verify_signature(parsed, ed_key.public_key(), NOW)
    parsed = parse_signature("POST", INBOX, _rfc9421_post(ed_key), ACTIVITY)
    with pytest.raises(InvalidSignature, match="cannot be used"):
        verify_signature(parsed, rsa_key.public_key(), NOW)
    with pytest.raises(ValueError, match="cannot be used"):
        sign_request("GET", INBOX, {}, None, "k", ed_key, algorithm="rsa-sha256", now=NOW)


def test_unparseable_date_is_malformed(rsa_key: RSAPrivateKey) -> None:
    headers = _cavage_post(rsa_key) | {"Date": "yesterday"}
    parsed = parse_signature("POST", INBOX, headers, ACTIVITY)
    with pytest.raises(MalformedSignature, match="Date"):
        verify_signature(parsed, rsa_key.public_key(), NOW)


def test_naive_now_is_a_caller_error(rsa_key: RSAPrivateKey) -> None:
    parsed = parse_signature("POST", INBOX, _cavage_post(rsa_key), ACTIVITY)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_signature(parsed, rsa_key.public_key(), NOW.replace(tzinfo=None))


def test_load_public_key_pem() -> None:
    assert isinstance(load_public_key_pem(CAVAGE_PUBLIC_PEM), RSAPublicKey)
    with pytest.raises(MalformedSignature, match="cannot load"):
        load_public_key_pem("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(MalformedSignature, match="unsupported public key type"):
        load_public_key_pem(ec_pem.decode())


@pytest.mark.parametrize(
    "headers",
    [
        CIMultiDict([("X-Thing", "a"), ("x-thing", " b\r\n  c "), ("Other", "z")]),
        CIMultiDictProxy(CIMultiDict([("X-Thing", "a"), ("X-THING", "b\n c")])),
        {"x-THING": "a, b c"},
        CIMultiDict([("x-thing", " a,\r\n  b\n c ")]),
    ],
)
def test_header_value_joins_repeats_and_folds_lines(headers: Mapping[str, str]) -> None:
    """Repeated headers join with ", " and folded lines unfold, whatever the mapping."""
    assert header_value(headers, "X-Thing") == "a, b c"
    assert header_value(headers, "missing") is None
