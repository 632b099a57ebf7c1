"""Evaluation of a pipeline on annotated test sets: strict and relaxed P/R/F1, per label and overall.

`python -m spacy_gliner_biomed evaluate PIPELINE DATASET...` scores the `gliner_biomed`
component on `.spacy` files (DocBins written with `store_user_data=True`) whose docs carry their
gold entities in `doc.spans["gold"]` (all of them, nested ones included; `doc.ents` if there is
no such group) and, in `doc.user_data`, `gliner_biomed.dataset` (name), `gliner_biomed.split`
and `gliner_biomed.labels` (every label the dataset annotates: the labels the model is given).

Two matchings, both on character offsets:

* **strict**: a prediction is correct if a gold span has the same start, end and label.
* **relaxed**, as GLiNER-biomed's evaluator (`evaluation/gliner_evaluator.py`, `span_based`):
  predictions, in order of (start, end), each take the first gold span (in the same order) that
  has the same label, overlaps it by at least one character and is not taken yet; the others are
  false positives, and gold spans left untaken are false negatives.

Conventions: P = TP / (TP + FP), 0 without predictions; R = TP / (TP + FN), 0 without gold spans;
F1 = 2PR / (P + R), 0 when P + R = 0. Micro scores pool the counts of all labels; macro scores are
the mean of the per-label P, R and F1 over the labels that occur in the gold or the predictions
(a label with neither has nothing to score, and GLiNER-biomed's evaluator leaves it out too).
The JSON report holds fractions in [0, 1]; the Markdown shows percentages with 2 decimals.
"""
import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .corpora import DATASET_KEY, GOLD_KEY, LABELS_KEY, SPLIT_KEY
from .errors import GlinerError
from .files import write_atomic
from .labels import LabelSet, LabelsArg, validate_thresholds

Triple = Tuple[int, int, str]
MODES = ("strict", "relaxed")
DatasetsArg = Union[Mapping[str, Union[str, Path, Sequence[Doc]]], Sequence[Union[str, Path]]]


# -- metric core ------------------------------------------------------------------------------
@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> Dict[str, float]:
        return {"p": self.precision, "r": self.recall, "f": self.f1, "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class EvalResult:
    """Counts per label and matching mode (`per_label[label]["strict" | "relaxed"]`)."""

    per_label: Dict[str, Dict[str, Counts]] = field(default_factory=dict)

    def support(self, label: str) -> int:
        """Gold spans of `label` (each is either matched or a false negative, in both modes)."""
        counts = self.per_label[label]["strict"]
        return counts.tp + counts.fn

    def micro(self, mode: str) -> Counts:
        return sum((c[mode] for c in self.per_label.values()), Counts())

    def macro(self, mode: str) -> Dict[str, float]:
        scored = [c[mode] for c in self.per_label.values() if c["strict"].tp + c["strict"].fp + c["strict"].fn]
        if not scored:
            return {"p": 0.0, "r": 0.0, "f": 0.0}
        n = len(scored)
        return {
            "p": sum(c.precision for c in scored) / n,
            "r": sum(c.recall for c in scored) / n,
            "f": sum(c.f1 for c in scored) / n,
        }

    def to_dict(self) -> Dict[str, Any]:
        return {
            "labels": {
                label: {**{mode: c[mode].to_dict() for mode in MODES}, "support": self.support(label)}
                for label, c in self.per_label.items()
            },
            "micro": {mode: self.micro(mode).to_dict() for mode in MODES},
            "macro": {mode: self.macro(mode) for mode in MODES},
        }


def score_spans(
    gold: Sequence[Iterable[Triple]], pred: Sequence[Iterable[Triple]], labels: Iterable[str] = ()
) -> EvalResult:
    """Strict and relaxed counts over documents, each a list of (start_char, end_char, label).

    Every label in `labels` is reported (with zero counts if it never occurs), and so is any
    other label found in the gold or the predictions. Identical spans count with multiplicity.
    """
    if len(gold) != len(pred):
        raise GlinerError(f"[E059] Got gold spans for {len(gold)} documents but predictions for {len(pred)}.")
    result = EvalResult()

    def counts(label: str) -> Dict[str, Counts]:
        return result.per_label.setdefault(label, {mode: Counts() for mode in MODES})

    for label in labels:
        counts(label)
    for doc_gold, doc_pred in zip(gold, pred):
        doc_gold, doc_pred = sorted(doc_gold), sorted(doc_pred)
        gold_count, pred_count = Counter(doc_gold), Counter(doc_pred)
        for span in gold_count.keys() | pred_count.keys():
            strict = counts(span[2])["strict"]
            matched = min(gold_count[span], pred_count[span])
            strict.tp += matched
            strict.fp += pred_count[span] - matched
            strict.fn += gold_count[span] - matched
        taken = [False] * len(doc_gold)
        for start, end, label in doc_pred:
            relaxed = counts(label)["relaxed"]
            for i, (g_start, g_end, g_label) in enumerate(doc_gold):
                if not taken[i] and g_label == label and start < g_end and g_start < end:
                    taken[i] = True
                    relaxed.tp += 1
                    break
            else:
                relaxed.fp += 1
        for (_, _, g_label), was_taken in zip(doc_gold, taken):
            if not was_taken:
                counts(g_label)["relaxed"].fn += 1
    return result


# -- datasets ---------------------------------------------------------------------------------
@dataclass
class Dataset:
    name: str
    docs: List[Doc]
    source: Optional[str] = None

    @property
    def where(self) -> str:
        """How error messages name the dataset, with its file if it has one."""
        return f"dataset {self.name!r}" + (f" ('{self.source}')" if self.source else "")


def load_dataset(path: Union[str, Path], vocab: Vocab, name: Optional[str] = None) -> Dataset:
    """Read a `.spacy` file; its name is `name`, else the docs' `gliner_biomed.dataset`, else the file stem."""
    path = Path(path)
    if not path.is_file():
        raise GlinerError(f"[E050] Dataset file '{path}' does not exist.")
    try:
        docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))
    except Exception as err:  # a corrupt file surfaces as msgpack, zlib or KeyError errors
        raise GlinerError(f"[E050] Could not read '{path}' as a spaCy DocBin: {err}") from err
    if not docs:
        raise GlinerError(f"[E051] Dataset file '{path}' holds no documents.")
    return Dataset(name or docs[0].user_data.get(DATASET_KEY) or path.stem, docs, str(path))


def _as_datasets(datasets: DatasetsArg, vocab: Vocab) -> List[Dataset]:
    if isinstance(datasets, Mapping):
        out = [
            load_dataset(value, vocab, name) if isinstance(value, (str, Path)) else Dataset(name, list(value))
            for name, value in datasets.items()
        ]
    else:
        out = [load_dataset(path, vocab) for path in datasets]
    if not out:
        raise GlinerError("[E059] No datasets to evaluate.")
    seen: Dict[str, str] = {}
    for ds in out:
        if not ds.docs:
            raise GlinerError(f"[E051] The {ds.where} holds no documents.")
        if ds.name in seen:
            raise GlinerError(f"[E057] Two datasets are named {ds.name!r}: {seen[ds.name]} and {ds.where}.")
        seen[ds.name] = ds.where
    return out


def _dataset_labels(ds: Dataset) -> LabelSet:
    """The labels the dataset annotates, which must be stated, and the same, on every doc."""
    values = [doc.user_data.get(LABELS_KEY) for doc in ds.docs]
    if any(not v for v in values):
        raise GlinerError(
            f"[E053] Some documents of the {ds.where} do not list the dataset's labels in "
            f"doc.user_data[{LABELS_KEY!r}]. Convert the data again, or give the labels explicitly (--labels)."
        )
    distinct = {tuple(v) for v in values}
    if len(distinct) > 1:
        raise GlinerError(
            f"[E054] The documents of the {ds.where} list different label sets in doc.user_data[{LABELS_KEY!r}]: "
            f"{sorted(distinct)}. Give the labels explicitly (--labels)."
        )
    return LabelSet.from_arg(list(values[0]))


def _check_split(ds: Dataset, allow_train: bool) -> None:
    n_train = sum(doc.user_data.get(SPLIT_KEY) == "train" for doc in ds.docs)
    if n_train and not allow_train:
        raise GlinerError(
            f"[E052] {n_train} of the {len(ds.docs)} documents of the {ds.where} are from the 'train' split; "
            "scores on training data say little about a model. Evaluate on the dev or test split, or pass "
            "--allow-train (allow_train=True) if this is intended."
        )


def _gold_spans(doc: Doc) -> List[Triple]:
    spans = doc.spans[GOLD_KEY] if GOLD_KEY in doc.spans else doc.ents
    return [(s.start_char, s.end_char, s.label_) for s in spans]


# -- running a pipeline -----------------------------------------------------------------------
def _get_component(nlp: Language, component: str):
    from .pipeline_component import GlinerBiomed

    if component not in nlp.pipe_names:
        raise GlinerError(f"[E056] The pipeline has no component {component!r}; its components are {nlp.pipe_names}.")
    pipe = nlp.get_pipe(component)
    if not isinstance(pipe, GlinerBiomed):
        raise GlinerError(f"[E056] Component {component!r} is a {type(pipe).__name__}, not a gliner_biomed component.")
    return pipe


def _setting(name: str, trained_on: List[str], zero_shot: bool, where: str) -> str:
    """'zero-shot', 'supervised' or 'unknown' (the model records no training datasets)."""
    if name in trained_on:
        if zero_shot:
            raise GlinerError(
                f"[E055] The {where} is not zero-shot for this model: it was trained on {trained_on}. "
                "Pass --supervised (zero_shot=False) to evaluate it anyway, reported as supervised."
            )
        return "supervised"
    if not trained_on:
        return "unknown" if zero_shot else "supervised"
    return "zero-shot"


def _trained_on(cfg: Mapping[str, Any]) -> List[str]:
    """The datasets the component records training on. Empty (or absent) says nothing: a checkpoint
    loaded from a GLiNER folder was trained on data the component does not know of."""
    value = cfg.get("trained_on") or []
    return [value] if isinstance(value, str) else list(value)


def _fresh_doc(vocab: Vocab, doc: Doc) -> Doc:
    """The same tokens and sentence boundaries, without the gold."""
    sent_starts = [bool(t.is_sent_start) for t in doc] if doc.has_annotation("SENT_START") else None
    return Doc(vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc], sent_starts=sent_starts)


def _run(
    nlp: Language, ner, ds: Dataset, label_set: LabelSet, batch_size: int, progress: bool = False
) -> Tuple[List[List[Triple]], float]:
    """Predict on copies of the docs with the same tokens (gold boundaries stay token boundaries);
    components after `ner` are skipped so that only its output (and what feeds it) is scored."""
    from tqdm import tqdm

    ner.labels = label_set
    fresh = [_fresh_doc(nlp.vocab, d) for d in ds.docs]
    later = nlp.pipe_names[nlp.pipe_names.index(ner.name) + 1 :]
    spans_key = ner.cfg.get("spans_key")
    start = time.perf_counter()
    with nlp.select_pipes(disable=later):
        docs = nlp.pipe(fresh, batch_size=batch_size)
        predicted = list(tqdm(docs, total=len(fresh), desc=ds.name, unit="doc", disable=not progress, file=sys.stderr))
    seconds = time.perf_counter() - start
    pred = [
        [(s.start_char, s.end_char, s.label_) for s in (doc.spans.get(spans_key, []) if spans_key else doc.ents)]
        for doc in predicted
    ]
    return pred, seconds


def evaluate(
    nlp: Language,
    datasets: DatasetsArg,
    *,
    component: str = "gliner_biomed",
    labels: Optional[LabelsArg] = None,
    zero_shot: bool = True,
    allow_train: bool = False,
    threshold: Optional[float] = None,
    batch_size: int = 64,
    progress: bool = False,
) -> Dict[str, Any]:
    """Score `component` on each dataset, with that dataset's labels (or `labels`), and return the report.

    datasets: `.spacy` paths, or {name: path or list of Docs}.
    labels: the labels for every dataset, instead of each dataset's own. Gold spans of labels
        outside the evaluated set are not scored; their number is reported as `unscored_gold`.
    zero_shot: refuse datasets the model was trained on (its cfg["trained_on"]); False allows them.
    allow_train: allow docs from the 'train' split.
    threshold: overrides the component's threshold during the evaluation.
    batch_size: docs per `nlp.pipe` batch.
    The component's labels and threshold are restored afterwards. Everything is checked before the
    first dataset is run, so a bad argument fails at once rather than after a long run.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise GlinerError(f"[E059] `batch_size` must be a positive integer; got {batch_size!r}.")
    if threshold is not None:
        validate_thresholds(threshold, None, ())
    ner = _get_component(nlp, component)
    trained_on = _trained_on(ner.cfg)
    given = LabelSet.from_arg(labels) if labels is not None else None
    if given is not None and not given:
        raise GlinerError("[E053] `labels` is empty: give at least one label to evaluate.")
    plans = []
    for ds in _as_datasets(datasets, nlp.vocab):
        _check_split(ds, allow_train)
        plans.append((ds, given or _dataset_labels(ds), _setting(ds.name, trained_on, zero_shot, ds.where)))
    original_labels, original_threshold = ner.label_descriptions, ner.cfg["threshold"]
    used_threshold = original_threshold if threshold is None else float(threshold)
    report: Dict[str, Any] = {"component": component, "threshold": used_threshold, "datasets": {}}
    try:
        ner.cfg["threshold"] = used_threshold
        for ds, label_set, setting in plans:
            pred, seconds = _run(nlp, ner, ds, label_set, batch_size, progress)
            names = set(label_set.names)
            all_gold = [_gold_spans(doc) for doc in ds.docs]
            gold = [[g for g in doc_gold if g[2] in names] for doc_gold in all_gold]
            result = score_spans(gold, pred, label_set.names)
            report["datasets"][ds.name] = {
                "source": ds.source,
                "setting": setting,
                "n_docs": len(ds.docs),
                **result.to_dict(),
                "unscored_gold": sum(map(len, all_gold)) - sum(map(len, gold)),
                "seconds": seconds,
                "docs_per_second": len(ds.docs) / seconds if seconds > 0 else 0.0,
            }
    finally:
        ner.labels = original_labels
        ner.cfg["threshold"] = original_threshold
    per_dataset = list(report["datasets"].values())
    report["average"] = {
        f"{mode}_f": sum(d["micro"][mode]["f"] for d in per_dataset) / len(per_dataset) for mode in MODES
    }
    return report


# -- report -----------------------------------------------------------------------------------
def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def format_markdown(report: Mapping[str, Any]) -> str:
    """A summary table (one row per dataset, then their average) and a per-label table per dataset."""
    lines = [
        f"## Evaluation of `{report['component']}` (threshold {report['threshold']})",
        "",
        "P, R, F1 in %. Strict: same start, end and label. Relaxed: same label and any overlap, each gold "
        "span matched once (GLiNER-biomed's evaluator). Micro: pooled counts; macro: mean over labels.",
        "",
        "| dataset | setting | docs | strict P | strict R | strict F1 | strict F1 macro "
        "| relaxed F1 | relaxed F1 macro | docs/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ds in report["datasets"].items():
        strict, relaxed = ds["micro"]["strict"], ds["micro"]["relaxed"]
        lines.append(
            f"| {name} | {ds['setting']} | {ds['n_docs']} | {_pct(strict['p'])} | {_pct(strict['r'])} "
            f"| {_pct(strict['f'])} | {_pct(ds['macro']['strict']['f'])} | {_pct(relaxed['f'])} "
            f"| {_pct(ds['macro']['relaxed']['f'])} | {ds['docs_per_second']:.1f} |"
        )
    average = report["average"]
    lines.append(
        f"| **average** | | | | | {_pct(average['strict_f'])} | | {_pct(average['relaxed_f'])} | | |"
    )
    for name, ds in report["datasets"].items():
        lines += [
            "",
            f"### {name} ({ds['setting']})",
            "",
            "| label | support | strict P | strict R | strict F1 | TP | FP | FN | relaxed P | relaxed R | relaxed F1 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, scores in ds["labels"].items():
            s, r = scores["strict"], scores["relaxed"]
            lines.append(
                f"| {label} | {scores['support']} | {_pct(s['p'])} | {_pct(s['r'])} | {_pct(s['f'])} "
                f"| {s['tp']} | {s['fp']} | {s['fn']} | {_pct(r['p'])} | {_pct(r['r'])} | {_pct(r['f'])} |"
            )
    return "\n".join(lines) + "\n"


def write_report(report: Mapping[str, Any], out_dir: Union[str, Path]) -> Tuple[Path, Path]:
    """Write `metrics.json` and `metrics.md` into `out_dir` (created if needed); returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "metrics.json", out_dir / "metrics.md"
    write_atomic(json_path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(md_path, format_markdown(report))
    return json_path, md_path


# -- command line -----------------------------------------------------------------------------
def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    """Add `evaluate PIPELINE DATASET...` to the subparsers of the package's command line."""
    p = subparsers.add_parser(
        "evaluate",
        help="strict and relaxed P/R/F1 of a pipeline on .spacy datasets",
        description="Score a saved pipeline's gliner_biomed component on .spacy datasets; prints Markdown.",
    )
    p.add_argument("pipeline", help="a saved pipeline (folder or package, as spacy.load takes)")
    p.add_argument("datasets", nargs="+", metavar="DATASET",
                   help=".spacy files with gold spans, or dataset names with --corpus")
    p.add_argument("--corpus", default=None,
                   help="a `convert` output folder: a DATASET that is not a file means CORPUS/DATASET/test.spacy")
    p.add_argument("--component", default="gliner_biomed")
    p.add_argument("--threshold", type=float, default=None, help="default: the pipeline's own")
    p.add_argument("--labels", nargs="+", default=None, help="default: each dataset's own labels")
    p.add_argument("--supervised", action="store_true", help="allow datasets the model was trained on")
    p.add_argument("--allow-train", action="store_true", help="allow docs from the 'train' split")
    p.add_argument("--out", default=None, help="folder for metrics.json and metrics.md")
    p.add_argument("--batch-size", type=int, default=64, help="docs per nlp.pipe batch")
    return p


def run_evaluate(args: argparse.Namespace) -> int:
    """Run `evaluate` from parsed arguments: 0, or 1 with the error on stderr for bad input."""
    import spacy

    if args.corpus is not None:
        args.datasets = [d if Path(d).is_file() else str(Path(args.corpus) / d / "test.spacy") for d in args.datasets]
    try:
        for path in args.datasets:
            if not Path(path).is_file():
                raise GlinerError(f"[E050] Dataset file '{path}' does not exist.")
        try:
            nlp = spacy.load(args.pipeline)
        except OSError as err:
            raise GlinerError(f"[E058] Could not load the pipeline '{args.pipeline}': {err}") from err
        report = evaluate(
            nlp,
            args.datasets,
            component=args.component,
            labels=args.labels,
            zero_shot=not args.supervised,
            allow_train=args.allow_train,
            threshold=args.threshold,
            batch_size=args.batch_size,
            progress=True,
        )
    except GlinerError as err:
        print(err, file=sys.stderr)
        return 1
    print(format_markdown(report), end="")
    if args.out is not None:
        for path in write_report(report, args.out):
            print(f"Wrote {path}", file=sys.stderr)
    return 0
