"""`.spacy` files (spaCy DocBins with user data): the one reader and the one writer of the package.

Beside each file the writer puts `<file>.counts.json`: how many training examples each doc makes
when split into sentences (`docs.sentence_count`). Sizing a training run (steps per epoch) then
needs no second read of every corpus; a file without it (or changed since) is read instead.
"""
import json
from pathlib import Path
from typing import Iterable, List, Optional

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from ..files import write_atomic
from ..keys import LABELS_KEY, NEGATIVES_KEY
from .docs import blank, sentence_count
from .label_map import PathLike

COUNTS_SUFFIX = ".counts.json"


def write_docbin(docs: Iterable[Doc], path: PathLike) -> Path:
    """Atomic: written beside its destination and renamed into place, so no half file survives."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    docs = list(docs)
    write_atomic(path, DocBin(store_user_data=True, docs=docs).to_bytes())
    counts = {"bytes": path.stat().st_size, "sentence_examples": [sentence_count(doc) for doc in docs]}
    write_atomic(counts_path(path), json.dumps(counts))
    return path


def read_docbin(path: PathLike, vocab: Optional[Vocab] = None) -> List[Doc]:
    """Docs of a .spacy file, with the label lists back as lists (msgpack returns tuples)."""
    path = Path(path)
    if not path.is_file():
        raise GlinerError(Errors.E064.format(path=path))
    try:
        docbin = DocBin(store_user_data=True).from_disk(path)
        docs = list(docbin.get_docs(vocab if vocab is not None else blank().vocab))
    except Exception as err:  # a corrupt file surfaces as msgpack, zlib, KeyError or ValueError
        raise GlinerError(Errors.E065.format(path=path, err=err)) from None
    for doc in docs:
        for key in (LABELS_KEY, NEGATIVES_KEY):
            if key in doc.user_data:
                doc.user_data[key] = list(doc.user_data[key])
    return docs


def counts_path(path: PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + COUNTS_SUFFIX)


def sentence_example_counts(path: PathLike) -> List[int]:
    """Per doc of the file, the examples it makes when split into sentences."""
    path = Path(path)
    sidecar = counts_path(path)
    if sidecar.is_file() and path.is_file():
        counts = json.loads(sidecar.read_text(encoding="utf-8"))
        if counts.get("bytes") == path.stat().st_size:
            return list(counts["sentence_examples"])
    return [sentence_count(doc) for doc in read_docbin(path)]
