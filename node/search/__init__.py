"""The federated index: full text, filters, facets, ranking and libraries like mine.

Modules: ``text`` (German tokens, query syntax, snippets), ``facets`` (facet tokens and
counting), ``index`` (write side), ``plan`` (query types and their resolution), ``sql``
(per-database SQL), ``query`` (the search service), ``searcher`` (where it runs),
``similarity`` (libraries like mine), ``paging`` (the plain newest-first listing),
``schema`` (full-text objects outside the models).
"""

from node.search.facets import FacetCount
from node.search.index import (
    index_is_stale,
    index_measures,
    index_uids,
    rebuild,
    reindex_library,
    unindex_measures,
)
from node.search.paging import CursorError, Page, decode_cursor, encode_cursor, newest_measures
from node.search.plan import Around, Range, SearchQuery
from node.search.query import FACET_SAMPLE, Hit, SearchResult, run_search, search
from node.search.searcher import Searcher
from node.search.similarity import (
    SearchError,
    SimilarLibrary,
    UnknownLibrary,
    resolve_library,
    similar_libraries,
)

__all__ = [
    "FACET_SAMPLE",
    "Around",
    "CursorError",
    "FacetCount",
    "Hit",
    "Page",
    "Range",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "Searcher",
    "SimilarLibrary",
    "UnknownLibrary",
    "decode_cursor",
    "encode_cursor",
    "index_is_stale",
    "index_measures",
    "index_uids",
    "newest_measures",
    "rebuild",
    "reindex_library",
    "resolve_library",
    "run_search",
    "search",
    "similar_libraries",
    "unindex_measures",
]
