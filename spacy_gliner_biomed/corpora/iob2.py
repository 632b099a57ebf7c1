"""2-column IOB2 (and IOBES) files: one Doc per sentence."""
import re
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from .docs import blank, check_split, finish_doc, read_lines, sentence_doc
from .label_map import PathLike, TypeMap, get_type_map
from .report import ConversionReport

_TAG_RE = re.compile(r"^([BIES])-(.+)$")


def read_iob2(
    path: PathLike, dataset: str, split: str, label_map: Optional[PathLike] = None, *, vocab: Optional[Vocab] = None
) -> Tuple[List[Doc], ConversionReport]:
    """One Doc per sentence of a 2-column `token<TAB>tag` file (blank line between sentences).

    Tags are IOB2, or IOBES (FabNER uses it). `-DOCSTART-` lines end a sentence and are skipped.
    Columns are tab-separated when the first line has a tab (tokens may contain spaces), else
    whitespace-separated.
    """
    path = Path(path)
    check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else blank().vocab
    report = ConversionReport(str(path), dataset, split)
    lines = read_lines(path)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise GlinerError(Errors.E042.format(where=path, what="lines: the file is empty"))
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
            kind = "tab-separated" if sep else "whitespace-separated"
            raise GlinerError(
                Errors.E040.format(where=f"{path}:{n}", expected=f"2 {kind} columns (token, tag)", got=f"{len(cols)}: {line!r}")
            )
        if not cols[0]:
            raise GlinerError(Errors.E043.format(where=f"{path}:{n}"))
        sentence.append((cols[0], cols[1].strip(), n))
    flush()
    if not docs:
        raise GlinerError(Errors.E042.format(where=path, what="sentences"))
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
    doc = sentence_doc(vocab, [word for word, _, _ in rows])
    n = len(doc)
    spans: List[Span] = []
    start: Optional[int] = None
    current, label = "", ""
    for i, (_, tag, line_no) in enumerate(rows):
        prefix, kind = "O", ""
        if tag != "O":
            match = _TAG_RE.match(tag)
            if match is None:
                raise GlinerError(Errors.E044.format(where=f"{path}:{line_no}", tag=tag))
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
    return finish_doc(doc, spans, types.dataset, split, types.labels, doc_id)
