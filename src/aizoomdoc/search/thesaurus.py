"""A small curated Russian construction thesaurus for query expansion (``thesaurus_ru.txt``).

Each line of the data file is one concept: synonyms left of ``>``, narrower (or included) terms
right of it; ``|`` joins forms of one word that the stemmer keeps apart ("перемычка|перемычек").
A query word that is a synonym of a concept expands to:

- the other forms of the same term — weight 1.0 (it *is* the user's word);
- the other synonyms — :data:`SYNONYM_WEIGHT`;
- the narrower terms — :data:`NARROWER_WEIGHT` (one way: "вентиляция" finds "вентилятор",
  "вентилятор" does not find all of "вентиляция").

Terms are analysed like queries (stems; abbreviations in capitals kept whole). A term of several
words is an alternative that needs all its words in a block. Terms with digits are refused: codes
(П1, В1, К1) are matched exactly and never expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from aizoomdoc.search.analyzer import Alternative, analyze_query, is_abbreviation

#: Weights of expanded terms relative to the user's own word (1.0).
SYNONYM_WEIGHT = 0.7
NARROWER_WEIGHT = 0.5

DATA_FILE = "thesaurus_ru.txt"

Term = tuple[tuple[str, ...], ...]  # the token tuples of a term's forms


@dataclass(frozen=True)
class Concept:
    synonyms: tuple[Term, ...]
    narrower: tuple[Term, ...]


class ThesaurusError(ValueError):
    """A line of the thesaurus data cannot be used (names the line)."""


class Thesaurus:
    def __init__(self, concepts: list[Concept], abbreviations: frozenset[str]) -> None:
        self.concepts = concepts
        #: Lower-case abbreviations (аов, итп): a query word typed in lower case is kept whole.
        self.abbreviations = abbreviations
        self._by_word: dict[str, list[tuple[int, int]]] = {}
        for ci, concept in enumerate(concepts):
            for ti, term in enumerate(concept.synonyms):
                for form in term:
                    if len(form) == 1:
                        self._by_word.setdefault(form[0], []).append((ci, ti))

    @classmethod
    def parse(cls, text: str, source: str = DATA_FILE) -> Thesaurus:
        concepts: list[Concept] = []
        abbreviations: set[str] = set()
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            left, _, right = line.partition(">")
            try:
                synonyms = tuple(t for t in (_term(x, abbreviations) for x in left.split(",")) if t)
                narrower = tuple(t for t in (_term(x, abbreviations) for x in right.split(",")) if t)
            except ThesaurusError as exc:
                raise ThesaurusError(f"{source}:{n}: {exc}") from None
            if not synonyms:
                raise ThesaurusError(f"{source}:{n}: no terms left of '>'")
            concepts.append(Concept(synonyms, narrower))
        return cls(concepts, frozenset(abbreviations))

    def expand(self, word: str) -> tuple[Alternative, ...]:
        """The weighted alternatives of one analysed query word (best first; the word excluded)."""
        return self._expand(word)

    @lru_cache(maxsize=4096)  # noqa: B019 - one long-lived instance per process
    def _expand(self, word: str) -> tuple[Alternative, ...]:
        weights: dict[tuple[str, ...], float] = {}

        def add(term: Term, weight: float) -> None:
            for form in term:
                if weights.get(form, 0.0) < weight:
                    weights[form] = weight

        for ci, ti in self._by_word.get(word, ()):
            concept = self.concepts[ci]
            for tj, term in enumerate(concept.synonyms):
                add(term, 1.0 if tj == ti else SYNONYM_WEIGHT)
            for term in concept.narrower:
                add(term, NARROWER_WEIGHT)
        # A phrase is a set of words (all must be in the block): one spelling of it is enough, and
        # it adds nothing when it holds the query word itself or a word already expanded to.
        phrases: dict[tuple[str, ...], float] = {}
        for form, weight in weights.items():
            key = tuple(sorted(set(form)))
            if phrases.get(key, 0.0) < weight:
                phrases[key] = weight
        out = {
            form: weight for form, weight in phrases.items()
            if form != (word,) and not (len(form) > 1 and (
                word in form or any(phrases.get((tok,), 0.0) >= weight for tok in form)))
        }
        return tuple(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def _term(text: str, abbreviations: set[str]) -> Term:
    forms: list[tuple[str, ...]] = []
    for form in text.split("|"):
        form = form.strip()
        if not form:
            continue
        if any(ch.isdigit() for ch in form):
            raise ThesaurusError(f"'{form}' has digits: codes are matched exactly, never expanded")
        for word in form.replace("-", " ").replace("/", " ").split():
            if is_abbreviation(word):
                abbreviations.add(word.lower())
        tokens = analyze_query(form, expand=False)
        if tokens.codes or not tokens.words:
            raise ThesaurusError(f"'{form}' gives no words to search")
        if tokens.words not in forms:
            forms.append(tokens.words)
    return tuple(forms)


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus:
    """The packaged thesaurus (parsed once per process)."""
    text = resources.files("aizoomdoc.search").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return Thesaurus.parse(text)

