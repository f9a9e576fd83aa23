"""German tokens, query syntax, facet tokens and snippets (no database)."""

from __future__ import annotations

import pytest

from node.search.facets import count_facets, facet_dimension, facet_token
from node.search.text import highlight, parse_query, snippet, tokens
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


def test_facet_tokens_round_trip_and_count() -> None:
    idea, state = facet_token("kind", "idea"), facet_token("federal_state", "DE-BY")
    assert idea.isalnum()
    assert idea.islower()
    assert facet_dimension(state) == "state"
    facets = count_facets([f"{idea} {state}", idea, "unrelated"], scale=2.0)
    assert [(f.term, f.count) for f in facets["kind"]] == [("idea", 4)]
    assert [(f.term, f.count) for f in facets["federal_state"]] == [("DE-BY", 2)]
    assert facets["formats"] == []


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
