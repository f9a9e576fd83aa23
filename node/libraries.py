"""Service: local library profiles, their keys and Toolkit results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import outbox
from node.keypairs import generate_ed25519, generate_rsa
from node.models import Library, LibraryKeys, Measure, ToolkitResult
from node.search import reindex_library
from node.validation import (
    FieldError,
    ValidationError,
    validate_handle,
    validate_library,
    validate_toolkit,
)
from node.vocab import Vocabularies


class NotFound(LookupError):
    """The requested object does not exist on this node."""


async def create_library(
    session: AsyncSession, vocab: Vocabularies, handle: str, data: Mapping[str, Any]
) -> Library:
    """Validate and create a local library with fresh RSA-2048 and Ed25519 key pairs."""
    errors: list[FieldError] = []
    clean_handle, fields = "", dict[str, Any]()
    try:
        clean_handle = validate_handle(handle)
    except ValidationError as exc:
        errors.extend(exc.errors)
    try:
        fields = validate_library(data, vocab)
    except ValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    existing = await session.scalar(
        select(Library.id).where(Library.is_local.is_(True), Library.handle == clean_handle)
    )
    if existing is not None:
        raise ValidationError.single("handle", f"{clean_handle!r} is already taken on this node")
    library = Library(handle=clean_handle, domain="", is_local=True, **fields)
    session.add(library)
    await session.flush()
    rsa_pair, ed_pair = generate_rsa(), generate_ed25519()
    session.add(
        LibraryKeys(
            library_id=library.id,
            rsa_private_pem=rsa_pair.private_pem,
            rsa_public_pem=rsa_pair.public_pem,
            ed25519_private_pem=ed_pair.private_pem,
            ed25519_public_pem=ed_pair.public_pem,
        )
    )
    await session.flush()
    return library


async def update_library(
    session: AsyncSession, vocab: Vocabularies, library: Library, data: Mapping[str, Any]
) -> Library:
    """Change the given profile fields and announce the new profile to followers."""
    fields = validate_library(data, vocab, partial=True)
    for name, value in fields.items():
        setattr(library, name, value)
    await session.flush()
    await reindex_library(session, library.id)
    await outbox.record(session, library.id, "Update", "Library", library.handle)
    return library


async def get_local_library(session: AsyncSession, handle: str) -> Library:
    """The local library with this handle, or NotFound."""
    library = await session.scalar(
        select(Library).where(Library.is_local.is_(True), Library.handle == handle.lower())
    )
    if library is None:
        raise NotFound(f"no library with handle {handle!r} on this node")
    return library


async def list_local_libraries(session: AsyncSession) -> Sequence[tuple[Library, int]]:
    """Local libraries by name with their measure counts."""
    counts = (
        select(Measure.library_id, func.count().label("n")).group_by(Measure.library_id).subquery()
    )
    rows = await session.execute(
        select(Library, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.library_id == Library.id)
        .where(Library.is_local.is_(True))
        .order_by(Library.name)
    )
    return [(lib, int(n)) for lib, n in rows]


async def get_keys(session: AsyncSession, library: Library) -> LibraryKeys:
    """The key material of a local library."""
    keys = await session.get(LibraryKeys, library.id)
    if keys is None:
        raise NotFound(f"library {library.handle!r} has no keys (not a local library?)")
    return keys


async def set_toolkit_results(
    session: AsyncSession, vocab: Vocabularies, library: Library, data: Mapping[str, Any]
) -> ToolkitResult:
    """Store (replace) the library's Toolkit workshop results."""
    fields = validate_toolkit(data, vocab)
    result = await session.get(ToolkitResult, library.id)
    if result is None:
        result = ToolkitResult(library_id=library.id, **fields)
        session.add(result)
    else:
        for name, value in fields.items():
            setattr(result, name, value)
    await session.flush()
    if fields["visibility"] != "private":
        await outbox.record(session, library.id, "Update", "Library", library.handle)
    return result


async def list_known_libraries(
    session: AsyncSession, *, limit: int = 100, kinds: Sequence[str] = ()
) -> list[tuple[Library, int]]:
    """Every library this node knows (its own and peers'), by name, with measure counts."""
    counts = (
        select(Measure.library_id, func.count().label("n")).group_by(Measure.library_id).subquery()
    )
    query = (
        select(Library, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.library_id == Library.id)
        .order_by(Library.name, Library.id)
        .limit(limit)
    )
    if kinds:
        query = query.where(Library.kind.in_(kinds))
    return [(lib, int(n)) for lib, n in await session.execute(query)]
