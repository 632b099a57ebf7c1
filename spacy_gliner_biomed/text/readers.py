"""Readers of raw biomedical text: each yields `RawText`, one per document, in file order.

Readers stream (one line or one article at a time) wherever the format allows, because a PubMed
baseline holds millions of abstracts. Any file may be gzipped: gzip is recognised by its magic
bytes, not its name. Readers yield every document they find, empty ones included (e.g. a PubMed
article with neither title nor abstract): skipping and counting happen in one place,
`dedup.deduplicate`, so that its report adds up. Malformed input is a GlinerError naming the file
(and line where known), never a traceback and never a silently shortened stream.

`iter_texts` resolves specs ("FORMAT:PATH_OR_GLOB", a bare path or glob, "corpus:DATASET") to
these readers.
"""
import glob
import gzip
import json
import re
import xml.etree.ElementTree as ET
import zlib
from contextlib import closing
from fnmatch import fnmatch
from itertools import chain
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ..corpora.convert import drop_overlap
from ..corpora.datasets import dataset_sources
from ..corpora.docs import check_split
from ..corpora.formats import ID_FORMATS, get_reader
from ..corpora.label_map import PathLike
from ..corpora.pubtator import _TEXT_RE as _PUBTATOR_TEXT_RE  # one grammar of `PMID|t|` lines
from ..errors import Errors, GlinerError
from ..keys import ID_KEY
from .documents import RawText, is_pmid, pmid_id

DEFAULT_DATA_DIR = "../shared/data"
_GZIP_MAGIC = b"\x1f\x8b"
# What a truncated or damaged (gzip) stream raises while being read.
_READ_ERRORS = (EOFError, OSError, zlib.error)
_DOCSTART_RE = re.compile(r"^-DOCSTART- \((\d+)\)\s*$")
_PUBTATOR_FIRST_RE = re.compile(r"^\d+\|t\|")
_FORMAT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]+$")
# The splits whose documents a split's text must not contain (as `corpora.convert` drops them).
_LATER_SPLITS = {"train": ("test", "dev"), "dev": ("test",)}


def _stem(path: Path) -> str:
    """The file name without its format suffix (and .gz): the prefix of ids without a PMID."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return Path(name).stem


def _open_binary(path: Path) -> IO[bytes]:
    try:
        stream = open(path, "rb")
    except OSError as err:
        raise GlinerError(Errors.E054.format(path=path, err=err)) from None
    if stream.read(2) == _GZIP_MAGIC:
        stream.seek(0)
        return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
    stream.seek(0)
    return stream


def _lines(path: Path) -> Iterator[Tuple[int, str]]:
    """(line number, line) split on \\n only, each decoded on its own so that an error names its line."""
    with _open_binary(path) as stream:
        n = 0
        try:
            for n, raw in enumerate(stream, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise GlinerError(Errors.E106.format(where=f"{path}:{n}", err=err)) from None
                yield n, (line[1:] if n == 1 and line.startswith("\ufeff") else line).rstrip("\r\n")
        except _READ_ERRORS as err:
            raise GlinerError(Errors.E104.format(where=f"{path}:{n + 1}", err=err)) from None


def _read_all(path: Path) -> str:
    with _open_binary(path) as stream:
        try:
            data = stream.read()
        except _READ_ERRORS as err:
            raise GlinerError(Errors.E104.format(where=path, err=err)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise GlinerError(Errors.E106.format(where=path, err=err)) from None


def _inner_text(element: Optional[ET.Element]) -> str:
    """The element's text with its inline markup (<i>, <sup>, ...) kept as text, whitespace collapsed."""
    return "" if element is None else " ".join("".join(element.itertext()).split())


def read_pubmed_xml(path: PathLike) -> Iterator[RawText]:
    """PubMed / MEDLINE XML (a baseline or update file, .xml or .xml.gz): per `PubmedArticle`, its
    `ArticleTitle` and every `AbstractText`, joined with spaces; section labels ("METHODS") are not
    part of the text. `OtherAbstract` (often another language) is left out. Each article is cleared
    once read, so memory stays flat over a whole baseline file.
    """
    path = Path(path)
    with _open_binary(path) as stream:
        try:
            events = ET.iterparse(stream, events=("start", "end"))
            _, root = next(events)
            if root.tag != "PubmedArticleSet":
                raise GlinerError(Errors.E107.format(path=path, tag=root.tag))
            ordinal = 0
            for event, element in events:
                if event == "end" and element.tag == "PubmedArticle":
                    ordinal += 1
                    yield _pubmed_article(element, f"{path} (article {ordinal})", str(path))
                    root.clear()
        except ET.ParseError as err:
            raise GlinerError(Errors.E105.format(where=f"{path}:{err.position[0]}", err=err)) from None
        except _READ_ERRORS as err:
            raise GlinerError(Errors.E104.format(where=path, err=err)) from None


def _pubmed_article(article: ET.Element, where: str, source: str) -> RawText:
    pmid = (article.findtext("MedlineCitation/PMID") or "").strip()
    if not is_pmid(pmid):
        raise GlinerError(Errors.E109.format(where=where, what="MedlineCitation/PMID", value=pmid))
    parts = [article.find("MedlineCitation/Article/ArticleTitle")]
    parts += article.findall("MedlineCitation/Article/Abstract/AbstractText")
    text = " ".join(t for t in map(_inner_text, parts) if t)
    return RawText(pmid_id(pmid), text, source)


def read_pubtator_text(path: PathLike) -> Iterator[RawText]:
    """PubTator `PMID|t|title` / `PMID|a|abstract` lines; text = title + " " + abstract, as the gold
    PubTator reader makes it. Mention and relation lines are ignored: this is text, not gold."""
    path = Path(path)
    current: Optional[Tuple[str, List[str], int]] = None  # PMID, [title, abstract?], line
    for n, line in _lines(path):
        match = _PUBTATOR_TEXT_RE.match(line)
        if match is None:
            continue
        doc, kind, text = match.groups()
        if kind == "t":
            if current is not None:
                yield _pubtator_doc(path, *current)
            current = (doc, [text], n)
        elif current is None or current[0] != doc or len(current[1]) != 1:
            raise GlinerError(Errors.E112.format(where=f"{path}:{n}", pmid=doc))
        else:
            current[1].append(text)
    if current is None:
        raise GlinerError(Errors.E113.format(path=path, what="`PMID|t|title` lines", format="PubTator"))
    yield _pubtator_doc(path, *current)


def _pubtator_doc(path: Path, doc: str, parts: List[str], line: int) -> RawText:
    doc_id = pmid_id(doc) if is_pmid(doc) else f"{_stem(path)}:{doc}"
    return RawText(doc_id, " ".join(p for p in parts if p), f"{path}:{line}")


def read_plain_text(path: PathLike) -> Iterator[RawText]:
    """One document per non-blank line of a UTF-8 file; blank lines separate, they are not documents."""
    path = Path(path)
    ordinal = 0
    for n, line in _lines(path):
        if line.strip():
            yield RawText(f"{_stem(path)}:{ordinal}", line, f"{path}:{n}")
            ordinal += 1


def read_json_objects(path: PathLike) -> Iterator[Tuple[int, dict]]:
    """(line number, object) per non-blank line of a JSON-lines file (gzip allowed); a line that is not
    JSON, or not an object, is an error naming the file and line."""
    path = Path(path)
    for n, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise GlinerError(Errors.E060.format(where=where, err=err)) from None
        if not isinstance(record, dict):
            raise GlinerError(Errors.E061.format(where=where, field="a line", expected="a JSON object", value=record))
        yield n, record


def read_jsonl(path: PathLike, text_field: str = "text", id_field: str = "id") -> Iterator[RawText]:
    """One JSON object per line, its text in `text_field`. The id is a `pmid` field (a PubMed id),
    else `id_field` as given, else `<file stem>:<ordinal>`. A missing, non-string or "" text is an
    error (a wrong `text_field` should not pass as an empty corpus); a whitespace-only text is an
    empty document. Blank lines are skipped."""
    path = Path(path)
    ordinal = 0
    for n, record in read_json_objects(path):
        where = f"{path}:{n}"
        text = record.get(text_field)
        if not isinstance(text, str) or not text:
            field = f"field {text_field!r}"
            raise GlinerError(Errors.E061.format(where=where, field=field, expected="a non-empty string", value=text))
        yield RawText(_record_id(record, id_field, where) or f"{_stem(path)}:{ordinal}", text, where)
        ordinal += 1


def _record_id(record: dict, id_field: str, where: str) -> Optional[str]:
    pmid = record.get("pmid")
    if pmid is not None:
        if not is_pmid(str(pmid)):
            raise GlinerError(Errors.E109.format(where=where, what="field 'pmid'", value=pmid))
        return pmid_id(str(pmid))
    value = record.get(id_field)
    return None if value is None or value == "" else str(value)


def read_pubmedqa(path: PathLike) -> Iterator[RawText]:
    """PubMedQA (`ori_pqal.json`): {PMID: {"CONTEXTS": [section, ...], ...}}; text = the context
    sections joined with spaces. The conclusion (`LONG_ANSWER`) is left out: it is the answer of the
    QA task, not given as part of the abstract. One JSON object: read whole (a few MB)."""
    path = Path(path)
    try:
        data = json.loads(_read_all(path))
    except json.JSONDecodeError as err:
        raise GlinerError(Errors.E060.format(where=path, err=err)) from None
    if not isinstance(data, dict):
        expected = "an object keyed by PMID"
        raise GlinerError(Errors.E061.format(where=path, field="the file", expected=expected, value=type(data).__name__))
    for pmid, record in data.items():
        where = f"{path} (PMID {pmid})"
        if not is_pmid(pmid):
            raise GlinerError(Errors.E109.format(where=where, what="key", value=pmid))
        contexts = record.get("CONTEXTS") if isinstance(record, dict) else None
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            expected = "a list of strings"
            raise GlinerError(Errors.E061.format(where=where, field="CONTEXTS", expected=expected, value=contexts))
        yield RawText(pmid_id(pmid), " ".join(contexts), str(path))


def read_ebmnlp(path: PathLike) -> Iterator[RawText]:
    """EBM-NLP as tokenized by SciBERT: `-DOCSTART- (PMID)`, then one `token POS ...` line per token,
    blank lines between sentences. The text is the tokens joined by single spaces ("( n = 45 )"):
    the original spacing is not in the file. Leakage checks ignore whitespace, so this is no gap."""
    path = Path(path)
    current: Optional[Tuple[str, List[str], int]] = None  # PMID, tokens, line
    for n, line in _lines(path):
        if not line.strip():
            continue
        if line.startswith("-DOCSTART-"):
            match = _DOCSTART_RE.match(line)
            if match is None:
                raise GlinerError(Errors.E111.format(where=f"{path}:{n}", line=line[:80]))
            if current is not None:
                yield _ebmnlp_doc(path, *current)
            current = (match.group(1), [], n)
        elif current is None:
            raise GlinerError(Errors.E111.format(where=f"{path}:{n}", line=line[:80]))
        else:
            current[1].append(line.split()[0])
    if current is None:
        raise GlinerError(Errors.E113.format(path=path, what="`-DOCSTART- (PMID)` lines", format="EBM-NLP"))
    yield _ebmnlp_doc(path, *current)


def _ebmnlp_doc(path: Path, pmid: str, tokens: List[str], line: int) -> RawText:
    return RawText(pmid_id(pmid), " ".join(tokens), f"{path}:{line}")


def read_corpus_text(
    dataset: str, data_dir: PathLike = DEFAULT_DATA_DIR, split: str = "train", label_map: Optional[PathLike] = None
) -> Iterator[RawText]:
    """The text of a known gold dataset's split, without its labels, read by the dataset's own reader.

    As in `corpora.convert`, train loses every document also in dev or test, and dev every one also
    in test (BC5CDR's training file holds its 500 dev abstracts: they are left out). The test split
    is refused: synthetic data is never made from test text. Ids: `PMID:<n>` for PubTator
    abstracts, else `<dataset>/<split>:<doc id>` (IOB sentence ordinal, brat file stem), so that the
    sentences of two MTL datasets, all read from a `train.tsv`, do not share ids.
    The split is checked now; the files are read when the first document is asked for.
    """
    check_split(split)
    if split == "test":
        raise GlinerError(Errors.E108.format(dataset=dataset))
    sources = dataset_sources(dataset)
    if split not in sources:
        raise GlinerError(Errors.E110.format(dataset=dataset, split=split, splits=sorted(sources)))
    return _corpus_texts(dataset, Path(data_dir), split, label_map)


def _corpus_texts(dataset: str, data_dir: Path, split: str, label_map: Optional[PathLike]) -> Iterator[RawText]:
    sources = dataset_sources(dataset)
    source = sources[split]
    path = data_dir / source.path
    docs, _ = get_reader(source.format)(path, dataset, split, label_map)
    for other in _LATER_SPLITS[split]:
        if other in sources:
            ref = sources[other]
            reference, _ = get_reader(ref.format)(data_dir / ref.path, dataset, other, label_map)
            by_id = source.format in ID_FORMATS and ref.format in ID_FORMATS
            docs, _ = drop_overlap(docs, reference, by_id, contained=source.format != ref.format)
    for doc in docs:
        doc_id = str(doc.user_data[ID_KEY])
        if source.format == "pubtator" and is_pmid(doc_id):
            yield RawText(pmid_id(doc_id), doc.text, str(path))
        else:
            yield RawText(f"{dataset}/{split}:{doc_id}", doc.text, str(path))


TextReader = Callable[[Path], Iterator[RawText]]
TEXT_FORMATS: Dict[str, TextReader] = {
    "pubmed-xml": read_pubmed_xml,
    "pubtator": read_pubtator_text,
    "text": read_plain_text,
    "jsonl": read_jsonl,
    "pubmedqa": read_pubmedqa,
    "ebmnlp": read_ebmnlp,
}
CORPUS_PREFIX = "corpus"


def iter_texts(specs: Union[str, Iterable[str]], data_dir: PathLike = DEFAULT_DATA_DIR) -> Iterator[RawText]:
    """The documents of every spec, in order. A spec is "FORMAT:PATH_OR_GLOB" (FORMAT a key of
    TEXT_FORMATS), "corpus:DATASET" (its training split, `read_corpus_text`, under `data_dir`), or a
    bare path or glob whose format is inferred per file (`infer_format`).

    Every spec is resolved (globs expanded, files checked, formats inferred) before the first
    document is read, so that a typo in the last spec fails at once, not hours into a run.
    """
    if isinstance(specs, str):
        specs = [specs]
    streams = [stream for spec in specs for stream in _resolve(spec, Path(data_dir))]
    return chain.from_iterable(streams)


def _resolve(spec: str, data_dir: Path) -> List[Iterator[RawText]]:
    prefix, sep, rest = spec.partition(":")
    if sep and prefix == CORPUS_PREFIX:
        return [read_corpus_text(rest, data_dir)]
    if sep and prefix in TEXT_FORMATS:
        return [TEXT_FORMATS[prefix](path) for path in _expand(spec, rest)]
    if sep and _FORMAT_NAME_RE.match(prefix) and not Path(spec).exists():
        formats = ", ".join([*TEXT_FORMATS, f"{CORPUS_PREFIX}:DATASET"])
        raise GlinerError(Errors.E102.format(spec=spec, format=prefix, formats=formats))
    return [TEXT_FORMATS[infer_format(path, spec)](path) for path in _expand(spec, spec)]


def _expand(spec: str, pattern: str) -> List[Path]:
    if any(char in pattern for char in "*?["):
        paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if not paths:
            raise GlinerError(Errors.E101.format(spec=spec))
        return paths
    if not Path(pattern).is_file():
        raise GlinerError(Errors.E100.format(spec=spec, path=pattern))
    return [Path(pattern)]


def infer_format(path: Path, spec: Optional[str] = None) -> str:
    """The format of a file from its name (.gz aside): .xml -> pubmed-xml, .jsonl -> jsonl,
    pubmedqa*.json -> pubmedqa; else from its first non-blank line: `123|t|` -> pubtator,
    `-DOCSTART-` -> ebmnlp (EBM-NLP files are .txt too); else .txt -> text."""
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    if name.endswith(".xml"):
        return "pubmed-xml"
    if name.endswith(".jsonl"):
        return "jsonl"
    if fnmatch(name, "pubmedqa*.json"):
        return "pubmedqa"
    with closing(_lines(path)) as lines:
        first = next((line for _, line in lines if line.strip()), "")
    if _PUBTATOR_FIRST_RE.match(first):
        return "pubtator"
    if first.startswith("-DOCSTART-"):
        return "ebmnlp"
    if name.endswith(".txt"):
        return "text"
    raise GlinerError(Errors.E103.format(path=path, spec=spec or path, formats=", ".join(TEXT_FORMATS)))
