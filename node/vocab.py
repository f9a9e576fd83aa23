"""Vocabularies (fields of action, target groups, …): SKOS-like data files, replaceable."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_DIR = Path(__file__).parent / "vocabularies"

# Schemes the code relies on; a replacement directory must provide them all.
REQUIRED_SCHEMES = (
    "measure-kinds",
    "fields-of-action",
    "target-groups",
    "formats",
    "partners",
    "effort",
    "cost-bands",
    "statuses",
    "organisation-kinds",
    "operator-types",
    "federal-states",
    "visibility",
    "licences",
)


class VocabularyError(ValueError):
    """A vocabulary file is missing or malformed."""


@dataclass(frozen=True)
class Term:
    """One concept: a stable id, its URI and labels per language."""

    id: str
    uri: str
    labels: dict[str, str]
    alt_labels: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        """The label in ``lang``, falling back to German, then the id."""
        return self.labels.get(lang) or self.labels.get("de") or self.id


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@dataclass(frozen=True)
class Scheme:
    """A concept scheme: an ordered list of terms."""

    id: str
    uri: str
    labels: dict[str, str]
    terms: tuple[Term, ...]
    _lookup: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # By id: every search labels its facet terms and checks its parameters here.
    _by_id: dict[str, Term] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for term in self.terms:
            self._by_id.setdefault(term.id, term)
            for key in (term.id, term.uri, *term.labels.values(), *term.alt_labels):
                self._lookup.setdefault(_fold(key), term.id)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, term_id: object) -> bool:
        return isinstance(term_id, str) and term_id in self._by_id

    def get(self, term_id: str) -> Term | None:
        """The term with this id, or None."""
        return self._by_id.get(term_id)

    def resolve(self, value: str) -> str | None:
        """Map an id, URI or label (any language, any case) to a term id."""
        return self._lookup.get(_fold(value))

    def label(self, term_id: str, lang: str) -> str:
        """Label of a term id; unknown ids are shown as they are."""
        term = self.get(term_id)
        return term.label(lang) if term else term_id

    @property
    def ids(self) -> tuple[str, ...]:
        """Term ids in file order."""
        return tuple(t.id for t in self.terms)


@dataclass(frozen=True)
class Vocabularies:
    """All schemes the node knows, by scheme id."""

    schemes: dict[str, Scheme]

    def __getitem__(self, scheme_id: str) -> Scheme:
        return self.schemes[scheme_id]

    def term_uri(self, scheme_id: str, term_id: str) -> str:
        """Stable URI of a term (scheme URI + '#' + id)."""
        return f"{self.schemes[scheme_id].uri}#{term_id}"


def _load_scheme(path: Path) -> Scheme:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        uri = str(doc["uri"])
        terms = tuple(
            Term(
                id=str(t["id"]),
                uri=str(t.get("uri") or f"{uri}#{t['id']}"),
                labels={str(k): str(v) for k, v in t["label"].items()},
                alt_labels=tuple(
                    str(alt) for alts in t.get("altLabel", {}).values() for alt in alts
                ),
            )
            for t in doc["terms"]
        )
        return Scheme(
            id=str(doc["id"]),
            uri=uri,
            labels={str(k): str(v) for k, v in doc.get("label", {}).items()},
            terms=terms,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VocabularyError(f"vocabulary file {path} is malformed: {exc}") from exc


def load_vocabularies(override_dir: Path | None = None) -> Vocabularies:
    """Load the built-in schemes; files in ``override_dir`` replace those with the same id."""
    schemes: dict[str, Scheme] = {}
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        scheme = _load_scheme(path)
        schemes[scheme.id] = scheme
    if override_dir is not None:
        if not override_dir.is_dir():
            raise VocabularyError(f"vocabulary directory not found: {override_dir}")
        for path in sorted(override_dir.glob("*.json")):
            scheme = _load_scheme(path)
            schemes[scheme.id] = scheme
    missing = [s for s in REQUIRED_SCHEMES if s not in schemes]
    if missing:
        raise VocabularyError(f"missing vocabularies: {', '.join(missing)}")
    return Vocabularies(schemes)
