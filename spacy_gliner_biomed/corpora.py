"""Gold NER corpora as spaCy Docs, in the one shape the rest of the package reads.

Readers for 2-column IOB2 (and IOBES), PubTator, brat standoff and GLiNER JSON, a writer back
to GLiNER JSON, `.spacy` conversion of the datasets in ../shared/data (with leakage checks
against each dataset's test split), spaCy corpus readers for training configs, and the
`convert` command line pieces.

Conventions every Doc built here follows:
- all gold spans, nested or overlapping, are in `doc.spans[GOLD_KEY]`; `doc.ents` holds the
  non-overlapping subset (longest first); labels are natural language ("gene", "cell type");
  PubTator concept ids are each span's `kb_id_`, exactly as in the file;
- `doc.user_data` names the dataset, split, id and every label the dataset annotates (a label
  absent from a doc is a true negative there), plus explicit negatives from GLiNER JSON;
- raw-text documents are tokenized so that every gold offset is a token boundary, keep
  `doc.text` equal to the source text, and have sentence boundaries that no entity crosses.
"""
import argparse
import json
import random
import re
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import filter_spans, registry
from spacy.vocab import Vocab

from .errors import GlinerError
from .files import write_atomic

GOLD_KEY = "gold"
DATASET_KEY = "gliner_biomed.dataset"
SPLIT_KEY = "gliner_biomed.split"
LABELS_KEY = "gliner_biomed.labels"
NEGATIVES_KEY = "gliner_biomed.negatives"
ID_KEY = "gliner_biomed.id"
SPLITS = ("train", "dev", "test")
# Found next to the package, so an editable install or a checkout needs no copy of it.
DEFAULT_LABEL_MAP = Path(__file__).resolve().parents[1] / "configs" / "label_map.json"
# A text this long (without whitespace) found inside a document of another split is the same text.
MIN_CONTAINED_CHARS = 40

PathLike = Union[str, Path]
_TAG_RE = re.compile(r"^([BIES])-(.+)$")
_PUBTATOR_TEXT_RE = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")


@dataclass
class ConversionReport:
    """What one file's conversion did, so repairs and drops are never silent."""

    source: str
    dataset: str
    split: str
    docs: int = 0
    entities: int = 0
    left_out_of_ents: int = 0  # overlapping spans kept in doc.spans[GOLD_KEY] only
    boundary_splits: int = 0  # entity offsets that fell inside a spaCy token
    iob_repairs: int = 0  # I-X/E-X with no open X entity, read as a start
    sentence_fixes: int = 0  # sentence starts removed because they fell inside an entity
    trimmed_mentions: int = 0  # mention texts in the file with whitespace around them
    skipped_lines: int = 0  # -DOCSTART-, PubTator relations, brat relations/events/notes
    duplicates: int = 0  # repeated documents (same id, same content) in one file
    dropped_dev_docs: int = 0  # docs also in the dataset's dev split
    dropped_test_docs: int = 0  # docs also in the dataset's test split

    def tally(self, docs: Sequence[Doc]) -> None:
        """Count the docs as they will be written (after any drops)."""
        self.docs = len(docs)
        self.entities = sum(len(doc.spans[GOLD_KEY]) for doc in docs)
        self.left_out_of_ents = sum(len(doc.spans[GOLD_KEY]) - len(doc.ents) for doc in docs)

    def __str__(self) -> str:
        parts = [f"{self.docs} docs", f"{self.entities} entities"]
        extras = [
            (self.left_out_of_ents, "overlapping spans left out of doc.ents"),
            (self.boundary_splits, "entity boundaries split inside a token"),
            (self.iob_repairs, "I- tags without B- read as B-"),
            (self.sentence_fixes, "sentence starts inside entities removed"),
            (self.trimmed_mentions, "mention texts with extra whitespace in the file"),
            (self.duplicates, "duplicate docs dropped"),
            (self.dropped_dev_docs, "docs also in dev dropped"),
            (self.dropped_test_docs, "docs also in test dropped"),
            (self.skipped_lines, "non-mention lines skipped"),
        ]
        parts += [f"{n} {what}" for n, what in extras if n]
        return f"{self.dataset}/{self.split} ({self.source}): " + ", ".join(parts)


@dataclass(frozen=True)
class TypeMap:
    """One dataset's entry of the label map: source type -> natural-language label."""

    dataset: str
    types: Dict[str, str]
    source: Path

    @property
    def labels(self) -> List[str]:
        return sorted(set(self.types.values()))

    def label(self, source_type: str, where: str) -> str:
        if source_type not in self.types:
            raise GlinerError(
                f"[E041] {where}: unknown entity type {source_type!r} for dataset {self.dataset!r} "
                f"(known: {sorted(self.types)}). Add it to the label map file {self.source}."
            )
        return self.types[source_type]


def load_label_map(path: Optional[PathLike] = None) -> Dict[str, Dict[str, str]]:
    """The whole label map file: {dataset: {source_type: natural_label}}."""
    path = Path(path) if path is not None else DEFAULT_LABEL_MAP
    if not path.is_file():
        raise GlinerError(
            f"[E046] Label map file '{path}' does not exist. Pass an explicit one "
            "(`--label-map PATH` / `label_map=PATH`) mapping {dataset: {source_type: label}}."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GlinerError(f"[E046] Could not read label map file '{path}': {err}") from None
    ok = isinstance(data, dict) and all(
        isinstance(types, dict) and all(isinstance(v, str) and v.strip() for v in types.values())
        for types in data.values()
    )
    if not ok:
        raise GlinerError(
            f"[E046] Label map file '{path}' must be a JSON object {{dataset: {{source_type: label}}}} "
            "with non-empty string labels."
        )
    return data


def get_type_map(dataset: str, label_map: Optional[PathLike] = None, required: bool = True) -> Optional[TypeMap]:
    """The dataset's entry; None only where a mapping is optional (GLiNER JSON) and there is none."""
    path = Path(label_map) if label_map is not None else DEFAULT_LABEL_MAP
    if not required and label_map is None and not path.is_file():
        return None
    data = load_label_map(path)
    if dataset in data:
        return TypeMap(dataset, dict(data[dataset]), path)
    if not required:
        return None
    raise GlinerError(
        f"[E046] Dataset {dataset!r} has no entry in the label map file {path}. Add "
        f'"{dataset}": {{"SOURCE_TYPE": "natural language label", ...}} to it.'
    )


@lru_cache(maxsize=1)
def _blank() -> Language:
    return spacy.blank("en")


@lru_cache(maxsize=1)
def _sentencizer() -> Callable[[Doc], Doc]:
    from spacy.pipeline import Sentencizer

    return Sentencizer()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise GlinerError(f"[E048] Cannot read '{path}': {err}") from None


def _lines(path: Path) -> List[str]:
    """Lines split on \\n only: tokens and mentions may hold other Unicode line separators."""
    lines = [line.rstrip("\r") for line in _read_text(path).split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise GlinerError(f"[E048] Unknown split {split!r}: use one of {list(SPLITS)}.")


def _finish_doc(
    doc: Doc,
    spans: List[Span],
    dataset: str,
    split: str,
    labels: Sequence[str],
    doc_id: str,
    negatives: Optional[Sequence[str]] = None,
) -> Doc:
    doc.spans[GOLD_KEY] = spans
    doc.ents = filter_spans(spans)
    doc.user_data[DATASET_KEY] = dataset
    doc.user_data[SPLIT_KEY] = split
    doc.user_data[LABELS_KEY] = sorted(set(labels))
    doc.user_data[ID_KEY] = doc_id
    if negatives is not None:
        doc.user_data[NEGATIVES_KEY] = list(negatives)
    return doc


def _sentence_doc(vocab: Vocab, words: Sequence[str]) -> Doc:
    """A pre-tokenized sentence: words joined by single spaces, one sentence."""
    n = len(words)
    return Doc(vocab, words=list(words), spaces=[True] * (n - 1) + [False], sent_starts=[True] + [False] * (n - 1))


# ---------------------------------------------------------------------------------------------
# IOB2 / IOBES


def read_iob2(
    path: PathLike, dataset: str, split: str, label_map: Optional[PathLike] = None, *, vocab: Optional[Vocab] = None
) -> Tuple[List[Doc], ConversionReport]:
    """One Doc per sentence of a 2-column `token<TAB>tag` file (blank line between sentences).

    Tags are IOB2, or IOBES (FabNER uses it). `-DOCSTART-` lines end a sentence and are skipped.
    Columns are tab-separated when the first line has a tab (tokens may contain spaces), else
    whitespace-separated.
    """
    path = Path(path)
    _check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else _blank().vocab
    report = ConversionReport(str(path), dataset, split)
    lines = _lines(path)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise GlinerError(f"[E042] {path}: the file is empty.")
    sep = "\t" if "\t" in first else None
    docs: List[Doc] = []
    sentence: List[Tuple[str, str, int]] = []

    def flush() -> None:
        if sentence:
            docs.append(_iob_doc(vocab, sentence, path, types, split, str(len(docs)), report))
            sentence.clear()

    for n, line in enumerate(lines, 1):
        if not line.strip():
            flush()
            continue
        cols = line.split(sep)
        if cols[0] == "-DOCSTART-":
            flush()
            report.skipped_lines += 1
            continue
        if len(cols) != 2:
            raise GlinerError(
                f"[E040] {path}:{n}: expected 2 {'tab-separated' if sep else 'whitespace-separated'} "
                f"columns (token, tag), got {len(cols)}: {line!r}"
            )
        if not cols[0]:
            raise GlinerError(f"[E043] {path}:{n}: empty token.")
        sentence.append((cols[0], cols[1].strip(), n))
    flush()
    if not docs:
        raise GlinerError(f"[E042] {path}: the file has no sentences.")
    report.tally(docs)
    return docs, report


def _iob_doc(
    vocab: Vocab,
    rows: Sequence[Tuple[str, str, int]],
    path: Path,
    types: TypeMap,
    split: str,
    doc_id: str,
    report: ConversionReport,
) -> Doc:
    doc = _sentence_doc(vocab, [word for word, _, _ in rows])
    n = len(doc)
    spans: List[Span] = []
    start: Optional[int] = None
    current, label = "", ""
    for i, (_, tag, line_no) in enumerate(rows):
        prefix, kind = "O", ""
        if tag != "O":
            match = _TAG_RE.match(tag)
            if match is None:
                raise GlinerError(
                    f"[E043] {path}:{line_no}: invalid tag {tag!r}: expected O, B-TYPE, I-TYPE "
                    "(or E-TYPE, S-TYPE in IOBES)."
                )
            prefix, kind = match.groups()
        continues = prefix in "IE" and start is not None and kind == current
        if start is not None and not continues:
            spans.append(Span(doc, start, i, label=label))
            start = None
        if prefix == "O":
            continue
        if not continues:
            if prefix in "IE":  # IOB1-style start
                report.iob_repairs += 1
            start, current, label = i, kind, types.label(kind, f"{path}:{line_no}")
        if prefix in "ES":
            spans.append(Span(doc, start, i + 1, label=label))
            start = None
    if start is not None:
        spans.append(Span(doc, start, n, label=label))
    return _finish_doc(doc, spans, types.dataset, split, types.labels, doc_id)


# ---------------------------------------------------------------------------------------------
# Raw text with character offsets (PubTator, brat)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    label: str
    kb_id: str
    where: str  # file:line, for errors


def _check_offsets(
    text: str, start: str, end: str, mention: str, where: str, report: ConversionReport
) -> Tuple[int, int]:
    """Offsets as ints, checked against the text; the offsets win over whitespace around the
    mention column (NCBI-disease has a mention with two trailing spaces), which is counted."""
    try:
        a, b = int(start), int(end)
    except ValueError:
        raise GlinerError(f"[E044] {where}: offsets {start!r} {end!r} are not integers.") from None
    if not 0 <= a < b <= len(text):
        raise GlinerError(
            f"[E044] {where}: offsets {a}-{b} are not a non-empty range inside the text ({len(text)} characters)."
        )
    if text[a:b] != mention:
        if text[a:b] == mention.strip():
            report.trimmed_mentions += 1
            return a, b
        raise GlinerError(
            f"[E045] {where}: mention text {mention!r} does not match the text at {a}-{b}: {text[a:b]!r}."
        )
    return a, b


def _tokenize_at(text: str, offsets: Iterable[int]) -> Tuple[List[str], List[bool], int]:
    """spaCy's tokenization of the whole text (what inference sees), except that a token with
    entity offsets strictly inside it is cut there and each piece tokenized on its own.

    Returns words and spaces (`doc.text` stays `text`) and how many offsets needed a cut.
    """
    tokenizer = _blank().tokenizer
    offsets = sorted(offsets)
    words: List[str] = []
    spaces: List[bool] = []
    cut = 0
    for token in tokenizer(text):
        start, end = token.idx, token.idx + len(token.text)
        inside = offsets[bisect_right(offsets, start) : bisect_left(offsets, end)]
        if not inside:
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
            continue
        cut += len(inside)
        bounds = [start, *inside, end]
        for a, b in zip(bounds, bounds[1:]):
            for piece in tokenizer(text[a:b]):
                words.append(piece.text)
                spaces.append(bool(piece.whitespace_))
        spaces[-1] = bool(token.whitespace_)
    return words, spaces, cut


def _text_doc(
    vocab: Vocab,
    text: str,
    mentions: Sequence[_Mention],
    types: TypeMap,
    split: str,
    doc_id: str,
    report: ConversionReport,
) -> Doc:
    words, spaces, cut = _tokenize_at(text, {o for m in mentions for o in (m.start, m.end)})
    report.boundary_splits += cut
    doc = Doc(vocab, words=words, spaces=spaces)
    spans = []
    for m in mentions:
        span = doc.char_span(m.start, m.end, label=m.label, kb_id=m.kb_id)
        if span is None:
            raise GlinerError(f"[E045] {m.where}: the mention starts or ends with whitespace; trim its offsets.")
        spans.append(span)
    _sentencizer()(doc)
    for span in spans:
        for token in span[1:]:
            if token.is_sent_start:
                token.is_sent_start = False
                report.sentence_fixes += 1
    return _finish_doc(doc, spans, types.dataset, split, types.labels, doc_id)


def read_pubtator(
    path: PathLike, dataset: str, split: str, label_map: Optional[PathLike] = None, *, vocab: Optional[Vocab] = None
) -> Tuple[List[Doc], ConversionReport]:
    """One Doc per abstract; text = title + " " + abstract, against which the offsets count.

    Mention lines are `PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ids[<TAB>...]]`; columns after
    the ids (BC5CDR's names of a composite mention's parts) are not needed. Relation lines
    (`PMID<TAB>CID<TAB>...`) are skipped. A PMID repeated with identical content is dropped.
    """
    path = Path(path)
    _check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else _blank().vocab
    report = ConversionReport(str(path), dataset, split)
    records: List[Tuple[str, str, List[Tuple[int, List[str]]]]] = []
    pmid, title, abstract = "", None, None
    rows: List[Tuple[int, List[str]]] = []

    def flush() -> None:
        if title is not None:
            records.append((pmid, title if abstract is None else f"{title} {abstract}", list(rows)))

    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        match = _PUBTATOR_TEXT_RE.match(line)
        if match and match.group(2) == "t":
            flush()
            pmid, title, abstract, rows = match.group(1), match.group(3), None, []
        elif match:
            if match.group(1) != pmid or abstract is not None or rows:
                raise GlinerError(
                    f"[E049] {path}:{n}: abstract line `{match.group(1)}|a|` is not right after its title."
                )
            abstract = match.group(3)
        else:
            cols = line.split("\t")
            if title is None or cols[0] != pmid:
                raise GlinerError(
                    f"[E049] {path}:{n}: expected a `PMID|t|title` / `PMID|a|abstract` line or a tab-separated "
                    f"line of the current document (PMID {pmid or '?'}), got {line[:80]!r}."
                )
            if len(cols) > 1 and not cols[1].isdigit():
                report.skipped_lines += 1  # a relation, e.g. PMID CID chemical disease
            elif len(cols) < 5:
                raise GlinerError(
                    f"[E040] {path}:{n}: a mention line needs at least 5 tab-separated columns "
                    f"(PMID, start, end, text, type[, ids]), got {len(cols)}."
                )
            else:
                rows.append((n, cols))
    flush()
    if not records:
        raise GlinerError(f"[E042] {path}: the file has no PubTator documents.")
    docs: List[Doc] = []
    seen: Dict[str, Tuple[str, List[List[str]]]] = {}
    for pmid, text, rows in records:
        content = (text, [cols for _, cols in rows])
        if pmid in seen:
            if seen[pmid] != content:
                raise GlinerError(f"[E049] {path}: PMID {pmid} appears twice with different text or mentions.")
            report.duplicates += 1
            continue
        seen[pmid] = content
        mentions = []
        for n, cols in rows:
            where = f"{path}:{n}"
            start, end = _check_offsets(text, cols[1], cols[2], cols[3], where, report)
            kb_id = cols[5] if len(cols) > 5 else ""
            mentions.append(_Mention(start, end, types.label(cols[4], where), kb_id, where))
        docs.append(_text_doc(vocab, text, mentions, types, split, pmid, report))
    report.tally(docs)
    return docs, report


def read_brat(
    directory: PathLike,
    dataset: str,
    split: str,
    label_map: Optional[PathLike] = None,
    *,
    vocab: Optional[Vocab] = None,
) -> Tuple[List[Doc], ConversionReport]:
    """One Doc per `NAME.txt` + `NAME.ann` pair; only text-bound `T` lines are entities.

    Relations, events, attributes and notes are skipped (counted). Discontinuous entities
    (`TYPE a b;c d`) cannot be one span and are an error.
    """
    directory = Path(directory)
    _check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else _blank().vocab
    report = ConversionReport(str(directory), dataset, split)
    if not directory.is_dir():
        raise GlinerError(f"[E048] brat folder '{directory}' does not exist.")
    texts = sorted(directory.glob("*.txt"))
    if not texts:
        raise GlinerError(f"[E042] {directory}: no .txt files (brat standoff expects NAME.txt + NAME.ann).")
    docs = []
    for txt in texts:
        ann = txt.with_suffix(".ann")
        if not ann.is_file():
            raise GlinerError(f"[E048] {txt} has no annotation file {ann.name}.")
        try:
            with open(txt, encoding="utf-8", newline="") as f:  # offsets count \r too
                text = f.read()
        except (OSError, UnicodeDecodeError) as err:
            raise GlinerError(f"[E048] Cannot read '{txt}': {err}") from None
        mentions = []
        for n, line in enumerate(_lines(ann), 1):
            if not line.strip():
                continue
            if not line.startswith("T"):
                report.skipped_lines += 1
                continue
            where = f"{ann}:{n}"
            cols = line.split("\t")
            if len(cols) != 3:
                raise GlinerError(
                    f"[E040] {where}: expected 3 tab-separated columns (ID, TYPE START END, text), got {len(cols)}."
                )
            if ";" in cols[1]:
                raise GlinerError(
                    f"[E049] {where}: discontinuous entity {cols[1]!r} cannot be one span; split or join it."
                )
            parts = cols[1].split(" ")
            if len(parts) != 3:
                raise GlinerError(f"[E040] {where}: expected `TYPE START END`, got {cols[1]!r}.")
            start, end = _check_offsets(text, parts[1], parts[2], cols[2], where, report)
            mentions.append(_Mention(start, end, types.label(parts[0], where), "", where))
        docs.append(_text_doc(vocab, text, mentions, types, split, txt.stem, report))
    report.tally(docs)
    return docs, report


# ---------------------------------------------------------------------------------------------
# GLiNER JSON


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
    _check_split(split)
    types = get_type_map(dataset, label_map, required=False)
    vocab = vocab if vocab is not None else _blank().vocab
    report = ConversionReport(str(path), dataset, split)
    raw = _read_text(path)
    if not raw.strip():
        raise GlinerError(f"[E042] {path}: the file is empty.")
    located: List[Tuple[str, Any]] = []
    if raw.lstrip().startswith("["):
        try:
            records = json.loads(raw)
        except ValueError as err:
            raise GlinerError(f"[E049] {path}: not valid JSON: {err}") from None
        located = [(f"{path}: record {i}", record) for i, record in enumerate(records)]
    else:
        for n, line in enumerate(raw.split("\n"), 1):
            if line.strip():
                try:
                    located.append((f"{path}:{n}", json.loads(line)))
                except ValueError as err:
                    raise GlinerError(f"[E049] {path}:{n}: not valid JSON: {err}") from None
    if not located:
        raise GlinerError(f"[E042] {path}: the file has no records.")

    def natural(label: Any, where: str, strict: bool) -> str:
        if not isinstance(label, str) or not label.strip():
            raise GlinerError(f"[E049] {where}: labels must be non-empty strings, got {label!r}.")
        if types is None or label in types.types.values():
            return label
        if label in types.types or strict:
            return types.label(label, where)
        return label

    parsed = []
    for where, record in located:
        words = record.get("tokenized_text") if isinstance(record, dict) else None
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise GlinerError(f"[E049] {where}: `tokenized_text` must be a non-empty list of non-empty strings.")
        items = record.get("ner", [])
        if not isinstance(items, list):
            raise GlinerError(f"[E049] {where}: `ner` must be a list of [start, end_inclusive, label].")
        ents = []
        for item in items:
            ok = isinstance(item, (list, tuple)) and len(item) == 3 and all(type(x) is int for x in item[:2])
            if not ok or not 0 <= item[0] <= item[1] < len(words):
                raise GlinerError(
                    f"[E044] {where}: entity {item!r} is not [start, end_inclusive, label] inside {len(words)} tokens."
                )
            ents.append((item[0], item[1] + 1, natural(item[2], where, strict=True)))
        given = record.get("ner_labels", record.get("label"))
        labels = None if given is None else [natural(x, where, strict=False) for x in _string_list(given, where)]
        negs = record.get("negatives", record.get("ner_negatives"))
        negatives = None if negs is None else [natural(x, where, strict=False) for x in _string_list(negs, where)]
        parsed.append((words, ents, labels, negatives))
    dataset_labels = types.labels if types is not None else sorted({e[2] for _, ents, _, _ in parsed for e in ents})
    docs = []
    for i, (words, ents, labels, negatives) in enumerate(parsed):
        doc = _sentence_doc(vocab, words)
        spans = [Span(doc, start, end, label=label) for start, end, label in ents]
        doc_labels = list(dataset_labels if labels is None else labels) + [label for _, _, label in ents]
        docs.append(_finish_doc(doc, spans, dataset, split, doc_labels, str(i), negatives))
    report.tally(docs)
    return docs, report


def _string_list(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise GlinerError(f"[E049] {where}: labels and negatives must be lists of strings, got {value!r}.")
    return value


def docs_to_gliner_json(docs: Iterable[Doc]) -> List[Dict[str, Any]]:
    """Records for the reference `gliner` trainer: all gold spans, end inclusive.

    "ner_labels" (the labels the dataset annotates) and "ner_negatives" are written when the doc
    has them; `gliner` then uses "ner_labels" as the example's label set. Whitespace tokens
    (newlines in abstracts) are left out, since a transformer tokenizer gives them no sub-tokens.
    """
    records = []
    for doc in docs:
        kept = [t for t in doc if not t.is_space]
        index = {t.i: k for k, t in enumerate(kept)}
        spans = doc.spans[GOLD_KEY] if GOLD_KEY in doc.spans else doc.ents
        ner = []
        for span in spans:
            inner = [index[t.i] for t in span if t.i in index]
            if inner:
                ner.append([inner[0], inner[-1], span.label_])
        record: Dict[str, Any] = {"tokenized_text": [t.text for t in kept], "ner": ner}
        if LABELS_KEY in doc.user_data:
            record["ner_labels"] = list(doc.user_data[LABELS_KEY])
        if NEGATIVES_KEY in doc.user_data:
            record["ner_negatives"] = list(doc.user_data[NEGATIVES_KEY])
        records.append(record)
    return records


# ---------------------------------------------------------------------------------------------
# .spacy files


def write_docbin(docs: Iterable[Doc], path: PathLike) -> Path:
    """Atomic: a temp file in the same folder, then os.replace, so no half-written file survives."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, DocBin(store_user_data=True, docs=docs).to_bytes())


def read_docbin(path: PathLike, vocab: Optional[Vocab] = None) -> List[Doc]:
    """Docs of a .spacy file, with the label lists back as lists (msgpack returns tuples)."""
    path = Path(path)
    if not path.is_file():
        raise GlinerError(f"[E048] '{path}' does not exist.")
    try:
        docbin = DocBin(store_user_data=True).from_disk(path)
    except ValueError as err:
        raise GlinerError(f"[E048] '{path}' is not a .spacy (DocBin) file: {err}") from None
    docs = list(docbin.get_docs(vocab if vocab is not None else _blank().vocab))
    for doc in docs:
        for key in (LABELS_KEY, NEGATIVES_KEY):
            if key in doc.user_data:
                doc.user_data[key] = list(doc.user_data[key])
    return docs


# ---------------------------------------------------------------------------------------------
# The datasets in ../shared/data


@dataclass(frozen=True)
class _Source:
    format: str
    path: str  # relative to the data folder


def _mtl(name: str) -> Dict[str, _Source]:
    return {s: _Source("iob2", f"bio/{name}/iob/{f}.tsv") for s, f in zip(SPLITS, ("train", "devel", "test"))}


_BIO_DATASETS: Dict[str, Dict[str, _Source]] = {
    # PubTator rather than IOB for the two corpora that have it: concept ids, whole abstracts.
    "ncbi-disease": {
        "train": _Source("pubtator", "bio/ncbi-disease/pubtator/NCBItrainset_corpus.txt"),
        "dev": _Source("pubtator", "bio/ncbi-disease/pubtator/NCBIdevelopset_corpus.txt"),
        "test": _Source("pubtator", "bio/ncbi-disease/pubtator/NCBItestset_corpus.txt"),
    },
    "bc5cdr": {
        "train": _Source("pubtator", "bio/bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt"),
        "dev": _Source("pubtator", "bio/bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt"),
        "test": _Source("pubtator", "bio/bc5cdr/pubtator/CDR_TestSet.PubTator.txt"),
    },
    "bc2gm": _mtl("bc2gm"),
    "jnlpba": {
        "train": _Source("brat", "bio/jnlpba/standoff/train"),
        "dev": _Source("iob2", "bio/jnlpba/iob/devel.tsv"),
        "test": _Source("iob2", "bio/jnlpba/iob/test.tsv"),
    },
    "linnaeus": _mtl("linnaeus"),
    "bionlp13cg": _mtl("bionlp13cg"),
}
_GENERAL_DATASETS = (
    "conll2003", "mit-movie", "mit-restaurant", "crossner_ai", "crossner_literature", "crossner_music",
    "crossner_politics", "crossner_science", "WikiANN-en", "TweetNER7", "broad_twitter_corpus", "HarveyNER",
    "FabNER", "Ontonotes", "MultiNERD", "WikiNeural",
)
_DEV_TEST_ONLY = ("Ontonotes", "MultiNERD", "WikiNeural")
DATASETS = tuple(_BIO_DATASETS) + _GENERAL_DATASETS
READERS: Dict[str, Callable[..., Tuple[List[Doc], ConversionReport]]] = {
    "iob2": read_iob2,
    "pubtator": read_pubtator,
    "brat": read_brat,
    "gliner-json": read_gliner_json,
}
# Formats whose doc ids (PMIDs, file stems) identify the same document across splits.
_ID_FORMATS = ("pubtator", "brat")


def _sources(name: str) -> Dict[str, _Source]:
    if name in _BIO_DATASETS:
        return _BIO_DATASETS[name]
    if name in _GENERAL_DATASETS:
        splits = ("dev", "test") if name in _DEV_TEST_ONLY else SPLITS
        return {s: _Source("iob2", f"general/{name}/{s}.txt") for s in splits}
    raise GlinerError(f"[E048] Unknown dataset {name!r}. Known: {', '.join(DATASETS)}.")


def _squash(text: str) -> str:
    return "".join(text.split())


def _containing(haystacks: Sequence[str], needles: Iterable[str]) -> Set[int]:
    """Indices of the haystacks that contain any needle."""
    joined = "\x00".join(haystacks)
    starts, offset = [], 0
    for text in haystacks:
        starts.append(offset)
        offset += len(text) + 1
    hits: Set[int] = set()
    for needle in needles:
        pos = joined.find(needle)
        while pos != -1:
            hits.add(bisect_right(starts, pos) - 1)
            pos = joined.find(needle, pos + 1)
    return hits


def drop_overlap(
    docs: Sequence[Doc], reference: Sequence[Doc], by_id: bool = False, contained: bool = False
) -> Tuple[List[Doc], int]:
    """`docs` without those that also occur in `reference` (another split): same text up to
    whitespace, or same id where ids are document ids (by_id). With `contained` (splits in
    different formats, e.g. abstracts versus sentences), also a doc containing a reference text
    of at least MIN_CONTAINED_CHARS characters, or contained in one."""
    texts = [_squash(doc.text) for doc in docs]
    ref_texts = [_squash(doc.text) for doc in reference]
    ref_set = set(ref_texts)
    drop = {i for i, text in enumerate(texts) if text in ref_set}
    if by_id:
        ref_ids = {doc.user_data.get(ID_KEY) for doc in reference}
        drop |= {i for i, doc in enumerate(docs) if doc.user_data.get(ID_KEY) in ref_ids}
    if contained:
        drop |= _containing(texts, {t for t in ref_set if len(t) >= MIN_CONTAINED_CHARS})
        joined = "\x00".join(ref_texts)  # squashed texts hold no \x00, so no match spans two
        drop |= {i for i, text in enumerate(texts) if len(text) >= MIN_CONTAINED_CHARS and text in joined}
    return [doc for i, doc in enumerate(docs) if i not in drop], len(drop)


def convert_dataset(
    name: str,
    data_dir: PathLike = "../shared/data",
    out_dir: PathLike = "corpus",
    label_map: Optional[PathLike] = None,
    splits: Optional[Sequence[str]] = None,
) -> Dict[str, Path]:
    """Write `out_dir/<name>/<split>.spacy` for each split of a known dataset; prints the reports.

    Test is read first; dev then loses the docs also in test, and train those also in test or
    dev (this is what removes the 500 dev abstracts from BC5CDR's training file and the 200 dev
    abstracts from JNLPBA's). A split left with no docs is not written. `splits` (default: all)
    converts only those: a split not converted is not read, so the checks against it are
    skipped (and said so).
    """
    sources = _sources(name)
    for split in splits or ():
        _check_split(split)
    wanted = set(SPLITS if splits is None else splits)
    data_dir = Path(data_dir)
    kept: Dict[str, Tuple[_Source, List[Doc]]] = {}
    written: Dict[str, Path] = {}
    for split in ("test", "dev", "train"):
        if split not in wanted:
            continue
        if split not in sources:
            if splits is not None:
                print(f"{name}/{split}: the dataset has no {split} split, not written")
            continue
        source = sources[split]
        docs, report = READERS[source.format](data_dir / source.path, name, split, label_map)
        others = [o for o in {"test": (), "dev": ("test",), "train": ("test", "dev")}[split] if o in sources]
        unchecked = [o for o in others if o not in wanted]
        if unchecked:
            print(f"{name}/{split}: not checked for overlap with {', '.join(unchecked)} (not converted)")
        for other in others:
            if other in kept:
                other_source, other_docs = kept[other]
                by_id = source.format in _ID_FORMATS and other_source.format in _ID_FORMATS
                docs, dropped = drop_overlap(docs, other_docs, by_id, contained=source.format != other_source.format)
                setattr(report, f"dropped_{other}_docs", dropped)
        report.tally(docs)
        kept[split] = (source, docs)
        print(report)
        if docs:
            written[split] = write_docbin(docs, Path(out_dir) / name / f"{split}.spacy")
        else:
            print(f"{name}/{split}: no docs left, not written")
    return {split: written[split] for split in SPLITS if split in written}


def convert_file(
    fmt: str, input_path: PathLike, dataset: str, split: str, out: PathLike, label_map: Optional[PathLike] = None
) -> ConversionReport:
    """Convert one user file (or brat folder) to a .spacy file."""
    if fmt not in READERS:
        raise GlinerError(f"[E048] Unknown format {fmt!r}: use one of {sorted(READERS)}.")
    docs, report = READERS[fmt](input_path, dataset, split, label_map)
    write_docbin(docs, out)
    return report


# ---------------------------------------------------------------------------------------------
# spaCy corpus readers


def _example(nlp: Language, reference: Doc) -> Example:
    """The predicted side has the reference's words and sentence starts, nothing else."""
    predicted = Doc(
        nlp.vocab,
        words=[t.text for t in reference],
        spaces=[bool(t.whitespace_) for t in reference],
        sent_starts=[t.is_sent_start for t in reference] if reference.has_annotation("SENT_START") else None,
    )
    return Example(predicted, reference)


class _Corpus:
    """Loads its docs once per vocab (spaCy calls a corpus every epoch)."""

    def __init__(self, load: Callable[[Vocab], List[Doc]], shuffle_seed: Optional[int] = None):
        self._load = load
        self._rng = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self._vocab: Optional[Vocab] = None
        self._docs: List[Doc] = []

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self._vocab is not nlp.vocab:
            self._docs, self._vocab = self._load(nlp.vocab), nlp.vocab
        docs = list(self._docs)
        if self._rng is not None:
            self._rng.shuffle(docs)
        for doc in docs:
            yield _example(nlp, doc)


def _file_corpus(fmt: str, path: Path, dataset: str, split: str, label_map: Optional[Path]) -> _Corpus:
    return _Corpus(lambda vocab: READERS[fmt](path, dataset, split, label_map, vocab=vocab)[0])


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


@registry.readers("spacy_gliner_biomed.MixedCorpus.v1")
def create_mixed_corpus(
    paths: Union[str, List[str]],
    limit_per_path: int = 0,
    shuffle: bool = True,
    seed: int = 0,
    allow_test: bool = False,
    split_sentences: bool = False,
) -> Callable[[Language], Iterator[Example]]:
    """Several .spacy files (or one) as one training corpus; refuses test-split docs unless allow_test.

    limit_per_path > 0 keeps that many docs of each file: a seeded random sample when
    shuffling, else the first ones. With shuffle, each epoch has a new (seeded) order.
    split_sentences makes each sentence of a doc (abstracts, say) its own example, after the
    limit: a batch of 8 abstracts would otherwise be one optimizer step over ~80 sentences,
    while a batch of 8 sentences from another corpus is one step over 8.
    """
    if limit_per_path < 0:
        raise GlinerError(f"[E048] limit_per_path must be >= 0, got {limit_per_path}.")
    sampler = random.Random(seed)
    paths = [paths] if isinstance(paths, str) else list(paths)

    def load(vocab: Vocab) -> List[Doc]:
        docs: List[Doc] = []
        for path in paths:
            some = read_docbin(path, vocab)
            if not allow_test and any(doc.user_data.get(SPLIT_KEY) == "test" for doc in some):
                raise GlinerError(
                    f"[E047] '{path}' holds test-split docs; training must never read a test split. "
                    "Use the train (or dev) file, or set allow_test = true if this is not training."
                )
            if limit_per_path and len(some) > limit_per_path:
                some = sampler.sample(some, limit_per_path) if shuffle else some[:limit_per_path]
            docs.extend(some)
        if split_sentences:
            docs = [sentence for doc in docs for sentence in sentence_docs(doc)]
        return docs

    return _Corpus(load, shuffle_seed=seed if shuffle else None)


def sentence_docs(doc: Doc) -> List[Doc]:
    """One doc per sentence, with its entities (kb ids included), span groups and user data.

    A doc without sentence boundaries, or with a span group member that crosses one, stays whole:
    no gold span is lost or cut.
    """
    if not doc.has_annotation("SENT_START"):
        return [doc]
    sentences = list(doc.sents)
    if len(sentences) == 1:
        return [doc]
    ends = {sent.start: sent.end for sent in sentences}
    starts = sorted(ends)
    spans = [span for group in doc.spans.values() for span in group] + list(doc.ents)
    for span in spans:
        first = starts[bisect_right(starts, span.start) - 1]
        if span.end > ends[first]:
            return [doc]
    out = []
    for sent in sentences:
        sub = sent.as_doc(copy_user_data=True)
        for key, group in doc.spans.items():
            sub.spans[key] = [
                Span(sub, s.start - sent.start, s.end - sent.start, s.label_, kb_id=s.kb_id_)
                for s in group
                if sent.start <= s.start and s.end <= sent.end
            ]
        out.append(sub)
    return out


# ---------------------------------------------------------------------------------------------
# Command line (wired into cli.py)


def add_convert_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "convert",
        help="gold corpora -> .spacy files",
        description=(
            "convert DATASET [DATASET ...] --data ../shared/data --out corpus writes OUT/DATASET/SPLIT.spacy; "
            "convert --format FORMAT --input PATH --dataset NAME --split SPLIT --out FILE.spacy converts one file."
        ),
    )
    p.add_argument("datasets", nargs="*", metavar="DATASET", help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--data", default="../shared/data", help="folder of the datasets (default: ../shared/data)")
    p.add_argument("--out", default=None, help="output folder (default: corpus), or the .spacy file with --format")
    p.add_argument(
        "--label-map", default=None, help=f"JSON {{dataset: {{type: label}}}} (default: {DEFAULT_LABEL_MAP})"
    )
    p.add_argument("--format", choices=sorted(READERS), default=None, help="convert one file in this format")
    p.add_argument("--input", default=None, help="with --format: the file (brat: the folder)")
    p.add_argument("--dataset", default=None, help="with --format: dataset name (label map entry, stored on docs)")
    p.add_argument("--split", choices=SPLITS, default=None, help="with --format: the split the file is")
    p.add_argument(
        "--splits", nargs="+", choices=SPLITS, default=None, metavar="SPLIT",
        help="with DATASET names: convert only these splits (default: all); overlap checks against "
        "a split not converted are skipped",
    )
    return p


def run_convert(args: argparse.Namespace) -> int:
    try:
        if args.format is not None:
            if args.datasets or args.splits or not (args.input and args.dataset and args.split and args.out):
                raise GlinerError(
                    "[E048] convert --format needs --input, --dataset, --split and --out FILE.spacy, "
                    "and no DATASET names or --splits."
                )
            print(convert_file(args.format, args.input, args.dataset, args.split, args.out, args.label_map))
        else:
            if not args.datasets:
                raise GlinerError(f"[E048] convert needs DATASET names ({', '.join(DATASETS)}) or --format.")
            for name in args.datasets:
                convert_dataset(name, args.data, args.out or "corpus", args.label_map, args.splits)
    except GlinerError as err:
        print(err, file=sys.stderr)
        return 1
    return 0
