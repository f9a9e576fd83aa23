"""German tokens, query syntax, facet tokens and snippets (no database)."""

from __future__ import annotations

import random

import pytest

from node.search import text as text_module
from node.search.facets import (
    COUNTED,
    DIMENSIONS,
    LIST_DIMENSIONS,
    OTHER_DIMENSIONS,
    count_facets,
    facet_dimension,
    facet_token,
    list_facet_text,
)
from node.search.text import (
    Source,
    highlight,
    indexed_snippet,
    parse_query,
    snippet,
    token_text,
    tokens,
)
from tests.node.search_corpus import BLOCKS


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Sanierung", "Sanierungen"),
        ("Veranstaltung", "Veranstaltungen"),
        ("Gebäude", "Gebaude"),
        ("Straße", "Strasse"),
        ("Bücherei", "Buecherei"),
        ("Großeltern", "Grosseltern"),
        ("Café", "Cafe"),
    ],
)
def test_inflections_and_spellings_share_a_token(one: str, other: str) -> None:
    assert tokens(one) == tokens(other)
    assert len(tokens(one)) == 1


def test_folding_is_consistent_for_every_corpus_word() -> None:
    # Index and query normalise the same way whatever spelling a library used.
    for block in BLOCKS:
        for word in f"{block.title} {block.summary} {block.body}".split():
            folded = word.replace("ä", "a").replace("ö", "o").replace("ü", "u")
            folded = folded.replace("Ä", "A").replace("Ö", "O").replace("Ü", "U")
            assert tokens(word) == tokens(folded.replace("ß", "ss")), word


def test_query_syntax_words_phrases_prefixes() -> None:
    query = parse_query('Sanierungen "Bibliothek der Dinge" lese* Repair-Café')
    assert [(t.tokens, t.prefix) for t in query.terms] == [
        (("sanier",), False),
        (("bibliothek", "der", "ding"), False),
        (("lese",), True),
        (("repair", "caf"), False),
    ]
    assert query.fts5() == '"sanier" AND "bibliothek der ding" AND "lese" * AND "repair caf"'
    assert query.tsquery() == (
        "('sanier') & ('bibliothek' <-> 'der' <-> 'ding') & ('lese':*) & ('repair' <-> 'caf')"
    )


def test_query_ignores_punctuation_and_facet_lookalikes() -> None:
    assert not parse_query('" " *** --')
    token = facet_token("kind", "idea")
    assert not parse_query(token)
    assert parse_query(f"{token} Lesesommer").terms[0].tokens == ("lesesomm",)


def test_facet_tokens_are_alphanumeric_and_name_their_dimension() -> None:
    idea, state = facet_token("kind", "idea"), facet_token("federal_state", "DE-BY")
    assert idea.isalnum()
    assert idea.islower()
    assert facet_dimension(state) == "state"


def _hit(kind: str, state: str | None, fields: list[str], formats: list[str]) -> list[object]:
    # a local measure of library 7, population band 1 (5,000–10,000), no area, FTE band 0
    scalars: dict[str, object] = {
        "kind": kind, "federal_state": state,
        "origin": True, "library": 7, "population": 1, "area": None, "fte": 0,
    }  # fmt: skip
    lists = {"fields_of_action": fields, "formats": formats}
    return [
        list_facet_text(lists.get(name, [])) if name in LIST_DIMENSIONS else scalars.get(name)
        for name in COUNTED
    ]


def test_facets_count_scalar_and_list_values_most_frequent_first() -> None:
    rows = [
        _hit("idea", "DE-BY", ["reading-promotion", "events-culture"], []),
        _hit("idea", None, ["events-culture", "reading-promotion", "events-culture"], ["x"]),
        _hit("measure", "DE-BY", ["events-culture"], []),
    ]
    facets = count_facets(list(zip(*rows, strict=True)), scale=2.0)
    assert [(f.term, f.count) for f in facets["kind"]] == [("idea", 4), ("measure", 2)]
    assert [(f.term, f.count) for f in facets["federal_state"]] == [("DE-BY", 4)]
    # A term listed twice in one measure counts once; ties sort by term.
    assert [(f.term, f.count) for f in facets["fields_of_action"]] == [
        ("events-culture", 6),
        ("reading-promotion", 4),
    ]
    assert [(f.term, f.count) for f in facets["formats"]] == [("x", 2)]
    assert facets["target_groups"] == []
    assert facets["status"] == []
    others = {name: [(f.term, f.count) for f in facets[name]] for name in OTHER_DIMENSIONS[:-1]}
    assert others == {
        "origin": [("local", 6)], "library": [("7", 6)],
        "population": [("5000-10000", 6)], "area": [], "fte": [("0-1", 6)],
    }  # fmt: skip
    assert list(facets) == [*DIMENSIONS, *OTHER_DIMENSIONS[:-1]]  # the years come from keys
    assert all(items == [] for items in count_facets([]).values())


def test_highlight_marks_words_phrases_and_prefixes_and_escapes() -> None:
    query = parse_query('"Bibliothek der Dinge" lese*')
    html = highlight("Die Bibliothek der Dinge <b>und</b> der Lesesommer; die Bibliothek.", query)
    assert html == (
        "Die <mark>Bibliothek</mark> <mark>der</mark> <mark>Dinge</mark> &lt;b&gt;und&lt;/b&gt;"
        " der <mark>Lesesommer</mark>; die Bibliothek."
    )


def test_snippet_shows_the_hit_in_context() -> None:
    body = "## Ausgangslage\n" + "Wenig Platz. " * 40 + "Die **Sanierungen** dauerten lange."
    result = snippet(["Kurz gesagt: ein Umbau.", body], parse_query("Sanierung"))
    assert "<mark>Sanierungen</mark>" in result
    assert result.startswith("… ")
    assert "**" not in result
    assert "##" not in result
    # No hit in summary or body (e.g. a title hit): the start of the summary.
    assert snippet(["Kurz gesagt.", body], parse_query("Umzug")) == "Kurz gesagt"
    assert snippet(["", ""], parse_query("x")) == ""


def test_a_phrase_cut_by_the_snippet_window_keeps_its_visible_words_marked() -> None:
    query = parse_query('"Bibliothek der Dinge"')
    text = "eins zwei drei vier fünf sechs Bibliothek der Dinge"
    assert snippet([text], query, words=5) == (
        "… vier fünf sechs <mark>Bibliothek</mark> <mark>der</mark> …"
    )


def _sources(summary: str, body: str, tags: str = "") -> list[Source]:
    return [
        Source(summary, token_text(f"{summary} {tags}"), trailing=True),
        Source(body, token_text(body)),
    ]


QUERIES = ("Sanierung", "lese*", '"Bibliothek der Dinge"', "Ehrenamt Kita", "Bücherei", "x")


@pytest.mark.parametrize("words", [5, 30])
def test_indexed_snippets_equal_plain_snippets_on_the_corpus(words: int) -> None:
    compared = 0
    for block in BLOCKS:
        for text in (*QUERIES, *block.title.split()[:2]):
            query = parse_query(text)
            sources = _sources(block.summary, block.body, " ".join(block.fields))
            expected = snippet([block.summary, block.body], query, words)
            assert indexed_snippet(sources, query, words) == expected, (block.title, text)
            compared += "<mark>" in expected
    assert compared > 50  # many found something to mark


def test_indexed_snippets_ignore_tag_tokens_and_fall_back_where_words_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    query = parse_query("Makerspace")
    # The tag matches, but the summary shows no hit: the body's hit is the snippet.
    sources = _sources("Kurz gesagt.", "Wir bauen einen Makerspace.", tags="Makerspace")
    assert indexed_snippet(sources, query) == "Wir bauen einen <mark>Makerspace</mark>"
    # Link targets are not shown, so the indexed words do not line up: same as snippet().
    body = "Siehe [Plan](https://example.org/a/b/c) für den Makerspace im Keller."
    assert indexed_snippet(_sources("", body), query) == snippet(["", body], query)
    assert "example" not in indexed_snippet(_sources("", body), query)
    # A decomposed accent splits a word in the text but not in its tokens.
    body = "Die Cafe\u0301teria im Erdgeschoss wird zum Makerspace."
    assert indexed_snippet(_sources("", body), query) == snippet(["", body], query)
    assert "<mark>Makerspace</mark>" in indexed_snippet(_sources("", body), query)
    fallbacks: list[object] = []

    def fallback(*args: object) -> str:
        fallbacks.append(args)
        return ""

    monkeypatch.setattr(text_module, "snippet", fallback)
    indexed_snippet(_sources("", body), query)
    assert len(fallbacks) == 1
    indexed_snippet(_sources("", "Das Café im Erdgeschoß wird zum Makerspace."), query)
    assert len(fallbacks) == 1  # composed accents and ß: the fast path


def _markdown_like(rng: random.Random, words: int) -> str:
    """Words with Markdown markup, line breaks, tabs, no-break spaces and punctuation between
    and around them: everything the snippet cleans (no link targets: those fall back)."""
    vocabulary = ("Lesesommer", "Makerspace", "Kita", "Gebäude", "Straße", "und", "die", "ein")
    gaps = (" ", "  ", "\n\n", "\t", "\u00a0", " **", "** ", "_", " # ", "`", " > ", "|",
            "~~", " [", "] ", ", ", ". ", " – ", "-", "*\n", " \n ", " (", ") ", " „", "“ ",
            "… ", "\u200b")  # fmt: skip
    parts = [rng.choice(("", "# ", "> ", "**", " ", "(", "„", "…", "— ", "\u200b"))]
    for _ in range(words):
        parts += [rng.choice(vocabulary), rng.choice(gaps)]
    return "".join(parts)


@pytest.mark.parametrize("words", [5, 30])
def test_indexed_snippets_equal_plain_snippets_around_markup_and_odd_spaces(words: int) -> None:
    rng = random.Random(4)
    queries = [parse_query(q) for q in ("Makerspace", "lese*", '"die Kita"', "Gebaude", "x")]
    marked = 0
    for _ in range(400):
        summary, body = _markdown_like(rng, rng.randint(0, 6)), _markdown_like(rng, 60)
        if rng.random() < 0.1:  # something to show, but no words
            summary = rng.choice(("…", "(—)", "** – **", "„“"))
        for query in queries:
            expected = snippet([summary, body], query, words)
            assert indexed_snippet(_sources(summary, body), query, words) == expected, (
                summary,
                body,
            )
            marked += "<mark>" in expected
    assert marked > 1000  # most found something to mark, the rest show the opening words


@pytest.mark.parametrize(
    ("summary", "body", "tags", "text"),
    [
        # "½" folds into two words: the summary's tokens no longer line up with its words.
        ("Kosten ½ Leseförderung", "Ein Text ohne Treffer.", "", "Leseförderung"),
        ("½ a-b ½ ﬁsch Lese", "Die Lesenacht im Herbst.", "", "les*"),
        # A phrase from the summary's end into the tags is no hit in the summary.
        ("Wir machen einen Lese", "Ein Lese Sommer im Park.", "Sommer", '"lese sommer"'),
        ("Kurz.", "Wir bauen einen Makerspace.", "Makerspace Lesesommer", "Makerspace"),
    ],
)
def test_indexed_snippets_equal_plain_snippets_where_tokens_and_words_differ(
    summary: str, body: str, tags: str, text: str
) -> None:
    query = parse_query(text)
    expected = snippet([summary, body], query)
    assert indexed_snippet(_sources(summary, body, tags), query) == expected
    assert "<mark>" in expected


def test_marks_in_token_text_find_words_prefixes_and_overlapping_phrases() -> None:
    query = parse_query('"a a" lese* sanierung')
    tokens_ = ["x", "a", "a", "a", "lesesomm", "les", "sanier", "sanierungx"]
    assert query.marks_in(" ".join(tokens_)) == {1, 2, 3, 4, 6}
    assert query.marks(tokens_) == {1, 2, 3, 4, 6}
    assert query.marks_in("") == set()
