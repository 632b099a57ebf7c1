"""Registered spaCy corpus readers, for `[corpora.train]` / `[corpora.dev]` in a training config.

Every reader gives `Example(predicted, reference)` with the predicted doc from
`docs.predicted_doc`: the reference's tokens and sentences, and the labels its dataset annotates,
which the component prompts for that doc. That is what makes `spacy train`'s dev scores the
project evaluator's: each dev doc is asked for its own dataset's types, not every label the
model was trained on.
"""
import random
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from ..keys import SPLIT_KEY
from .docbin import read_docbin, sentence_example_counts
from .docs import predicted_doc, sentence_docs
from .formats import get_reader


class GoldCorpus:
    """Loads its docs once per vocab (spaCy calls a corpus every epoch); new order per epoch when
    seeded, and at most `limit` examples per call (0: all)."""

    def __init__(self, load: Callable[[Vocab], List[Doc]], shuffle_seed: Optional[int] = None, limit: int = 0):
        self._load = load
        self._rng = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self._limit = limit
        self._vocab: Optional[Vocab] = None
        self._docs: List[Doc] = []

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self._vocab is not nlp.vocab:
            self._docs, self._vocab = self._load(nlp.vocab), nlp.vocab
        docs = list(self._docs)
        if self._rng is not None:
            self._rng.shuffle(docs)
        if self._limit:
            docs = docs[: self._limit]
        for doc in docs:
            yield Example(predicted_doc(nlp.vocab, doc), doc)


def _file_corpus(fmt: str, path: Path, dataset: str, split: str, label_map: Optional[Path]) -> GoldCorpus:
    reader = get_reader(fmt)
    return GoldCorpus(lambda vocab: reader(path, dataset, split, label_map, vocab=vocab)[0])


@registry.readers("spacy_gliner_biomed.IOB2Corpus.v1")
def create_iob2_corpus(
    path: Path, dataset: str, split: str = "train", label_map: Optional[Path] = None
) -> Callable[[Language], Iterator[Example]]:
    return _file_corpus("iob2", path, dataset, split, label_map)


@registry.readers("spacy_gliner_biomed.PubTatorCorpus.v1")
def create_pubtator_corpus(
    path: Path, dataset: str, split: str = "train", label_map: Optional[Path] = None
) -> Callable[[Language], Iterator[Example]]:
    return _file_corpus("pubtator", path, dataset, split, label_map)


@registry.readers("spacy_gliner_biomed.BratCorpus.v1")
def create_brat_corpus(
    path: Path, dataset: str, split: str = "train", label_map: Optional[Path] = None
) -> Callable[[Language], Iterator[Example]]:
    return _file_corpus("brat", path, dataset, split, label_map)


@registry.readers("spacy_gliner_biomed.GlinerJsonCorpus.v1")
def create_gliner_json_corpus(
    path: Path, dataset: str, split: str = "train", label_map: Optional[Path] = None
) -> Callable[[Language], Iterator[Example]]:
    return _file_corpus("gliner-json", path, dataset, split, label_map)


def _as_list(paths: Union[str, Sequence[str]]) -> List[str]:
    return [paths] if isinstance(paths, (str, Path)) else [str(p) for p in paths]


def _sample(n: int, limit_per_path: int, shuffle: bool, sampler: random.Random) -> List[int]:
    """Which of a file's n docs a MixedCorpus keeps: all, a seeded sample, or the first ones."""
    if not limit_per_path or n <= limit_per_path:
        return list(range(n))
    return sampler.sample(range(n), limit_per_path) if shuffle else list(range(limit_per_path))


@registry.readers("spacy_gliner_biomed.MixedCorpus.v1")
def create_mixed_corpus(
    paths: Optional[Union[str, List[str]]],
    limit_per_path: int = 0,
    shuffle: bool = True,
    seed: int = 0,
    allow_test: bool = False,
    split_sentences: bool = False,
    limit: int = 0,
) -> Callable[[Language], Iterator[Example]]:
    """Several .spacy files (or one) as one corpus; refuses test-split docs unless allow_test.

    limit_per_path > 0 keeps that many docs of each file: a seeded random sample when shuffling,
    else the first ones. With shuffle, each epoch has a new (seeded) order. split_sentences makes
    each sentence of a doc (abstracts, say) its own example, after the per-file limit: a batch of 8
    abstracts would otherwise be one optimizer step over ~80 sentences, while a batch of 8 sentences
    from another corpus is one step over 8. limit > 0 gives at most that many examples per call
    (a dev set scored often).
    """
    if limit_per_path < 0:
        raise GlinerError(Errors.E068.format(value=limit_per_path))
    given = paths

    def load(vocab: Vocab) -> List[Doc]:
        if given is None:  # a config is checked (`spacy debug config`) before its paths are set
            raise GlinerError(Errors.E039)
        paths = _as_list(given)
        sampler = random.Random(seed)
        docs: List[Doc] = []
        for path in paths:
            some = read_docbin(path, vocab)
            if not allow_test and any(doc.user_data.get(SPLIT_KEY) == "test" for doc in some):
                raise GlinerError(Errors.E069.format(path=path))
            docs.extend(some[i] for i in _sample(len(some), limit_per_path, shuffle, sampler))
        if split_sentences:
            docs = [sentence for doc in docs for sentence in sentence_docs(doc)]
        return docs

    return GoldCorpus(load, shuffle_seed=seed if shuffle else None, limit=limit)


def count_examples(
    paths: Union[str, Sequence[str]], limit_per_path: int = 0, shuffle: bool = True, seed: int = 0, split_sentences: bool = False
) -> int:
    """How many examples `create_mixed_corpus` with these settings gives per epoch, from the counts
    written beside each .spacy file (`docbin.write_docbin`), without building the docs."""
    sampler = random.Random(seed)
    total = 0
    for path in _as_list(paths):
        per_doc = sentence_example_counts(path)
        kept = _sample(len(per_doc), limit_per_path, shuffle, sampler)
        total += sum(per_doc[i] for i in kept) if split_sentences else len(kept)
    return total
