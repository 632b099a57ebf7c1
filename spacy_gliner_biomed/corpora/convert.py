"""Conversion to `.spacy` files with leakage checks: no document of a split is also in a later one.

Test is read first; dev then loses the docs also in test, and train those also in test or dev
(this is what removes the 500 dev abstracts from BC5CDR's training file and the 200 dev abstracts
from JNLPBA's). Two docs are the same when their texts are equal up to whitespace, or, between
formats with document ids (PMIDs, file stems), when their ids are; between splits in different
formats (abstracts versus sentences), a doc that contains a long enough text of the other split,
or is contained in one, is the same text too.
"""
from bisect import bisect_right
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc

from ..keys import ID_KEY, SPLITS
from .datasets import Source, dataset_sources
from .docbin import write_docbin
from .docs import check_split
from .formats import ID_FORMATS, get_reader
from .label_map import PathLike
from .report import ConversionReport

# A text this long (without whitespace) found inside a document of another split is the same text.
MIN_CONTAINED_CHARS = 40


def squash(text: str) -> str:
    """The text without any whitespace: how leakage checks compare texts, so that a tokenized copy
    ("( 5 )") and the raw text ("(5)") are the same."""
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
    whitespace, or same id where ids are document ids (by_id). With `contained`, also a doc
    containing a reference text of at least MIN_CONTAINED_CHARS characters, or contained in one."""
    texts = [squash(doc.text) for doc in docs]
    ref_texts = [squash(doc.text) for doc in reference]
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

    A split left with no docs is not written. `splits` (default: all) converts only those: a split
    not converted is not read, so the checks against it are skipped (and said so).
    """
    sources = dataset_sources(name)
    for split in splits or ():
        check_split(split)
    wanted = set(SPLITS if splits is None else splits)
    data_dir = Path(data_dir)
    kept: Dict[str, Tuple[Source, List[Doc]]] = {}
    written: Dict[str, Path] = {}
    for split in ("test", "dev", "train"):
        if split not in wanted:
            continue
        if split not in sources:
            if splits is not None:
                print(f"{name}/{split}: the dataset has no {split} split, not written")
            continue
        source = sources[split]
        docs, report = get_reader(source.format)(data_dir / source.path, name, split, label_map)
        others = [o for o in {"test": (), "dev": ("test",), "train": ("test", "dev")}[split] if o in sources]
        unchecked = [o for o in others if o not in wanted]
        if unchecked:
            print(f"{name}/{split}: not checked for overlap with {', '.join(unchecked)} (not converted)")
        for other in others:
            if other in kept:
                other_source, other_docs = kept[other]
                by_id = source.format in ID_FORMATS and other_source.format in ID_FORMATS
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
    docs, report = get_reader(fmt)(input_path, dataset, split, label_map)
    write_docbin(docs, out)
    return report
