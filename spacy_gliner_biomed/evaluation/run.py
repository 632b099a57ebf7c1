"""Running a pipeline over annotated datasets and scoring its `gliner_biomed` component.

Datasets are `.spacy` files from `convert` (or lists of such docs): gold entities in
`doc.spans["gold"]` (all of them, nested ones included; `doc.ents` if there is no such group), and
in `doc.user_data` the dataset name, split and every label the dataset annotates. Each doc is
predicted on a copy with the same tokens that names those labels (`corpora.predicted_doc`), so the
component prompts each dataset's own types: the same path `spacy train` and `nlp.evaluate` take
with the package's corpus readers.
"""
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..corpora.docbin import read_docbin
from ..corpora.docs import predicted_doc
from ..errors import Errors, GlinerError
from ..keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, SPLIT_KEY
from ..labels import LabelSet, LabelsArg, check_positive_int, validate_thresholds
from .metrics import MODES, Triple, score_spans

DatasetsArg = Union[Mapping[str, Union[str, Path, Sequence[Doc]]], Sequence[Union[str, Path]]]


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
    """Read a `.spacy` file; its name is `name`, else the docs' dataset name, else the file stem."""
    docs = read_docbin(path, vocab)
    if not docs:
        raise GlinerError(Errors.E071.format(path=path))
    return Dataset(name or docs[0].user_data.get(DATASET_KEY) or Path(path).stem, docs, str(path))


def _as_datasets(datasets: DatasetsArg, vocab: Vocab) -> List[Dataset]:
    if isinstance(datasets, Mapping):
        out = [
            load_dataset(value, vocab, name) if isinstance(value, (str, Path)) else Dataset(name, list(value))
            for name, value in datasets.items()
        ]
    else:
        out = [load_dataset(path, vocab) for path in datasets]
    if not out:
        raise GlinerError(Errors.E072)
    seen: Dict[str, str] = {}
    for ds in out:
        if not ds.docs:
            raise GlinerError(Errors.E071.format(path=ds.where))
        if ds.name in seen:
            raise GlinerError(Errors.E073.format(name=ds.name, first=seen[ds.name], second=ds.where))
        seen[ds.name] = ds.where
    return out


def _dataset_labels(ds: Dataset) -> LabelSet:
    """The labels the dataset annotates, which must be stated, and the same, on every doc."""
    values = [doc.user_data.get(LABELS_KEY) for doc in ds.docs]
    if any(not v for v in values):
        raise GlinerError(Errors.E074.format(where=ds.where, key=LABELS_KEY))
    distinct = {tuple(v) for v in values}
    if len(distinct) > 1:
        raise GlinerError(Errors.E075.format(where=ds.where, key=LABELS_KEY, sets=sorted(distinct)))
    return LabelSet.from_arg(list(values[0]))


def _check_split(ds: Dataset, allow_train: bool) -> None:
    n_train = sum(doc.user_data.get(SPLIT_KEY) == "train" for doc in ds.docs)
    if n_train and not allow_train:
        raise GlinerError(Errors.E076.format(n_train=n_train, n_docs=len(ds.docs), where=ds.where))


def _gold_spans(doc: Doc) -> List[Triple]:
    spans = doc.spans[GOLD_KEY] if GOLD_KEY in doc.spans else doc.ents
    return [(s.start_char, s.end_char, s.label_) for s in spans]


def _setting(name: str, trained_on: List[str], zero_shot: bool, where: str) -> str:
    """'zero-shot', 'supervised' or 'unknown' (the model records no training datasets)."""
    if name in trained_on:
        if zero_shot:
            raise GlinerError(Errors.E079.format(where=where, trained_on=trained_on))
        return "supervised"
    if not trained_on:
        return "unknown" if zero_shot else "supervised"
    return "zero-shot"


def _trained_on(cfg: Mapping[str, Any]) -> List[str]:
    """The datasets the component records training on. Empty (or absent) says nothing: a checkpoint
    loaded from a GLiNER folder was trained on data the component does not know of."""
    value = cfg.get("trained_on") or []
    return [value] if isinstance(value, str) else list(value)


def _run(
    nlp: Language, ner, ds: Dataset, label_set: LabelSet, batch_size: int, progress: bool = False
) -> Tuple[List[List[Triple]], float]:
    """Predict on copies of the docs that prompt `label_set`; components after `ner` are skipped
    so that only its output (and what feeds it) is scored."""
    from tqdm import tqdm

    fresh = [predicted_doc(nlp.vocab, d) for d in ds.docs]
    for doc in fresh:
        doc.user_data[LABELS_KEY] = label_set.to_cfg()
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
    distractors: Sequence[str] = (),
    n_distractors: Optional[int] = None,
    limit: int = 0,
) -> Dict[str, Any]:
    """Score `component` on each dataset, with that dataset's labels (or `labels`), and return the report.

    datasets: `.spacy` paths, or {name: path or list of Docs}.
    labels: the labels for every dataset, instead of each dataset's own. Gold spans of labels
        outside the evaluated set are not scored; their number is reported as `unscored_gold`.
    zero_shot: refuse datasets the model was trained on (its cfg["trained_on"]); False allows them.
    allow_train: allow docs from the 'train' split.
    threshold: overrides the component's threshold during the evaluation (restored afterwards).
    batch_size: docs per `nlp.pipe` batch.
    distractors: labels prompted beside each dataset's own (those it does not have), as a user
        prompts many types at once; their predictions are not scored (they are counted as
        `distractor_predictions`), so the scores say what the extra types cost the dataset's own.
        With `n_distractors`, only the first that many of them that the dataset lacks.
    limit: score only the first `limit` docs of each dataset (0: all; `n_docs` says how many were).
    Everything is checked before the first dataset is run, so a bad argument fails at once rather
    than after a long run.
    """
    check_positive_int("batch_size", batch_size)
    if not isinstance(limit, int) or limit < 0:
        raise GlinerError(Errors.E176.format(limit=limit))
    if threshold is not None:
        validate_thresholds(threshold, None, ())
    from ..pipeline_component import get_component

    ner = get_component(nlp, component)
    trained_on = _trained_on(ner.cfg)
    given = LabelSet.from_arg(labels) if labels is not None else None
    if given is not None and not given:
        raise GlinerError(Errors.E080)
    plans = []
    for ds in _as_datasets(datasets, nlp.vocab):
        _check_split(ds, allow_train)
        if limit:
            ds = Dataset(ds.name, ds.docs[:limit], ds.source)
        own = given or _dataset_labels(ds)
        extra = [d for d in dict.fromkeys(distractors) if d not in own.names][:n_distractors]
        pairs = [[n, p] for n, p in zip(own.names, own.prompts)] + [[d, d] for d in extra]
        prompted = LabelSet.from_arg(pairs) if extra else own
        plans.append((ds, own, prompted, _setting(ds.name, trained_on, zero_shot, ds.where)))
    original_threshold = ner.threshold
    used_threshold = original_threshold if threshold is None else float(threshold)
    report: Dict[str, Any] = {"component": component, "threshold": used_threshold, "datasets": {}}
    try:
        ner.threshold = used_threshold
        for ds, label_set, prompted, setting in plans:
            pred, seconds = _run(nlp, ner, ds, prompted, batch_size, progress)
            names = set(label_set.names)
            n_distractor = sum(1 for doc_pred in pred for p in doc_pred if p[2] not in names)
            pred = [[p for p in doc_pred if p[2] in names] for doc_pred in pred]
            all_gold = [_gold_spans(doc) for doc in ds.docs]
            gold = [[g for g in doc_gold if g[2] in names] for doc_gold in all_gold]
            result = score_spans(gold, pred, label_set.names)
            report["datasets"][ds.name] = {
                "source": ds.source,
                "setting": setting,
                "n_docs": len(ds.docs),
                **result.to_dict(),
                "unscored_gold": sum(map(len, all_gold)) - sum(map(len, gold)),
                "distractors": len(prompted) - len(label_set),
                "distractor_predictions": n_distractor,
                "seconds": seconds,
                "docs_per_second": len(ds.docs) / seconds if seconds > 0 else 0.0,
            }
    finally:
        ner.threshold = original_threshold
    per_dataset = list(report["datasets"].values())
    report["average"] = {
        f"{mode}_f": sum(d["micro"][mode]["f"] for d in per_dataset) / len(per_dataset) for mode in MODES
    }
    return report
