"""Profile similarity: how alike two libraries are by population, public area and staff.

Distance is Euclidean on logarithms, so 3,000 vs 6,000 inhabitants is as far apart as
30,000 vs 60,000. Each number gets a small offset before the log so zeros (a
volunteer-run library has 0 FTE) stay comparable instead of undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from node.models import Library, Measure

DIMENSIONS = ("population", "area", "fte")
LIBRARY_COLUMNS: Mapping[str, str] = {
    "population": "population",
    "area": "public_area_m2",
    "fte": "staff_fte",
}
_OFFSETS: Mapping[str, float] = {"population": 100.0, "area": 10.0, "fte": 0.5}
# A number one side lacks counts like being a factor of 3 apart in that dimension.
MISSING_PENALTY = math.log(3) ** 2

LibraryRef = int | str


class SearchError(ValueError):
    """A query the index cannot answer as asked (unknown library, impossible range);
    ``parameter``: the API parameter it comes from, where one does."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class UnknownLibrary(SearchError, LookupError):
    """No library with this id or handle is known to the node."""


def profile_log(dimension: str, value: float | None) -> float | None:
    """The log-scale coordinate of one profile number (None when unknown or negative)."""
    if value is None or value < 0:
        return None
    return math.log(value + _OFFSETS[dimension])


@dataclass(frozen=True)
class Profile:
    """A library's position for similarity: log coordinates per dimension and its state."""

    logs: Mapping[str, float | None]
    federal_state: str | None

    @classmethod
    def of(cls, library: Library) -> Profile:
        """The profile of a library from its current numbers."""
        return cls(
            {dim: profile_log(dim, getattr(library, LIBRARY_COLUMNS[dim])) for dim in DIMENSIONS},
            library.federal_state,
        )

    @property
    def known(self) -> tuple[str, ...]:
        """Dimensions this profile has a number for."""
        return tuple(dim for dim in DIMENSIONS if self.logs[dim] is not None)

    def distance2(self, other: Mapping[str, float | None]) -> float:
        """Squared distance to other log coordinates, over the dimensions this one knows."""
        total = 0.0
        for dim in self.known:
            theirs = other.get(dim)
            mine = self.logs[dim]
            assert mine is not None
            # diff * diff, as in SQL, so Python and the databases agree to the last bit.
            total += MISSING_PENALTY if theirs is None else (theirs - mine) * (theirs - mine)
        return total


def similarity(distance2: float) -> float:
    """Similarity in (0, 1] from a squared distance: 1 is identical."""
    return 1.0 / (1.0 + distance2)


def find_library(session: Session, ref: LibraryRef) -> Library:
    """A library by id, local handle ("heideloh") or remote "handle@domain".

    Handles match in any case ("Heideloh"); a peer's library keeps the case its server
    gave its account ("Alice@social.example"), which matches first."""
    if isinstance(ref, int):
        library = session.get(Library, ref)
    else:
        handle, _, domain = ref.strip().lstrip("@").partition("@")
        found = select(Library).where(Library.domain == domain.lower())
        library = session.scalar(found.where(Library.handle == handle))
        if library is None:
            folded = found.where(func.lower(Library.handle) == handle.lower())
            library = session.scalars(folded.order_by(Library.id)).first()
    if library is None:
        raise UnknownLibrary(f"no library {ref!r} is known here")
    return library


async def resolve_library(session: AsyncSession, ref: LibraryRef) -> Library:
    """``find_library`` on an async session."""
    return await session.run_sync(find_library, ref)


@dataclass(frozen=True)
class SimilarLibrary:
    """A library ranked by profile similarity to a given one, with its measure count."""

    library: Library
    distance: float
    similarity: float
    same_state: bool
    measure_count: int


async def similar_libraries(
    session: AsyncSession,
    ref: LibraryRef,
    *,
    limit: int = 20,
    kinds: Sequence[str] = (),
    only_with_measures: bool = False,
) -> list[SimilarLibrary]:
    """Known libraries (local and mirrored) most like ``ref``: nearest profile first, then
    same federal state, then most measures, then name. Libraries that share no number with
    ``ref`` cannot be compared and are left out; so is ``ref`` itself."""
    mine = await resolve_library(session, ref)
    profile = Profile.of(mine)
    if not profile.known:
        return []
    known = [getattr(Library, LIBRARY_COLUMNS[dim]).is_not(None) for dim in profile.known]
    query = select(Library).where(Library.id != mine.id, or_(*known))
    if kinds:
        query = query.where(Library.kind.in_(kinds))
    rows = await session.execute(
        select(Measure.library_id, func.count()).group_by(Measure.library_id)
    )
    counts: dict[int, int] = dict(rows.all())
    ranked = []
    for library in await session.scalars(query):
        count = int(counts.get(library.id, 0))
        if only_with_measures and not count:
            continue
        d2 = profile.distance2(Profile.of(library).logs)
        same = bool(mine.federal_state) and library.federal_state == mine.federal_state
        ranked.append(SimilarLibrary(library, math.sqrt(d2), similarity(d2), same, count))
    ranked.sort(key=lambda s: (s.distance, not s.same_state, -s.measure_count, s.library.name))
    return ranked[:limit]
