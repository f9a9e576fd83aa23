"""Service: staff accounts (node admins, library editors) and logins."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Account, AccountLibrary, Library, utcnow
from node.passwords import hash_password, needs_rehash, verify_password
from node.validation import ValidationError, validate_email, validate_password


async def create_account(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    is_admin: bool = False,
    libraries: Sequence[Library] = (),
) -> Account:
    """Create an account that may edit the given libraries (admins may edit all)."""
    clean_email = validate_email(email)
    clean_password = validate_password(password)
    if await session.scalar(select(Account.id).where(Account.email == clean_email)):
        raise ValidationError.single("email", f"an account for {clean_email} already exists")
    account = Account(
        email=clean_email, password_hash=hash_password(clean_password), is_admin=is_admin
    )
    session.add(account)
    await session.flush()
    for library in libraries:
        session.add(AccountLibrary(account_id=account.id, library_id=library.id))
    await session.flush()
    return account


async def grant_library(session: AsyncSession, account: Account, library: Library) -> None:
    """Let an existing account edit one more library."""
    if await session.get(AccountLibrary, (account.id, library.id)) is None:
        session.add(AccountLibrary(account_id=account.id, library_id=library.id))
        await session.flush()


async def get_account(session: AsyncSession, email: str) -> Account | None:
    """The account with this e-mail address, if any."""
    return await session.scalar(select(Account).where(Account.email == email.strip().lower()))


async def authenticate(session: AsyncSession, email: str, password: str) -> Account | None:
    """The account if the password matches; upgrades outdated hashes on the way."""
    account = await get_account(session, email)
    if account is None:
        # Hash anyway so a missing account takes as long as a wrong password.
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = utcnow()
    await session.flush()
    return account


async def count_accounts(session: AsyncSession) -> int:
    """How many accounts exist."""
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)


async def editable_libraries(session: AsyncSession, account: Account) -> Sequence[Library]:
    """The local libraries this account may edit."""
    query = select(Library).where(Library.is_local.is_(True)).order_by(Library.name)
    if not account.is_admin:
        query = query.join(AccountLibrary, AccountLibrary.library_id == Library.id).where(
            AccountLibrary.account_id == account.id
        )
    return (await session.scalars(query)).all()


@cache
def _dummy_hash() -> str:
    return hash_password("bibnetz-timing-equaliser")
