"""The node's ActivityPub URLs, derived from its public URL (one place for every path)."""

from __future__ import annotations

from node.settings import Settings

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def actor_id(settings: Settings, handle: str) -> str:
    """Actor id (and HTML profile page) of a local library."""
    return f"{settings.public_url}/libraries/{handle}"


def key_id(settings: Settings, handle: str) -> str:
    """Id of a library's RSA key (HTTP signatures)."""
    return actor_id(settings, handle) + "#main-key"


def ed25519_key_id(settings: Settings, handle: str) -> str:
    """Id of a library's Ed25519 multikey (object proofs, FEP-521a)."""
    return actor_id(settings, handle) + "#ed25519-key"


def inbox(settings: Settings, handle: str) -> str:
    """A library's own inbox."""
    return actor_id(settings, handle) + "/inbox"


def outbox(settings: Settings, handle: str) -> str:
    """A library's outbox collection."""
    return actor_id(settings, handle) + "/outbox"


def followers(settings: Settings, handle: str) -> str:
    """A library's followers collection."""
    return actor_id(settings, handle) + "/followers"


def following(settings: Settings, handle: str) -> str:
    """A library's following collection."""
    return actor_id(settings, handle) + "/following"


def shared_inbox(settings: Settings) -> str:
    """The node's shared inbox."""
    return f"{settings.public_url}/inbox"


def instance_actor(settings: Settings) -> str:
    """The node's Application actor, which signs fetches (FEP-2677)."""
    return f"{settings.public_url}/actor"


def instance_key_id(settings: Settings) -> str:
    """Id of the instance actor's RSA key."""
    return instance_actor(settings) + "#main-key"


def measure_id(settings: Settings, uid: str) -> str:
    """Object id (and HTML page) of a local measure."""
    return f"{settings.public_url}/measures/{uid}"


def activity_id(settings: Settings, uid: str) -> str:
    """Id of an activity a local library performed."""
    return f"{settings.public_url}/activities/{uid}"


def bibnetz_context(settings: Settings) -> str:
    """The JSON-LD context document of the bibnetz extension fields, served by every node."""
    return f"{settings.public_url}/ns/bibnetz"
