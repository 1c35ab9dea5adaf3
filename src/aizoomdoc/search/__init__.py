"""Search over document blocks: analyzer (Russian stemming, exact codes) + BM25 index (pure).

    index = SearchIndex.build(documents)          # Document objects or IndexedBlock rows
    hits = index.search("утеплитель кровли П-1", top_k=10, document_ids=None, pages=None)

Queries are expanded with a construction thesaurus (``thesaurus_ru.txt``); table cells are scored
with their row and one row is one hit; ``is_list_question`` spots questions that want every item.
"""

from aizoomdoc.search.analyzer import ANALYZER_VERSION, QueryTokens, analyze, analyze_query
from aizoomdoc.search.blocks import Hit, IndexedBlock, row_of
from aizoomdoc.search.cache import IndexCache, index_key
from aizoomdoc.search.index import IndexLoadError, SearchIndex
from aizoomdoc.search.query import is_list_question, matching_rows, table_rows
from aizoomdoc.search.thesaurus import Thesaurus, default_thesaurus

__all__ = [
    "ANALYZER_VERSION", "Hit", "IndexCache", "IndexLoadError", "IndexedBlock", "QueryTokens", "SearchIndex",
    "Thesaurus", "analyze", "analyze_query", "default_thesaurus", "index_key", "is_list_question",
    "matching_rows", "row_of", "table_rows",
]
