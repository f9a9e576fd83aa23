"""German full text: tokens, Snowball stems, umlaut folding, query parsing and snippets.

Both databases index the *same* token text made here (see ``index.py``), so a word is
normalised in exactly one place: casefold → fold diacritics (ä→a, ö→o, ü→u, ß→ss, é→e) →
German Snowball stem. Folding before stemming makes "Gebäude" and "Gebaude" identical input
to the stemmer, so both spellings find each other in both directions.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import Stemmer  # type: ignore[import-not-found]  # (PyStemmer ships no type hints)

# A Stemmer must not be used by two threads at once (searches run in worker threads).
_STEMMERS = threading.local()
_WORD = re.compile(r"[^\W_]+")
_COMBINING = re.compile("[\u0300-\u036f]")
# Longer "words" are URLs, hashes or garbage; capping them keeps the index small.
MAX_TOKEN = 60
_QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')
# Facet tokens (node.search.facets) look like "zz" + hex; user input never may match them.
_FACET_LIKE = re.compile(r"zz(?:[0-9a-f]{2}){4,}")
# Markdown markup shown as plain text in snippets: link targets go, markup characters too.
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_MARKUP_CHARS = re.compile(r"[#*_`>|~\[\]]+")
_MARKUP_SET = "#*_`>|~[]"  # the characters of _MARKUP_CHARS
_SHOWN = re.compile(r"[^\s#*_`>|~\[\]]")  # a character _clean keeps


def fold(text: str) -> str:
    """Lower-case and strip diacritics (ä→a, ß→ss, é→e), the form tokens are made of."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def _stems(words: list[str]) -> list[str]:
    stemmer = getattr(_STEMMERS, "german", None)
    if stemmer is None:
        stemmer = _STEMMERS.german = Stemmer.Stemmer("german")
    stems: list[str] = stemmer.stemWords(words)
    return stems


def tokens(text: str) -> list[str]:
    """The index tokens of a text: folded, stemmed words in order."""
    words = [w[:MAX_TOKEN] for w in _WORD.findall(fold(text))]
    return _stems(words) if words else []


def token_text(text: str) -> str:
    """Tokens joined by spaces: what FTS5 and ``to_tsvector('simple', …)`` index."""
    return " ".join(tokens(text))


@lru_cache(maxsize=65536)
def normalise_word(word: str) -> str:
    """The index token of one word (cached: snippets normalise the same words again)."""
    found = tokens(word)
    return found[0] if found else ""


@dataclass(frozen=True)
class Term:
    """One query term: a word, or a phrase of adjacent words; the last may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class TextQuery:
    """A parsed full-text query: every term must match (AND)."""

    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def fts5(self) -> str:
        """The FTS5 MATCH expression (tokens are alphanumeric, so quoting is safe)."""
        parts = []
        for term in self.terms:
            part = '"' + " ".join(term.tokens) + '"'
            parts.append(part + " *" if term.prefix else part)
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """The PostgreSQL ``to_tsquery('simple', …)`` expression for the same terms."""
        parts = []
        for term in self.terms:
            lexemes = [f"'{tok}'" for tok in term.tokens]
            if term.prefix:
                lexemes[-1] += ":*"
            parts.append("(" + " <-> ".join(lexemes) + ")")
        return " & ".join(parts)

    def like_patterns(self) -> list[str]:
        """Per term a LIKE pattern for token text padded with spaces (" a b c ").

        Tokens are alphanumeric, so they never contain LIKE's wildcards.
        """
        return [f"% {' '.join(t.tokens)}{'%' if t.prefix else ' %'}" for t in self.terms]

    def marks(self, words: list[str]) -> set[int]:
        """Positions of index tokens ``words`` that match a term (phrases: all in a row)."""
        return self.marks_in(" ".join(words))

    def marks_in(self, token_text: str) -> set[int]:
        """``marks`` of the tokens of a space-joined token text, found by substring search
        (the same padded patterns as ``like_patterns``): no Python loop over the words."""
        padded = f" {token_text} "
        found: set[int] = set()
        for term in self.terms:
            needle = " " + " ".join(term.tokens) + ("" if term.prefix else " ")
            size = len(term.tokens)
            at, index, counted = padded.find(needle), 0, 0
            while at >= 0:
                # The word starting after the space at `at` is preceded by this many spaces.
                index += padded.count(" ", counted, at)
                counted = at
                found.update(range(index, index + size))
                at = padded.find(needle, at + 1)
        return found


def parse_query(text: str) -> TextQuery:
    """Parse user input: words, "quoted phrases" and prefixes (lese*); all must match.

    A prefix is folded but not stemmed ("lese*" finds Lesesommer, Lesenacht), because a
    stem can be shorter than what the user typed and would widen the match unexpectedly.
    A word that splits into several tokens ("Repair-Café") becomes a phrase.
    """
    terms: list[Term] = []
    for phrase, word in _QUERY_PART.findall(text):
        if phrase:
            found = tokens(phrase)
            if found:
                terms.append(Term(tuple(found)))
            continue
        prefix = word.endswith("*")
        if prefix:
            words = [w[:MAX_TOKEN] for w in _WORD.findall(fold(word))]
            if words:
                head = _stems(words[:-1]) if len(words) > 1 else []
                terms.append(Term((*head, words[-1]), prefix=True))
            continue
        found = tokens(word)
        if found:
            terms.append(Term(tuple(found)))
    kept = (t for t in terms if not any(_FACET_LIKE.fullmatch(tok) for tok in t.tokens))
    return TextQuery(tuple(dict.fromkeys(kept)))


def _clean(fragment: str) -> str:
    if "](" in fragment:
        fragment = _LINK_TARGET.sub(" ", fragment)
    return " ".join(_MARKUP_CHARS.sub(" ", fragment).split())


@lru_cache(maxsize=4096)
def highlight(text: str, query: TextQuery) -> str:
    """HTML-escaped text with every matching word (or phrase word) wrapped in <mark>.

    Cached: popular queries show the same titles again and again.
    """
    if not query:
        return html.escape(text)
    marked = query.marks(list(map(normalise_word, _WORD.findall(text))))
    if not marked:
        return html.escape(text)
    spans = [m.span() for m in _WORD.finditer(text)]
    out, last = [], 0
    for i in sorted(marked):
        start, end = spans[i]
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(sources: list[str], query: TextQuery, words: int = 30) -> str:
    """An HTML snippet around the densest cluster of hits in the first source that has one.

    Without a query, or when no source contains a hit (e.g. the title matched), it is the
    start of the first non-empty source.
    """
    first = ""
    for source in sources:
        text = _clean(source)
        if not text:
            continue
        if not first:
            first = text
            if not query:
                break
        marked = query.marks(list(map(normalise_word, _WORD.findall(text))))
        if marked:
            # The window of `words` words holding the most hits, starting a little early.
            hits = sorted(marked)
            best = max(hits, key=lambda h: bisect_left(hits, h + words) - bisect_left(hits, h))
            return _window(text, max(0, best - 3), words, marked)
    if not first:
        return ""
    return _window(first, 0, words, set())


@dataclass(frozen=True)
class Source:
    """A text to take a snippet from, with its token text from the index (``token_text`` of
    the same text, so token i is the normalised word i); ``trailing``: the token text goes
    on past this text's words (the summary's tokens end with the tags)."""

    text: str
    tokens: str
    trailing: bool = False


def _is_nfkc(text: str) -> bool:
    return text.isascii() or unicodedata.is_normalized("NFKC", text)


def indexed_snippet(sources: list[Source], query: TextQuery, words: int = 30) -> str:
    """``snippet`` of the texts, with the hits found in the index's token text instead of by
    normalising every word: only the chosen window is scanned for words, and it is shown
    from the same matches (measured on the search benchmark's hits: 26 µs a hit, against
    37 µs when the window was cleaned and scanned again). Same result; it falls back to
    ``snippet`` for a text with Markdown link targets (the snippet drops them, so its words
    differ from the indexed ones), for text that is not NFKC-normalised (folding could join
    or split words) and, as a last guard, when the window's words do not match their tokens."""
    texts = [source.text for source in sources]
    # Token i is word i only where folding keeps word boundaries: in NFKC-normalised text
    # (no "½" → "1⁄2", no decomposed accents, which split a word here but not once folded).
    if not query or any("](" in text or not _is_nfkc(text) for text in texts):
        return snippet(texts, query, words)
    for source in sources:
        if not source.text:
            continue
        tokens = source.tokens
        if source.trailing:  # only the text's own tokens, not what follows (a phrase could)
            own = len(_WORD.findall(source.text))
            tokens = " ".join(tokens.split(None, own)[:own])
        marked = query.marks_in(tokens)
        if not marked:
            continue
        hits = sorted(marked)
        best = max(hits, key=lambda h: bisect_left(hits, h + words) - bisect_left(hits, h))
        start = max(0, best - 3)
        found = _WORD.finditer(source.text)
        first = next(islice(found, start, None), None)
        if first is None:
            return snippet(texts, query, words)
        window = [first, *islice(found, words - 1)]
        # The window's words must be the tokens at those positions, or the two disagree.
        end = start + len(window)  # split only as far as the window reaches
        expected = source.tokens.split(None, end)[start:end]
        if [normalise_word(word[0]) for word in window] != expected:
            return snippet(texts, query, words)
        inner = _marked(source.text, window, sorted(m - start for m in marked if start <= m < end))
        more = next(found, None) is not None
        return ("… " if start else "") + inner + (" …" if more else "")
    return _opening(texts, words)


def _tidy(gap: str) -> str:
    """``_clean`` of text that starts and ends inside words or between them: markup
    characters become spaces and runs of spaces one space, but an outer space stays one
    (str methods, not a regex: a regex pass costs a few µs per window)."""
    if any(char in gap for char in _MARKUP_SET):
        gap = _MARKUP_CHARS.sub(" ", gap)
    inner = " ".join(gap.split())
    if not inner:
        return " " if gap else ""
    return (" " if gap[0].isspace() else "") + inner + (" " if gap[-1].isspace() else "")


def _marked(text: str, window: list[re.Match[str]], marked: list[int]) -> str:
    """The words ``window`` (consecutive matches of _WORD in ``text``) as ``_window`` shows
    them: what lies between them tidied as ``_clean`` would, the ``marked`` ones (indexes
    into ``window``, ascending) in <mark>. Words are never changed by cleaning (markup
    characters are not word characters), so the gaps can be tidied one by one."""
    out, last = [], window[0].start()
    for i in marked:
        begin, stop = window[i].span()
        out.append(html.escape(_tidy(text[last:begin])))
        out.append(f"<mark>{html.escape(text[begin:stop])}</mark>")
        last = stop
    out.append(html.escape(_tidy(text[last : window[-1].end()])))
    return "".join(out)


def _opening(texts: list[str], words: int) -> str:
    """The start of the first text with anything to show, as ``snippet`` shows it when no
    text has a hit (one regex scan instead of a match object per word)."""
    for text in texts:
        if "](" in text:  # link targets go first; what is left may be empty
            cleaned = _clean(text)
            if cleaned:
                return _window(cleaned, 0, words, set())
            continue
        if not _SHOWN.search(text):
            continue
        found = _first_words(words).search(text)
        if found is None:  # no words, only punctuation and the like
            return html.escape(_clean(text))
        more = _WORD.search(text, found.end()) is not None
        return html.escape(_tidy(found.group())) + (" …" if more else "")
    return ""


@lru_cache(maxsize=8)
def _first_words(words: int) -> re.Pattern[str]:
    """Up to ``words`` words and what lies between them, from the first word on."""
    return re.compile(rf"[^\W_]+(?:[\W_]+[^\W_]+){{0,{words - 1}}}")


def _window(text: str, start: int, words: int, marked: set[int]) -> str:
    """Words ``start`` to ``start + words`` of ``text`` as HTML, ``marked`` word positions
    (counted in the whole text) highlighted."""
    # Word spans up to one past the window: enough to know whether text follows it.
    spans = [m.span() for m in islice(_WORD.finditer(text), start + words + 1)]
    if not spans:
        return html.escape(text)
    end = min(len(spans), start + words)
    out, last = [], spans[start][0]
    for i in sorted(marked.intersection(range(start, end))):
        begin, stop = spans[i]
        out.append(html.escape(text[last:begin]))
        out.append(f"<mark>{html.escape(text[begin:stop])}</mark>")
        last = stop
    out.append(html.escape(text[last : spans[end - 1][1]]))
    return ("… " if start else "") + "".join(out) + (" …" if end < len(spans) else "")
