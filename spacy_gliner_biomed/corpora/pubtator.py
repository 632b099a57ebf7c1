"""PubTator files: one Doc per abstract, concept ids on each span's `kb_id_`."""
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from .docs import blank, check_split, read_lines
from .label_map import PathLike, get_type_map
from .offsets import Mention, check_offsets, text_doc
from .report import ConversionReport

_TEXT_RE = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")


def read_pubtator(
    path: PathLike, dataset: str, split: str, label_map: Optional[PathLike] = None, *, vocab: Optional[Vocab] = None
) -> Tuple[List[Doc], ConversionReport]:
    """One Doc per abstract; text = title + " " + abstract, against which the offsets count.

    Mention lines are `PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ids[<TAB>...]]`; columns after
    the ids (BC5CDR's names of a composite mention's parts) are not needed. Relation lines
    (`PMID<TAB>CID<TAB>...`) are skipped. A PMID repeated with identical content is dropped.
    """
    path = Path(path)
    check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else blank().vocab
    report = ConversionReport(str(path), dataset, split)
    records: List[Tuple[str, str, List[Tuple[int, List[str]]]]] = []
    pmid, title, abstract = "", None, None
    rows: List[Tuple[int, List[str]]] = []

    def flush() -> None:
        if title is not None:
            records.append((pmid, title if abstract is None else f"{title} {abstract}", list(rows)))

    for n, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        match = _TEXT_RE.match(line)
        if match and match.group(2) == "t":
            flush()
            pmid, title, abstract, rows = match.group(1), match.group(3), None, []
        elif match:
            if match.group(1) != pmid or abstract is not None or rows:
                raise GlinerError(Errors.E056.format(where=where, pmid=match.group(1)))
            abstract = match.group(3)
        else:
            cols = line.split("\t")
            if title is None or cols[0] != pmid:
                raise GlinerError(Errors.E057.format(where=where, pmid=pmid or "?", line=line[:80]))
            if len(cols) > 1 and not cols[1].isdigit():
                report.skipped_lines += 1  # a relation, e.g. PMID CID chemical disease
            elif len(cols) < 5:
                expected = "at least 5 tab-separated columns (PMID, start, end, text, type[, ids])"
                raise GlinerError(Errors.E040.format(where=where, expected=expected, got=len(cols)))
            else:
                rows.append((n, cols))
    flush()
    if not records:
        raise GlinerError(Errors.E042.format(where=path, what="PubTator documents"))
    docs: List[Doc] = []
    seen: Dict[str, Tuple[str, List[List[str]]]] = {}
    for pmid, text, rows in records:
        content = (text, [cols for _, cols in rows])
        if pmid in seen:
            if seen[pmid] != content:
                raise GlinerError(Errors.E058.format(where=path, pmid=pmid))
            report.duplicates += 1
            continue
        seen[pmid] = content
        mentions = []
        for n, cols in rows:
            where = f"{path}:{n}"
            start, end = check_offsets(text, cols[1], cols[2], cols[3], where, report)
            kb_id = cols[5] if len(cols) > 5 else ""
            mentions.append(Mention(start, end, types.label(cols[4], where), kb_id, where))
        docs.append(text_doc(vocab, text, mentions, types, split, pmid, report))
    report.tally(docs)
    return docs, report
