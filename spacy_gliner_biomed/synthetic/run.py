"""A synthetic-annotation run: raw texts -> de-duplicated, leakage-checked, sentence-split docs ->
a teacher -> resumable `.spacy` shards (`shards.py`) that `spacy train` reads like gold data.

Order of the checks, each counted in the report: empty and duplicate documents (by PMID and by
normalised text) are dropped, then every document that contains a held-out sentence (a dev or
test sentence of a corpus the project evaluates on) or has a held-out PMID; then the documents
are staged shard by shard (`shards.py`), then tokenized and split into sentences (spaCy's
rule-based sentencizer) and annotated shard by shard, here or on Ray workers. A doc the teacher
marks as failed (`teachers.base.FAILED_KEY`) is dropped and counted, never written as an
all-negative example.
"""
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

from spacy.tokens import Doc

from ..corpora.docbin import write_docbin
from ..corpora.docs import blank, sentencizer
from ..engines import RayWorkers, map_shards_on_ray, prepare_worker, result_rows
from ..errors import Errors, GlinerError
from ..keys import GOLD_KEY, ID_KEY
from ..teachers.base import FAILED_KEY, Teacher
from ..text import HeldOutText, RawText, TextReport, deduplicate
from .shards import ShardedOutput, read_staged


@dataclass
class SynthesisReport:
    texts: Dict[str, int] = field(default_factory=dict)
    annotated: int = 0
    failed: int = 0
    written: int = 0
    sentences: int = 0
    spans: int = 0
    spans_per_label: Dict[str, int] = field(default_factory=dict)
    docs_per_label: Dict[str, int] = field(default_factory=dict)
    resumed_from: int = 0

    def __str__(self) -> str:
        top = ", ".join(f"{label} {n}" for label, n in sorted(self.spans_per_label.items(), key=lambda kv: -kv[1])[:12])
        return (
            f"texts: {self.texts}; annotated {self.annotated} docs ({self.failed} failed, dropped), wrote {self.written} "
            f"docs ({self.sentences} sentences, {self.spans} spans; resumed after {self.resumed_from}); top labels: {top}"
        )


def _checked(texts: Iterable[RawText], held_out: Optional[HeldOutText], report: TextReport, max_docs: int) -> Iterator[RawText]:
    n = 0
    for text in deduplicate(texts, report, held_out):
        if max_docs and n >= max_docs:
            return
        n += 1
        yield text


def _docs(texts: Iterable[RawText]) -> Iterator[Doc]:
    nlp, split = blank(), sentencizer()
    pairs = ((t.text, t) for t in texts)
    for doc, raw in nlp.pipe(pairs, as_tuples=True, batch_size=256):
        doc = split(doc)
        doc.user_data[ID_KEY] = raw.doc_id
        yield doc


def _batches(items: Iterator, size: int) -> Iterator[List]:
    batch: List = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def annotate_staged(teacher: Teacher, item: Dict[str, str], folder: Path) -> Dict[str, Any]:
    """Annotate one staged shard (`item["input"]`, its texts) into `folder / item["output"]`; the
    shard's manifest entry. Docs the teacher fails are dropped and counted."""
    texts = read_staged(item["input"])
    annotated = list(teacher(_docs(texts)))
    if len(annotated) != len(texts):
        raise GlinerError(Errors.E199.format(teacher=teacher.name, given=len(texts), returned=len(annotated)))
    kept = [doc for doc in annotated if not doc.user_data.get(FAILED_KEY)]
    write_docbin(kept, folder / item["output"])
    return {"input": item["input"], "file": item["output"], "docs": len(kept), "inputs": len(texts),
            "counts": {"failed": len(texts) - len(kept)}}


class TeacherShardAnnotator:
    """A Ray Data actor: builds the teacher once, then annotates the staged shards it is given."""

    def __init__(self, teacher: Callable[[], Teacher], folder: str, threads: int, use_gpu: bool = False):
        prepare_worker(threads, use_gpu)
        self.teacher, self.folder = teacher(), Path(folder)

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[str]]:
        results = []
        for i, o in zip(batch["input"], batch["output"]):
            try:
                results.append(annotate_staged(self.teacher, {"input": str(i), "output": str(o)}, self.folder))
            except GlinerError as err:  # e.g. an LLM endpoint gone: reported, the other shards go on
                results.append({"input": str(i), "output": str(o), "error": str(err)})
        return result_rows(results)


def synthesize(
    texts: Iterable[RawText],
    teacher: Union[Teacher, Callable[[], Teacher]],
    out: Path,
    *,
    held_out: Optional[HeldOutText],
    settings: Dict[str, Any],
    shard_size: int = 500,
    max_docs: int = 0,
    progress: bool = True,
    ray: Optional[RayWorkers] = None,
) -> SynthesisReport:
    """Annotate `texts` with `teacher` into shards under `out`; `settings` (inputs, teacher config,
    limits) fingerprint the folder, so a restart with other settings is refused, not mixed.

    `teacher` is a teacher, or a function that builds one (called only if there is work left; on
    Ray, once per actor, so it must pickle: see `teacher_from_config`). Locally each shard is staged
    and annotated in turn; with `ray`, every shard is staged first, then Ray workers annotate them.
    Both write the same shards."""
    if shard_size < 1 or max_docs < 0:
        raise GlinerError(Errors.E161.format(shard_size=shard_size, max_docs=max_docs))
    output = ShardedOutput(out, {**settings, "max_docs": max_docs}, shard_size)
    report = SynthesisReport(resumed_from=output.docs_done)
    if output.complete:
        report.texts = output.manifest.get("report", {}).get("texts", {})
        return _tally(report, output)
    folder = output.folder.resolve()
    failures: Dict[str, str] = {}

    def record(result: Dict[str, Any]) -> None:
        if result.get("error"):
            failures[result["input"]] = result["error"]
            return
        result = {k: v for k, v in result.items() if k != "input"}
        output.record(result)
        report.annotated += result["inputs"]
        report.failed += result["counts"]["failed"]

    local: Optional[Teacher] = None
    if ray is None:
        local = teacher if isinstance(teacher, Teacher) else teacher()
        for item in output.pending():  # staged by a run killed before it annotated them
            record(annotate_staged(local, item, folder))
    text_report = TextReport()
    stream = _checked(texts, held_out, text_report, max_docs)
    skip = output.docs_staged
    for _ in range(skip):  # documents of staged shards: read (the order depends on them), not staged again
        if next(stream, None) is None:
            break
    bar = _progress(progress, max_docs or None, skip, "teacher" if ray is None else "staging")
    for batch in _batches(stream, shard_size):
        item = output.stage(batch)
        if local is not None:
            record(annotate_staged(local, item, folder))
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    if ray is not None:
        factory = (lambda: teacher) if isinstance(teacher, Teacher) else teacher
        map_shards_on_ray(TeacherShardAnnotator, {"teacher": factory, "folder": str(folder)}, output.pending(),
                          record, ray, progress)
    if failures:
        raise GlinerError(Errors.E200.format(n=len(failures), folder=out, failures="\n".join(
            f"  {path}: {error}" for path, error in sorted(failures.items()))))
    report.texts = asdict(text_report)
    output.finish({"texts": report.texts})
    return _tally(report, output)


def _tally(report: SynthesisReport, output: ShardedOutput) -> SynthesisReport:
    from ..corpora.docbin import read_docbin

    spans: Counter = Counter()
    docs_per: Counter = Counter()
    for path in output.files():
        for doc in read_docbin(path):
            report.written += 1
            report.sentences += sum(1 for _ in doc.sents) if doc.has_annotation("SENT_START") else 1
            labels = [s.label_ for s in doc.spans.get(GOLD_KEY, [])]
            spans.update(labels)
            docs_per.update(set(labels))
    report.spans = sum(spans.values())
    report.spans_per_label = dict(spans)
    report.docs_per_label = dict(docs_per)
    return report


def _progress(enabled: bool, total: Optional[int], initial: int, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="doc", desc=desc, dynamic_ncols=True)
