"""GLiNER JSON (the `gliner` trainer's format): a reader, and a writer back to it."""
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from ..keys import GOLD_KEY, LABELS_KEY, NEGATIVES_KEY
from ..words import doc_words
from .docs import blank, check_split, finish_doc, read_text, sentence_doc
from .label_map import PathLike, get_type_map
from .report import ConversionReport


def read_gliner_json(
    path: PathLike, dataset: str, split: str, label_map: Optional[PathLike] = None, *, vocab: Optional[Vocab] = None
) -> Tuple[List[Doc], ConversionReport]:
    """A JSON list (or JSON lines) of `{"tokenized_text": [...], "ner": [[start, end_incl, label]]}`.

    Optional per record: negatives under "negatives" or "ner_negatives", the labels annotated
    under "ner_labels" or "label". Labels are natural language already; they go through the
    label map only where it has an entry for `dataset`. Without per-record labels, a doc's
    labels are the dataset's (its label map entry, else every label used in the file).
    """
    path = Path(path)
    check_split(split)
    types = get_type_map(dataset, label_map, required=False)
    vocab = vocab if vocab is not None else blank().vocab
    report = ConversionReport(str(path), dataset, split)
    raw = read_text(path)
    if not raw.strip():
        raise GlinerError(Errors.E042.format(where=path, what="records: the file is empty"))
    located: List[Tuple[str, Any]] = []
    if raw.lstrip().startswith("["):
        try:
            records = json.loads(raw)
        except ValueError as err:
            raise GlinerError(Errors.E060.format(where=path, err=err)) from None
        located = [(f"{path}: record {i}", record) for i, record in enumerate(records)]
    else:
        for n, line in enumerate(raw.split("\n"), 1):
            if line.strip():
                try:
                    located.append((f"{path}:{n}", json.loads(line)))
                except ValueError as err:
                    raise GlinerError(Errors.E060.format(where=f"{path}:{n}", err=err)) from None
    if not located:
        raise GlinerError(Errors.E042.format(where=path, what="records"))

    def natural(label: Any, where: str, strict: bool) -> str:
        if not isinstance(label, str) or not label.strip():
            raise GlinerError(Errors.E061.format(where=where, field="labels", expected="non-empty strings", value=label))
        if types is None or label in types.types.values():
            return label
        if label in types.types or strict:
            return types.label(label, where)
        return label

    parsed = []
    for where, record in located:
        words = record.get("tokenized_text") if isinstance(record, dict) else None
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise GlinerError(
                Errors.E061.format(where=where, field="`tokenized_text`", expected="a non-empty list of non-empty strings", value=words)
            )
        items = record.get("ner", [])
        if not isinstance(items, list):
            raise GlinerError(Errors.E061.format(where=where, field="`ner`", expected="a list of [start, end_inclusive, label]", value=items))
        ents = []
        for item in items:
            ok = isinstance(item, (list, tuple)) and len(item) == 3 and all(type(x) is int for x in item[:2])
            if not ok or not 0 <= item[0] <= item[1] < len(words):
                raise GlinerError(Errors.E049.format(where=where, item=item, n_words=len(words)))
            ents.append((item[0], item[1] + 1, natural(item[2], where, strict=True)))
        given = record.get("ner_labels", record.get("label"))
        labels = None if given is None else [natural(x, where, strict=False) for x in _string_list(given, where)]
        negs = record.get("negatives", record.get("ner_negatives"))
        negatives = None if negs is None else [natural(x, where, strict=False) for x in _string_list(negs, where)]
        parsed.append((words, ents, labels, negatives))
    dataset_labels = types.labels if types is not None else sorted({e[2] for _, ents, _, _ in parsed for e in ents})
    docs = []
    for i, (words, ents, labels, negatives) in enumerate(parsed):
        doc = sentence_doc(vocab, words)
        spans = [Span(doc, start, end, label=label) for start, end, label in ents]
        doc_labels = list(dataset_labels if labels is None else labels) + [label for _, _, label in ents]
        docs.append(finish_doc(doc, spans, dataset, split, doc_labels, str(i), negatives))
    report.tally(docs)
    return docs, report


def _string_list(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise GlinerError(Errors.E061.format(where=where, field="labels and negatives", expected="lists of strings", value=value))
    return value


def docs_to_gliner_json(docs: Iterable[Doc]) -> List[Dict[str, Any]]:
    """Records for the reference `gliner` trainer: all gold spans, end inclusive.

    "ner_labels" (the labels the dataset annotates) and "ner_negatives" are written when the doc
    has them; `gliner` then uses "ner_labels" as the example's label set. Whitespace tokens
    (newlines in abstracts) are left out, as the component leaves them out (`words.doc_words`).
    """
    records = []
    for doc in docs:
        words = doc_words(doc)
        spans = doc.spans[GOLD_KEY] if GOLD_KEY in doc.spans else doc.ents
        ner = [[start, end, label] for start, end, label in words.spans(spans)]
        record: Dict[str, Any] = {"tokenized_text": list(words.words), "ner": ner}
        if LABELS_KEY in doc.user_data:
            record["ner_labels"] = list(doc.user_data[LABELS_KEY])
        if NEGATIVES_KEY in doc.user_data:
            record["ner_negatives"] = list(doc.user_data[NEGATIVES_KEY])
        records.append(record)
    return records
