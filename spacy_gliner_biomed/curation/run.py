"""`curate`: every synthetic example scored by the weak model, the hybrid selection, the curated
set written as resumable shards with a report.

Examples are the sentences training reads (`sentence_docs`, as `MixedCorpus(split_sentences)`).
Scores are written per input shard (`<scores>/<shard>.json`), so an interrupted run rescores only
the shards it had not finished; selection is global (all scores are small and kept in memory,
the docs are read again shard by shard when the selected ones are written).
"""
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from warnings import warn

from ..corpora.docbin import read_docbin
from ..corpora.docs import sentence_docs
from ..errors import Errors, GlinerError, Warnings
from ..files import write_atomic
from ..keys import GOLD_KEY
from ..synthetic.shards import ShardedOutput, fingerprint
from .report import SelectionStats, method_value, write_report
from .scores import WeakScores, weak_scores
from .selection import check_selection, hybrid_select, rank_positives

SCORES_META = "meta.json"


def example_docs(shard: Path) -> List:
    return [sentence for doc in read_docbin(shard) for sentence in sentence_docs(doc)]


def example_spans(doc) -> List:
    """A synthetic example's spans (nested ones included); an example with none is a negative."""
    return list(doc.spans[GOLD_KEY]) if GOLD_KEY in doc.spans else list(doc.ents)


class ScoreCache:
    """Per-shard weak-model scores in a folder, tied to one weak model and scoring setup."""

    def __init__(self, folder: Path, settings: Dict[str, Any]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.key = fingerprint(settings)
        meta = self.folder / SCORES_META
        if meta.exists():
            try:
                old = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise GlinerError(Errors.E173.format(path=meta, err=err)) from None
            if old.get("fingerprint") != self.key:
                raise GlinerError(Errors.E172.format(folder=self.folder, old=old.get("settings"), new=settings))
        else:
            write_atomic(meta, json.dumps({"fingerprint": self.key, "settings": settings}, indent=2, default=str))

    def _path(self, shard: Path) -> Path:
        return self.folder / f"{shard.stem}.json"

    def get(self, shard: Path, n_examples: int) -> Optional[Dict[str, Any]]:
        path = self._path(shard)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if len(data["scores"]) != n_examples:
                raise ValueError(f"{len(data['scores'])} scores for {n_examples} examples")
        except (OSError, ValueError, KeyError) as err:
            raise GlinerError(Errors.E173.format(path=path, err=err)) from None
        return data

    def put(self, shard: Path, scores: Sequence[Optional[WeakScores]], seconds: float) -> None:
        data = {"scores": [s.to_list() if s is not None else None for s in scores], "seconds": seconds}
        write_atomic(self._path(shard), json.dumps(data))


def weak_model_settings(path: str) -> Dict[str, Any]:
    """What identifies the weak model in a fingerprint: its path and the files' sizes and times."""
    folder = Path(path)
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return {"path": str(folder.resolve()) if folder.exists() else path,
            "files": [[str(p.relative_to(folder)), p.stat().st_size, int(p.stat().st_mtime)] for p in files]}


def curate(
    shards: Sequence[Path],
    out: Path,
    *,
    method: str = "ifd",
    fraction: float = 0.5,
    seed: int = 0,
    weak_model: Optional[str] = None,
    scores_dir: Optional[Path] = None,
    max_types: int = 25,
    batch_size: int = 16,
    shard_size: int = 5000,
    progress: bool = True,
) -> Dict[str, Any]:
    """Select and write the curated set; returns the report (also in `out/report.json`)."""
    check_selection(method, fraction)
    shards = [Path(s) for s in shards]
    if not shards:
        raise GlinerError(Errors.E170.format(inputs="(no files)"))
    output = ShardedOutput(Path(out), {"inputs": [str(s) for s in shards], "method": method, "fraction": fraction,
                                       "seed": seed, "weak_model": weak_model, "max_types": max_types}, shard_size)
    if output.complete:
        return output.manifest["report"]
    component = None  # the random score needs no weak model (one given is not loaded)
    if method != "random":
        if weak_model is None:
            raise GlinerError(Errors.E175.format(method=method))
        from ..teachers.model import load_gliner_component

        component = load_gliner_component(weak_model)
    cache = None
    if component is not None:
        settings = {"weak_model": weak_model_settings(weak_model), "max_types": max_types,
                    "inputs": [[s.name, s.stat().st_size] for s in shards]}
        cache = ScoreCache(scores_dir or Path(out).parent / f"{Path(out).name}.scores", settings)
    positive: List[bool] = []
    scores: List[Optional[WeakScores]] = []
    types: Counter = Counter()
    scoring_seconds, rescored = 0.0, 0
    bar = _progress(progress, len(shards))
    for shard in shards:
        docs = example_docs(shard)
        spans = [example_spans(doc) for doc in docs]
        positive += [bool(s) for s in spans]
        for doc_spans in spans:
            types.update({s.label_ for s in doc_spans})
        if cache is not None:
            cached = cache.get(shard, len(docs))
            if cached is None:
                start = time.perf_counter()
                shard_scores = weak_scores(component, docs, max_types=max_types, batch_size=batch_size)
                seconds = time.perf_counter() - start
                cache.put(shard, shard_scores, seconds)
                rescored += 1
            else:
                shard_scores = [WeakScores.from_list(v) if v is not None else None for v in cached["scores"]]
                seconds = float(cached["seconds"])
            scores += shard_scores
            scoring_seconds += seconds
        bar.update(1)
    bar.close()
    n = len(positive)
    if n == 0:
        raise GlinerError(Errors.E170.format(inputs=[str(s) for s in shards]))
    if not any(positive):
        raise GlinerError(Errors.E171.format(n=n))
    if all(positive):
        warn(Warnings.W013)
    uncovered: Dict[str, int] = {}
    if component is not None and component.labels:
        known = set(component.labels)
        uncovered = {t: c for t, c in sorted(types.items()) if t not in known}
        if uncovered:
            warn(Warnings.W012.format(n=len(uncovered), types=", ".join(list(uncovered)[:10]), n_examples=sum(uncovered.values())))
    scored = scores if cache is not None else None
    kept = set(hybrid_select(positive, scored, method, fraction, seed))
    stats = SelectionStats(method, rank_positives(positive, scored, method, seed))
    values: Dict[str, List[float]] = {"kept": [], "dropped": []}
    pending: List = []
    to_skip = output.docs_done  # selected examples already in finished output shards (a resumed run)
    index = 0
    for shard in shards:
        for doc in example_docs(shard):
            spans = example_spans(doc)
            is_kept = index in kept
            doc_scores = scored[index] if scored is not None else None
            stats.add(index, doc, spans, is_kept, doc_scores)
            value = method_value(doc_scores, method)
            if spans and value is not None:
                values["kept" if is_kept else "dropped"].append(value)
            if is_kept:
                if to_skip > 0:
                    to_skip -= 1
                else:
                    pending.append(doc)
                    if len(pending) == shard_size:
                        output.write(pending, len(pending))
                        pending = []
            index += 1
    if pending:
        output.write(pending, len(pending))
    report = stats.report(method, fraction, seed, {method: values["kept"] + values["dropped"]})
    report.update(
        weak_model=weak_model, scoring_seconds=round(scoring_seconds, 1), shards_rescored=rescored, uncovered_types=uncovered,
        examples_per_second=round(sum(positive) / scoring_seconds, 1) if scoring_seconds else None,
        files=[s["file"] for s in output.shards],
    )
    write_report(report, Path(out), values)
    output.finish(report)
    return report


def _progress(enabled: bool, total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="shard", desc="curate", disable=not enabled)
