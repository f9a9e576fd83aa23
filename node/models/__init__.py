"""All tables; importing this package registers them on ``Base.metadata``."""

from node.models.account import Account, AccountLibrary
from node.models.federation import (
    Delivery,
    Follower,
    Following,
    InboxActivity,
    PeerHost,
    RemoteActor,
    Reply,
    Tombstone,
)
from node.models.instance import Instance
from node.models.library import Library, LibraryKeys, ToolkitResult
from node.models.measure import Measure
from node.models.outbox import OutboxActivity
from node.models.search import MeasureSearch, MeasureText
from node.models.types import UTCDateTime, utcnow

__all__ = [
    "Account",
    "AccountLibrary",
    "Delivery",
    "Follower",
    "Following",
    "InboxActivity",
    "Instance",
    "Library",
    "LibraryKeys",
    "Measure",
    "MeasureSearch",
    "MeasureText",
    "OutboxActivity",
    "PeerHost",
    "RemoteActor",
    "Reply",
    "Tombstone",
    "ToolkitResult",
    "UTCDateTime",
    "utcnow",
]
