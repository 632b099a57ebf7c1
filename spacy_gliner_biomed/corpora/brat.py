"""brat standoff folders: one Doc per `NAME.txt` + `NAME.ann` pair."""
from pathlib import Path
from typing import List, Optional, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from .docs import blank, check_split, read_lines
from .label_map import PathLike, get_type_map
from .offsets import Mention, check_offsets, text_doc
from .report import ConversionReport


def read_brat(
    directory: PathLike,
    dataset: str,
    split: str,
    label_map: Optional[PathLike] = None,
    *,
    vocab: Optional[Vocab] = None,
) -> Tuple[List[Doc], ConversionReport]:
    """Only text-bound `T` lines are entities; relations, events, attributes and notes are skipped
    (counted). Discontinuous entities (`TYPE a b;c d`) cannot be one span and are an error."""
    directory = Path(directory)
    check_split(split)
    types = get_type_map(dataset, label_map)
    vocab = vocab if vocab is not None else blank().vocab
    report = ConversionReport(str(directory), dataset, split)
    if not directory.is_dir():
        raise GlinerError(Errors.E062.format(path=directory))
    texts = sorted(directory.glob("*.txt"))
    if not texts:
        raise GlinerError(Errors.E042.format(where=directory, what=".txt files (brat standoff expects NAME.txt + NAME.ann)"))
    docs = []
    for txt in texts:
        ann = txt.with_suffix(".ann")
        if not ann.is_file():
            raise GlinerError(Errors.E063.format(path=txt, name=ann.name))
        try:
            with open(txt, encoding="utf-8", newline="") as f:  # offsets count \r too
                text = f.read()
        except (OSError, UnicodeDecodeError) as err:
            raise GlinerError(Errors.E054.format(path=txt, err=err)) from None
        mentions = []
        for n, line in enumerate(read_lines(ann), 1):
            if not line.strip():
                continue
            if not line.startswith("T"):
                report.skipped_lines += 1
                continue
            where = f"{ann}:{n}"
            cols = line.split("\t")
            if len(cols) != 3:
                expected = "3 tab-separated columns (ID, TYPE START END, text)"
                raise GlinerError(Errors.E040.format(where=where, expected=expected, got=len(cols)))
            if ";" in cols[1]:
                raise GlinerError(Errors.E059.format(where=where, value=cols[1]))
            parts = cols[1].split(" ")
            if len(parts) != 3:
                raise GlinerError(Errors.E040.format(where=where, expected="`TYPE START END`", got=repr(cols[1])))
            start, end = check_offsets(text, parts[1], parts[2], cols[2], where, report)
            mentions.append(Mention(start, end, types.label(parts[0], where), "", where))
        docs.append(text_doc(vocab, text, mentions, types, split, txt.stem, report))
    report.tally(docs)
    return docs, report
