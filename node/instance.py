"""Service: the node's own identity and its first-start initialisation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import count_accounts, create_account
from node.keypairs import generate_rsa
from node.models import Instance
from node.passwords import generate_password

INSTANCE_ID = 1


@dataclass(frozen=True)
class FirstLogin:
    """The one-time admin login created on the first start."""

    email: str
    password: str


async def ensure_instance(session: AsyncSession, name: str) -> Instance:
    """The instance row, created with a fresh key pair if missing."""
    instance = await session.get(Instance, INSTANCE_ID)
    if instance is None:
        pair = generate_rsa()
        instance = Instance(
            id=INSTANCE_ID,
            name=name,
            rsa_private_pem=pair.private_pem,
            rsa_public_pem=pair.public_pem,
        )
        session.add(instance)
        await session.flush()
    return instance


async def ensure_admin(session: AsyncSession, domain: str) -> FirstLogin | None:
    """Create the first admin account when the node has none; return its login once."""
    if await count_accounts(session) > 0:
        return None
    host = domain.split(":")[0]
    email = f"admin@{host if '.' in host else host + '.local'}"
    password = generate_password()
    await create_account(session, email, password, is_admin=True)
    return FirstLogin(email, password)
