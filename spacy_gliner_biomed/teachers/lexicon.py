"""The lexicon teacher: vocabulary terms found with spaCy's `PhraseMatcher`, typed by the
vocabulary (MeSH tree, CTD MEDIC, gold mentions of training corpora). Offline and fast; the
default teacher of the recipe.

Matching rules, per term:
- case: gold mentions match exactly as annotated (gene symbols are case-sensitive); vocabulary
  terms match case-insensitively when they have several words or no capital past their first
  letter ("Mice" finds "mice"), and exactly otherwise ("AIDS" is not "aids", "ALL" is not "all");
- left out: terms under 3 characters, terms without a letter, spaCy's English stop words and the
  stop list (`data/lexicon_stoplist.txt`: words like "patients" or "growth" that name a MeSH entry
  but are not entity mentions in running text);
- longest match: of overlapping matches the longest wins (spaCy's `filter_spans`); a term with
  several types gives one span per type (a multi-label span: "insulin" is a hormone, a peptide
  and a chemical).
Every doc records the teacher's whole type inventory as the labels asked, but by default no
explicit negatives: a lexicon finds a small part of the mentions of most types (most protein and
cell-line names are in no vocabulary), so "not found" is no evidence of "absent", and training on
such negatives teaches the model that proteins never occur (measured: zero-shot JNLPBA and
BioNLP13CG fell to 0 F1). Training then samples negative types from the batch, as GLiNER does.
`explicit_negatives = true` writes them anyway (for a vocabulary known to be complete).
"""
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, registry
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from .base import finish_synthetic_doc
from .vocabularies import (
    DEFAULT_STOPLIST, DEFAULT_TYPE_MAP, Lexicon, PathLike, ctd_disease_lexicon, gold_lexicon, load_stoplist,
    load_type_map, merge, mesh_lexicon,
)

MIN_CHARS = 3


def _usable(term: str, stoplist: Set[str]) -> bool:
    low = term.lower()
    return len(term) >= MIN_CHARS and any(c.isalpha() for c in term) and low not in STOP_WORDS and low not in stoplist


class LexiconTeacher:
    """Annotates docs with the terms of `vocabulary` (caseless matching rules above) and `exact`
    (matched as written), each term's types as labels."""

    def __init__(
        self,
        vocabulary: Lexicon,
        exact: Optional[Lexicon] = None,
        stoplist: Iterable[str] = (),
        name: str = "lexicon",
        explicit_negatives: bool = False,
    ):
        stop = {s.lower() for s in stoplist}
        self.name = name
        self.explicit_negatives = explicit_negatives
        self._types: Dict[Tuple[str, str], Set[str]] = {}  # (attr, key) -> types
        for term, types in vocabulary.items():
            if _usable(term, stop):
                caseless = " " in term.strip() or not any(c.isupper() for c in term[1:])
                key = ("LOWER", term.lower()) if caseless else ("ORTH", term)
                self._types.setdefault(key, set()).update(types)
        for term, types in (exact or {}).items():
            if _usable(term, stop):
                self._types.setdefault(("ORTH", term), set()).update(types)
        if not self._types:
            raise GlinerError(Errors.E154.format(name=name))
        self.labels: Tuple[str, ...] = tuple(sorted({t for types in self._types.values() for t in types}))
        self._matchers: Dict[int, PhraseMatcher] = {}

    def _matcher(self, vocab: Vocab) -> PhraseMatcher:
        """One matcher per vocab (the docs' vocab must be the patterns' vocab)."""
        if id(vocab) not in self._matchers:
            from spacy.lang.en import English

            tokenizer = English(vocab=vocab).tokenizer
            matchers = {attr: PhraseMatcher(vocab, attr=attr) for attr in ("ORTH", "LOWER")}
            keys = sorted(self._types)
            for (attr, text), pattern in zip(keys, tokenizer.pipe(text for _, text in keys)):
                matchers[attr].add(f"{attr}:{text}", [pattern])
            self._matchers[id(vocab)] = matchers
        return self._matchers[id(vocab)]

    def spans(self, doc: Doc) -> List[Span]:
        matchers = self._matcher(doc.vocab)
        found = []
        for attr, matcher in matchers.items():
            for match_id, start, end in matcher(doc):
                found.append(Span(doc, start, end, label=match_id))
        spans = []
        for span in filter_spans(found):
            attr, text = doc.vocab.strings[span.label].split(":", 1)
            for type_ in sorted(self._types[(attr, text)]):
                spans.append(Span(doc, span.start, span.end, label=type_))
        return spans

    def __call__(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        for doc in docs:
            spans = self.spans(doc)
            scores = {(s.start_char, s.end_char, s.label_): 1.0 for s in spans}
            yield finish_synthetic_doc(doc, spans, self.labels, self.name, scores, negatives=self.explicit_negatives)


@registry.misc("spacy_gliner_biomed.LexiconTeacher.v1")
def make_lexicon_teacher(
    mesh_tree_numbers: Optional[Path] = None,
    mesh_terms: Optional[Path] = None,
    ctd_diseases: Optional[Path] = None,
    type_map: Optional[Path] = None,
    stoplist: Optional[Path] = None,
    gold_corpora: Sequence[str] = (),
    corpus_dir: Optional[Path] = None,
    zero_shot: Sequence[str] = (),
    name: str = "lexicon",
    explicit_negatives: bool = False,
) -> LexiconTeacher:
    """A lexicon teacher from vocabulary files (any of them may be null) and the gold mentions of
    `gold_corpora` (their `train.spacy` under `corpus_dir`). A corpus also named in `zero_shot`
    (the recipe's zero-shot test sets) is refused: its annotations would leak into training.
    `type_map` and `stoplist` default to the shipped files (an empty stop list file turns it off)."""
    leaking = sorted(set(gold_corpora) & set(zero_shot))
    if leaking:
        raise GlinerError(Errors.E155.format(names=leaking))
    rows = load_type_map(type_map or DEFAULT_TYPE_MAP)
    parts: List[Lexicon] = []
    if mesh_tree_numbers is not None:
        parts.append(mesh_lexicon(mesh_tree_numbers, rows, mesh_terms))
    if ctd_diseases is not None:
        parts.append(ctd_disease_lexicon(ctd_diseases, rows))
    exact: Lexicon = {}
    if gold_corpora:
        from ..corpora.docbin import read_docbin

        if corpus_dir is None:
            raise GlinerError(Errors.E156)
        exact = merge(*(gold_lexicon(read_docbin(Path(corpus_dir) / corpus / "train.spacy")) for corpus in gold_corpora))
    stop = load_stoplist(stoplist or DEFAULT_STOPLIST)
    return LexiconTeacher(merge(*parts), exact, stop, name=name, explicit_negatives=explicit_negatives)
