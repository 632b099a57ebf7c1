"""What synthetic training text must never contain: the sentences and documents of held-out splits.

A raw text is held out (`contains`) when, compared casefolded and without whitespace (so that an
IOB sentence tokenized "( 5 )" matches raw "(5)"):

- it equals a held-out sentence or document, of any length;
- it contains a held-out sentence or document of at least MIN_CONTAINED_CHARS characters (an
  abstract embedding a test sentence), or, itself that long, lies inside a held-out document (a
  line of plain text cut from a test abstract). Shorter held-out sentences ("Results.") match only
  a whole equal text: inside other text they say nothing.

A document whose PMID is a held-out PMID is held out too (`contains_id`). These are the rules of
`corpora.convert` for gold splits, with the same MIN_CONTAINED_CHARS.

Speed without a scan per held-out text: every held-out text of length >= MIN is indexed by its
K-grams at offsets 0..STRIDE-1, and a raw text is probed only at positions that are multiples of
STRIDE. A held-out text found at position p of the raw text has one probe position q in
[p, p + STRIDE), and the held-out gram at offset q - p lies inside it because K + STRIDE - 1 = MIN.
A probe hit is a candidate, checked with `startswith`. The reverse check indexes the held-out
documents at the aligned positions and probes the raw text at offsets 0..STRIDE-1. Keys are
hashes of the grams (a collision only costs a check), values the codes of where they occur.
"""
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Union

from spacy.tokens import Doc

from ..corpora.convert import MIN_CONTAINED_CHARS
from ..corpora.datasets import DATASETS, dataset_sources
from ..corpora.formats import get_reader
from ..corpora.label_map import PathLike
from ..keys import DATASET_KEY, ID_KEY, SPLIT_KEY
from .documents import PMID_PREFIX, RawText, is_pmid, normalize

STRIDE = 10
GRAM = MIN_CONTAINED_CHARS - STRIDE + 1
_Codes = Union[int, List[int]]  # one code, or a list when a gram occurs more than once


def _put(index: Dict[int, _Codes], key: int, code: int) -> None:
    old = index.get(key)
    if old is None:
        index[key] = code
    elif isinstance(old, list):
        old.append(code)
    else:
        index[key] = [old, code]


def _codes(index: Dict[int, _Codes], key: int) -> Sequence[int]:
    found = index.get(key)
    return () if found is None else found if isinstance(found, list) else (found,)


class HeldOutText:
    """An index of held-out texts and PMIDs; see the module docstring for the matching rules."""

    def __init__(self, pmids: Iterable[str] = ()) -> None:
        self.pmids: Set[str] = {str(int(p)) for p in pmids}
        self._equal: Set[str] = set()
        self._texts: List[str] = []  # the long held-out texts, normalised
        self._starts: Dict[int, _Codes] = {}  # gram at offset r of text i -> i * STRIDE + r
        self._aligned: Dict[int, _Codes] = {}  # gram at offset q = k * STRIDE of document i -> i * 2**32 + q

    def __len__(self) -> int:
        """How many distinct held-out texts (documents and sentences) the index holds."""
        return len(self._equal)

    def add(self, document: str, sentences: Iterable[str] = ()) -> None:
        """Hold out a document and its sentences (a sentence-level corpus: the document alone)."""
        self._add_text(normalize(document), is_document=True)
        for sentence in sentences:
            self._add_text(normalize(sentence), is_document=False)

    def _add_text(self, text: str, is_document: bool) -> None:
        if not text or text in self._equal:
            return
        self._equal.add(text)
        if len(text) < MIN_CONTAINED_CHARS:
            return
        i = len(self._texts)
        self._texts.append(text)
        for r in range(STRIDE):
            _put(self._starts, hash(text[r : r + GRAM]), i * STRIDE + r)
        if is_document:
            for q in range(0, len(text) - GRAM + 1, STRIDE):
                _put(self._aligned, hash(text[q : q + GRAM]), (i << 32) + q)

    def contains_id(self, doc_id: str) -> bool:
        """Whether `doc_id` is "PMID:<n>" with n a held-out PMID."""
        if not doc_id.startswith(PMID_PREFIX):
            return False
        pmid = doc_id[len(PMID_PREFIX) :]
        return is_pmid(pmid) and str(int(pmid)) in self.pmids

    def contains(self, text: str) -> bool:
        """Whether the text equals, contains or (if long enough) lies inside held-out text."""
        text = normalize(text)
        if text in self._equal:
            return True
        if len(text) < MIN_CONTAINED_CHARS:
            return False
        return self._holds_long(text) or self._inside_long(text)

    def holds(self, raw: RawText) -> bool:
        """Whether a raw document is held out, by PMID or by text."""
        return self.contains_id(raw.doc_id) or self.contains(raw.text)

    def _holds_long(self, text: str) -> bool:
        starts = self._starts
        hits = [q for q in range(0, len(text) - GRAM + 1, STRIDE) if hash(text[q : q + GRAM]) in starts]
        for q in hits:  # rare: one probe per STRIDE characters finds nothing in most texts
            for code in _codes(starts, hash(text[q : q + GRAM])):
                i, r = divmod(code, STRIDE)
                if q >= r and text.startswith(self._texts[i], q - r):
                    return True
        return False

    def _inside_long(self, text: str) -> bool:
        for r in range(STRIDE):
            for code in _codes(self._aligned, hash(text[r : r + GRAM])):
                i, q = code >> 32, code & 0xFFFFFFFF
                if q >= r and self._texts[i].startswith(text, q - r):
                    return True
        return False

    @classmethod
    def from_docs(cls, docs: Iterable[Doc], ids_are_pmids: Optional[bool] = None) -> "HeldOutText":
        """Hold out gold docs (e.g. `read_docbin("corpus/bc5cdr/test.spacy")`): each text, each of its
        sentences when it has sentence boundaries, and its id as a PMID if `ids_are_pmids`; None:
        when the doc's dataset reads that split from PubTator (ids of IOB docs are ordinals)."""
        held_out = cls()
        for doc in docs:
            held_out.add_doc(doc, cls._id_is_pmid(doc) if ids_are_pmids is None else ids_are_pmids)
        return held_out

    @classmethod
    def from_datasets(
        cls,
        names: Iterable[str],
        data_dir: PathLike = "../shared/data",
        splits: Sequence[str] = ("dev", "test"),
        label_map: Optional[PathLike] = None,
    ) -> "HeldOutText":
        """Hold out the given splits (those a dataset has) of known datasets, read from the gold files."""
        held_out = cls()
        for name in names:
            sources = dataset_sources(name)
            for split in splits:
                if split in sources:
                    source = sources[split]
                    docs, _ = get_reader(source.format)(Path(data_dir) / source.path, name, split, label_map)
                    for doc in docs:
                        held_out.add_doc(doc, source.format == "pubtator")
        return held_out

    def add_doc(self, doc: Doc, id_is_pmid: bool = False) -> None:
        sentences: Iterator[str] = iter(())
        if doc.has_annotation("SENT_START"):
            sentences = (sent.text for sent in doc.sents)
        self.add(doc.text, sentences)
        doc_id = str(doc.user_data.get(ID_KEY, ""))
        if id_is_pmid and is_pmid(doc_id):
            self.pmids.add(str(int(doc_id)))

    @staticmethod
    def _id_is_pmid(doc: Doc) -> bool:
        dataset, split = doc.user_data.get(DATASET_KEY), doc.user_data.get(SPLIT_KEY)
        if dataset not in DATASETS:
            return False
        source = dataset_sources(dataset).get(split)
        return source is not None and source.format == "pubtator"
