"""The `gliner_biomed` pipeline component: zero-shot entity recognition with GLiNER span scoring.

A doc is read as its words (`words.py`), long docs as windows (`windows.py`); the windows of a
whole `nlp.pipe` batch are sorted by label set and length and run through the model
`windows_per_forward` at a time, so padding stays small; span probabilities are thresholded per
label and decoded per doc (`decoding.py`); entities go to `doc.ents` or `doc.spans[spans_key]`
with their confidence in `Span._.score`.

The labels are the component's own, or, for a doc whose `doc.user_data["gliner_biomed.labels"]`
names some, those: converted evaluation data names its dataset's types that way, so a dataset is
prompted with its own types by `nlp.evaluate`, `spacy train`'s dev scoring and the project's
evaluator alike.
"""
import json
import os
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model

from .architectures import UNI_ENCODER, architecture_config
from .decoding import SpanPrediction, greedy_decode
from .errors import Errors, GlinerError, Warnings, warn
from .files import write_atomic
from .keys import DATASET_KEY, LABELS_KEY, SCORE_KEY, SYNTHETIC_PREFIX
from .labels import LabelSet, LabelsArg, check_positive_int, validate_thresholds
from . import scorers  # noqa: F401  (registers the default scorer where entry points are not installed)
from .layers.gliner_model import GlinerInput, GlinerOutput, get_shim
from .layers.span_model import span_mask
from .training.loss import focal_bce_loss
from .training.rows import TrainingRow, gold_spans, span_targets, training_rows
from .training.settings import TrainingSettings
from .windows import Window, plan_docs
from .words import DocWords, doc_words

# The factory fills the rest in from the architecture's own defaults (`architectures.py`).
DEFAULT_MODEL = {"@architectures": UNI_ENCODER}
DEFAULT_SCORER = {"@scorers": "spacy_gliner_biomed.ner_scorer.v1"}
# A threshold above any probability, for label slots a row does not have.
_NEVER = 2.0


@Language.factory(
    "gliner_biomed",
    assigns=["doc.ents", "doc.spans", "span._.score"],
    default_config={
        "model": DEFAULT_MODEL,
        "checkpoint": None,
        "labels": [],
        "threshold": 0.5,
        "label_thresholds": {},
        "flat_ner": None,
        "multi_label": False,
        "spans_key": None,
        "overwrite_ents": False,
        "windows_per_forward": 8,
        "runtime": "torch",
        "precision": "fp32",
        "training": TrainingSettings().to_cfg(),
        "scorer": DEFAULT_SCORER,
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_gliner_biomed(
    nlp: Language,
    name: str,
    model: Model[GlinerInput, GlinerOutput],
    checkpoint: Optional[str],
    labels: LabelsArg,
    threshold: float,
    label_thresholds: Dict[str, float],
    flat_ner: Optional[bool],
    multi_label: bool,
    spans_key: Optional[str],
    overwrite_ents: bool,
    windows_per_forward: int,
    runtime: str,
    precision: str,
    training: Dict[str, Any],
    scorer: Optional[Callable],
) -> "GlinerBiomed":
    """Create a `gliner_biomed` component.

    checkpoint (Optional[str]): A local GLiNER folder; its weights are loaded at once.
    labels (List[str] | Dict[str, str]): Entity labels, or {label: description the model reads}.
    threshold (float): Minimum span probability for an entity.
    label_thresholds (Dict[str, float]): Per-label overrides of `threshold`.
    flat_ner (Optional[bool]): Non-overlapping entities; default True for doc.ents, False (nested)
        for doc.spans.
    multi_label (bool): Let one span carry several labels (doc.spans only).
    spans_key (Optional[str]): Write doc.spans[spans_key] instead of doc.ents.
    overwrite_ents (bool): Replace existing doc.ents instead of keeping them.
    windows_per_forward (int): Word windows in one forward pass of the model (not docs: a long doc
        is several windows; `nlp.pipe(batch_size=...)` sets how many docs are gathered first).
    runtime (str): "torch" (the default, exact) or "onnxruntime" (the encoder run by ONNX Runtime; CPU).
    precision (str): "fp32" (the default) or "int8" (dynamic quantisation; CPU). See layers/inference.py.
    training (Dict[str, Any]): Loss, label sampling and learning-rate settings (`TrainingSettings`).
    scorer (Optional[Callable]): The scoring method (`spacy_gliner_biomed.ner_scorer.v1`).
    """
    component = GlinerBiomed(
        nlp.vocab,
        model,
        name,
        checkpoint=checkpoint,
        labels=labels,
        threshold=threshold,
        label_thresholds=label_thresholds,
        flat_ner=flat_ner,
        multi_label=multi_label,
        spans_key=spans_key,
        overwrite_ents=overwrite_ents,
        windows_per_forward=windows_per_forward,
        runtime=runtime,
        precision=precision,
        training=training,
        scorer=scorer,
    )
    component._nlp = weakref.ref(nlp)
    return component


def _get_score(span: Span) -> Optional[float]:
    return span.doc.user_data.get((SCORE_KEY, span.start_char, span.end_char, span.label_))


def _set_score(span: Span, value: Optional[float]) -> None:
    span.doc.user_data[(SCORE_KEY, span.start_char, span.end_char, span.label_)] = value


def register_score_extension() -> None:
    """`Span._.score`, keyed by offsets *and label*, so multi-label spans keep one score each."""
    current = Span.get_extension("score")
    if current is None or current[2] is not _get_score:
        # force: gliner-spacy registers a plain `score` attribute; ours also accepts its writes.
        Span.set_extension("score", getter=_get_score, setter=_set_score, force=True)


def _single_thread_after_fork() -> None:
    """`nlp.pipe(n_process=N)` forks workers; torch's OpenMP pool is not fork-safe and a child that
    enters a parallel region after the parent used one hangs. One thread per worker process is
    also the right split of the cores."""
    torch.set_num_threads(1)


_fork_hook_registered = False


def _register_fork_hook() -> None:
    """Registered when the first component is made, not when the module is imported (spaCy
    imports every installed factory whenever it builds a pipeline)."""
    global _fork_hook_registered
    if not _fork_hook_registered:
        os.register_at_fork(after_in_child=_single_thread_after_fork)
        _fork_hook_registered = True


def get_component(nlp: Language, name: str = "gliner_biomed") -> "GlinerBiomed":
    """The pipeline's component `name`, which must be a gliner_biomed component."""
    if name not in nlp.pipe_names:
        raise GlinerError(Errors.E077.format(name=name, names=nlp.pipe_names))
    pipe = nlp.get_pipe(name)
    if not isinstance(pipe, GlinerBiomed):
        raise GlinerError(Errors.E078.format(name=name, type=type(pipe).__name__))
    return pipe


class DocPrediction(NamedTuple):
    """What `predict` found in one doc: entities over its words, labels by index into `labels`."""

    words: DocWords
    labels: Tuple[str, ...]
    spans: List[SpanPrediction]


class GlinerBiomed(TrainablePipe):
    """Open-type NER: entities of any type named in natural language, scored by a GLiNER model."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model[GlinerInput, GlinerOutput],
        name: str = "gliner_biomed",
        *,
        checkpoint: Optional[str] = None,
        labels: LabelsArg = (),
        threshold: float = 0.5,
        label_thresholds: Optional[Mapping[str, float]] = None,
        flat_ner: Optional[bool] = None,
        multi_label: bool = False,
        spans_key: Optional[str] = None,
        overwrite_ents: bool = False,
        windows_per_forward: int = 8,
        runtime: str = "torch",
        precision: str = "fp32",
        training: Optional[Dict[str, Any]] = None,
        scorer: Optional[Callable] = None,
    ) -> None:
        self._nlp: Optional[Callable[[], Optional[Language]]] = None
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        label_set = LabelSet.from_arg(labels)
        flat = (spans_key is None) if flat_ner is None else bool(flat_ner)
        if spans_key is None and not flat:
            raise GlinerError(Errors.E025.format(name=name, what="nested entities (flat_ner=false)"))
        if spans_key is None and multi_label:
            raise GlinerError(Errors.E025.format(name=name, what="several labels on one span (multi_label=true)"))
        check_positive_int("windows_per_forward", windows_per_forward)
        self._training = TrainingSettings.from_cfg(training)
        self.cfg: Dict[str, Any] = {
            "labels": label_set.to_cfg(),
            "threshold": float(threshold),
            "label_thresholds": validate_thresholds(threshold, label_thresholds, label_set.names),
            "flat_ner": flat,
            "multi_label": bool(multi_label),
            "spans_key": spans_key,
            "overwrite_ents": bool(overwrite_ents),
            "windows_per_forward": windows_per_forward,
            "checkpoint": checkpoint,
            "training": self._training.to_cfg(),
            "trained_on": [],
        }
        self._label_set = label_set
        self._doc_label_sets: Dict[Any, LabelSet] = {}
        self._configure_shim()
        get_shim(self.model).set_inference(runtime, precision)
        register_score_extension()
        _register_fork_hook()
        if checkpoint is not None and Path(checkpoint).exists():
            from .checkpoint import load_checkpoint

            get_shim(self.model).set_checkpoint(load_checkpoint(checkpoint))

    # -- the pipeline's config describes the component as it is ------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        """spaCy sets every component's name after each change to the pipeline (`add_pipe`,
        `from_config`, renames): the component's entry in the pipeline config exists by then, so
        this is where the component first writes what it is into it (`_sync_config`)."""
        self._name = name
        self._sync_config()

    def _sync_config(self) -> None:
        """Write labels, thresholds and the model block (from a loaded checkpoint) into the
        pipeline's config for this component, so that `nlp.config` and a saved `config.cfg` say
        what the component is, and `English.from_config(nlp.config)` rebuilds it. spaCy keeps a
        component's config in `Language._pipe_configs` and offers no public way to update it."""
        nlp = self._nlp() if getattr(self, "_nlp", None) is not None else None
        config = getattr(nlp, "_pipe_configs", {}).get(getattr(self, "_name", None))
        if config is None or not hasattr(self, "cfg"):
            return
        config["labels"] = self._label_set.to_config()
        config["threshold"] = self.cfg["threshold"]
        config["label_thresholds"] = dict(self.cfg["label_thresholds"])
        config["runtime"] = get_shim(self.model).runtime
        config["precision"] = get_shim(self.model).precision
        checkpoint = get_shim(self.model).checkpoint
        if checkpoint is not None:
            config["model"] = architecture_config(checkpoint.config, config.get("model"))

    # -- labels and thresholds ------------------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        return self._label_set.names

    @labels.setter
    def labels(self, labels: LabelsArg) -> None:
        """Change the entity types on the live component (no retraining needed: it is zero-shot)."""
        self._label_set = LabelSet.from_arg(labels)
        self._doc_label_sets.clear()
        self.cfg["labels"] = self._label_set.to_cfg()
        self._sync_config()

    @property
    def label_descriptions(self) -> Dict[str, str]:
        return dict(zip(self._label_set.names, self._label_set.prompts))

    @property
    def threshold(self) -> float:
        return self.cfg["threshold"]

    @threshold.setter
    def threshold(self, value: float) -> None:
        validate_thresholds(value, None, ())
        self.cfg["threshold"] = float(value)
        self._sync_config()

    @property
    def runtime(self) -> str:
        """ "torch" (exact) or "onnxruntime" (the encoder run by ONNX Runtime; CPU). Settable."""
        return get_shim(self.model).runtime

    @runtime.setter
    def runtime(self, value: str) -> None:
        get_shim(self.model).set_inference(value, self.precision)
        self._sync_config()

    @property
    def precision(self) -> str:
        """ "fp32" (exact) or "int8" (dynamic quantisation; CPU). Settable."""
        return get_shim(self.model).precision

    @precision.setter
    def precision(self, value: str) -> None:
        get_shim(self.model).set_inference(self.runtime, value)
        self._sync_config()

    def add_label(self, label: str) -> int:
        if label in self.labels:
            return 0
        self.labels = {**self.label_descriptions, label: label}
        return 1

    def _doc_label_set(self, doc: Doc) -> LabelSet:
        """The doc's own labels (`doc.user_data["gliner_biomed.labels"]`) if it names some, else the
        component's."""
        value = doc.user_data.get(LABELS_KEY)
        if value is None:
            if not self._label_set:
                raise GlinerError(Errors.E001.format(name=self.name))
            return self._label_set
        if not isinstance(value, (list, tuple)) or not value:
            raise GlinerError(Errors.E009.format(key=LABELS_KEY, value=value))
        key = tuple(x if isinstance(x, str) else tuple(x) for x in value)
        if key not in self._doc_label_sets:
            if len(self._doc_label_sets) > 64:
                self._doc_label_sets.clear()
            self._doc_label_sets[key] = self._label_set.for_doc(list(value))
        return self._doc_label_sets[key]

    def _thresholds(self, label_set: LabelSet) -> List[float]:
        overrides, default = self.cfg["label_thresholds"], self.cfg["threshold"]
        return [overrides.get(name, default) for name in label_set.names]

    # -- inference ----------------------------------------------------------------------------
    @property
    def checkpoint(self):
        """The loaded GLiNER model (config, torch module, tokenizer), or an error if there is none."""
        shim = get_shim(self.model)
        if shim.checkpoint is None:
            path = self.cfg.get("checkpoint")
            if path is not None:
                raise GlinerError(Errors.E020.format(name=self.name, path=path))
            raise GlinerError(Errors.E021.format(name=self.name))
        return shim.checkpoint

    def predict(self, docs: Iterable[Doc]) -> List[DocPrediction]:
        """Decoded entities per doc, over its words."""
        docs = list(docs)
        label_sets = [self._doc_label_set(doc) for doc in docs]
        checkpoint = self.checkpoint
        words = [doc_words(doc) for doc in docs]
        planned = plan_docs(
            checkpoint.featurizer,
            words,
            [ls.prompts for ls in label_sets],
            max_len=checkpoint.max_len,
            max_width=checkpoint.max_width,
        )
        windows = [w for doc_windows in planned for w in doc_windows]
        groups: Dict[LabelSet, int] = {}
        for label_set in label_sets:
            groups.setdefault(label_set, len(groups))
        thresholds = {label_set: self._thresholds(label_set) for label_set in groups}
        order = sorted(windows, key=lambda w: (groups[label_sets[w.doc_index]], w.n_tokens))
        candidates: List[List[SpanPrediction]] = [[] for _ in docs]
        step = self.cfg["windows_per_forward"]
        for b in range(0, len(order), step):
            batch = order[b : b + step]
            batch_sets = [label_sets[w.doc_index] for w in batch]
            texts = [words[w.doc_index].words[w.start : w.end] for w in batch]
            output = self.model.predict(GlinerInput(texts, [ls.prompts for ls in batch_sets]))
            n_labels = output.logits.shape[-1]
            limits = torch.tensor(
                [thresholds[ls] + [_NEVER] * (n_labels - len(ls)) for ls in batch_sets], device=output.logits.device
            )
            self._collect_candidates(batch, output, limits, candidates)
        flat, multi_label, max_width = self.cfg["flat_ner"], self.cfg["multi_label"], checkpoint.max_width
        return [
            DocPrediction(
                w,
                label_set.names,
                greedy_decode(sorted(c, key=lambda s: (s.start, s.end, s.label)), flat=flat, multi_label=multi_label, max_width=max_width),
            )
            for w, label_set, c in zip(words, label_sets, candidates)
        ]

    @staticmethod
    def _collect_candidates(
        batch: Sequence[Window], output: GlinerOutput, thresholds: torch.Tensor, out: List[List[SpanPrediction]]
    ) -> None:
        """Spans above their label's threshold (`thresholds`: (B, C)) that start in their window's core."""
        logits = output.logits
        B, W, K, C = logits.shape
        probs = torch.sigmoid(logits)
        keep = (probs > thresholds.view(B, 1, 1, C)) & span_mask(output.word_lengths, W, K, logits.device).unsqueeze(-1)
        rows, starts, widths, labels = keep.nonzero(as_tuple=True)
        scores = probs[rows, starts, widths, labels].tolist()
        for r, s, k, c, score in zip(rows.tolist(), starts.tolist(), widths.tolist(), labels.tolist(), scores):
            window = batch[r]
            start = window.start + s
            if window.core_start <= start < window.core_end:
                out[window.doc_index].append(SpanPrediction(start, start + k, c, score))

    def set_annotations(self, docs: Iterable[Doc], predictions: List[DocPrediction]) -> None:
        spans_key = self.cfg["spans_key"]
        for doc, prediction in zip(docs, predictions):
            spans = []
            for p in prediction.spans:
                start, end = prediction.words.token_span(p.start, p.end)
                span = Span(doc, start, end, label=prediction.labels[p.label])
                _set_score(span, p.score)
                spans.append(span)
            if spans_key is not None:
                doc.spans[spans_key] = SpanGroup(
                    doc, name=spans_key, spans=spans, attrs={"scores": [p.score for p in prediction.spans]}
                )
            elif self.cfg["overwrite_ents"]:
                doc.ents = spans
            else:
                taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
                new = [s for s in spans if not any(i in taken for i in range(s.start, s.end))]
                doc.ents = list(doc.ents) + new

    # -- training ---------------------------------------------------------------------------------
    @property
    def training_settings(self) -> TrainingSettings:
        return self._training

    def _configure_shim(self) -> None:
        shim = get_shim(self.model)
        shim.encoder_lr_scale = self._training.encoder_lr_scale
        shim.max_grad_norm = self._training.max_grad_norm

    def _set_dropout(self, drop: float) -> None:
        """spaCy's `drop` (`[training] dropout`) is the dropout of the GLiNER head's layers while
        training; the encoder keeps the dropout of its own config, as spacy-transformers does."""
        if isinstance(drop, bool) or not isinstance(drop, (int, float)) or not 0.0 <= drop < 1.0:
            raise GlinerError(Errors.E028.format(drop=drop))
        model = self.checkpoint.model
        if model.settings.dropout != drop:
            model.set_head_dropout(float(drop))

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """One step of the GLiNER loss on a batch of examples (gold from `reference` docs).

        Each example gets its own label set (gold types plus in-batch negatives,
        `training/sampling.py`); long docs are cut into the same windows as at inference. Windows are
        sorted by length and run in forwards of at most `windows_per_forward` windows, whose
        gradients add up before the single optimizer step.
        """
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        self._set_dropout(drop)
        rows = training_rows(
            list(examples), self.checkpoint, self.label_descriptions, self._training, self.cfg["spans_key"],
            self.cfg.get("negative_inventory") or self.labels, self.cfg.get("teacher_types", ()),
        )
        if not rows:
            return losses
        order = sorted(range(len(rows)), key=lambda i: len(rows[i].words))
        step = self.cfg["windows_per_forward"]
        total = 0.0
        for b in range(0, len(order), step):
            chunk = [rows[i] for i in order[b : b + step]]
            output, backprop = self.model.begin_update(GlinerInput([r.words for r in chunk], [r.prompts for r in chunk]))
            loss, d_logits = self.get_loss(chunk, output)
            backprop(d_logits)
            total += loss
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += total
        return losses

    def get_loss(self, examples: Sequence[TrainingRow], scores: GlinerOutput) -> Tuple[float, torch.Tensor]:
        """Loss and gradient for the span logits of a forward over training rows (`update` turns
        `Example`s into rows: windows with their sampled label sets and gold spans)."""
        targets, mask = span_targets(scores, examples, self._training.synthetic_negative_rate)
        return focal_bce_loss(scores.logits, targets, mask, self._training)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[LabelsArg] = None,
        checkpoint: Optional[str] = None,
    ) -> None:
        """Get weights (a GLiNER `checkpoint`, the ones already loaded, or a new model on the
        architecture's backbone) and labels (given, already set, or the gold labels of the examples).

        Also records which corpora (`doc.user_data["gliner_biomed.dataset"]`) the examples come from,
        so zero-shot evaluation can refuse datasets the model was trained on.
        """
        shim = get_shim(self.model)
        if checkpoint is not None:
            from .checkpoint import load_checkpoint

            shim.set_checkpoint(load_checkpoint(checkpoint))
            self.cfg["checkpoint"] = str(checkpoint)
        elif shim.checkpoint is None and self.cfg.get("checkpoint") is not None:
            raise GlinerError(Errors.E020.format(name=self.name, path=self.cfg["checkpoint"]))
        self.model.initialize()
        found: Dict[str, None] = {}
        gold_found: Dict[str, None] = {}  # labels of gold (not teacher-annotated) examples
        teacher_found: Dict[str, None] = {}  # labels teacher-annotated docs have or were asked
        datasets: Dict[str, None] = {}
        max_width = self.checkpoint.max_width
        too_long: List[str] = []
        for eg in get_examples():
            words = doc_words(eg.reference)
            spans = gold_spans(eg.reference, words, self.cfg["spans_key"])
            found.update((label, None) for *_, label in spans)
            if str(eg.reference.user_data.get(DATASET_KEY, "")).startswith(SYNTHETIC_PREFIX):
                teacher_found.update((label, None) for *_, label in spans)
                teacher_found.update((label, None) for label in eg.reference.user_data.get(LABELS_KEY) or ())
            else:
                gold_found.update((label, None) for *_, label in spans)
            too_long += [" ".join(words.words[s : e + 1]) for s, e, _ in spans if e - s >= max_width]
            if DATASET_KEY in eg.reference.user_data:
                datasets[eg.reference.user_data[DATASET_KEY]] = None
        if too_long:
            warn(Warnings.W001.format(n=len(too_long), max_width=max_width, example=too_long[0][:80]))
        if labels is not None:
            self.labels = labels
        elif not self._label_set and found:
            self.labels = sorted(found)
        self.cfg["trained_on"] = sorted(set(self.cfg.get("trained_on", [])) | set(datasets))
        # the types gold examples draw negatives from (`neg_types_from = "inventory"`): gold labels,
        # as a teacher's types have many unannotated mentions in biomedical gold text too; the
        # teacher's own types only where `teacher_negatives_for` names the doc's domain
        self.cfg["negative_inventory"] = sorted(gold_found)
        self.cfg["teacher_types"] = sorted(set(teacher_found) - set(gold_found))
        self._sync_config()

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        """The registered `scorer`'s scores, with each converted doc predicted for its own
        dataset's types. spaCy's `Corpus` (what `spacy evaluate` reads with) builds a predicted doc
        from the text alone, so such a doc was prompted with the component's labels instead: it
        is predicted again with its dataset's types before it is scored. Docs from this package's
        corpus readers already carry them and are not predicted twice."""
        examples = list(examples)
        stale = [i for i, eg in enumerate(examples) if self._prompted_otherwise(eg)]
        if stale:
            from .corpora.docs import predicted_doc

            fresh = []
            for i in stale:
                doc = predicted_doc(self.vocab, examples[i].predicted)
                doc.user_data[LABELS_KEY] = list(examples[i].reference.user_data[LABELS_KEY])
                fresh.append(doc)
            for i, doc in zip(stale, self.pipe(fresh)):
                examples[i] = Example(doc, examples[i].reference)
        return super().score(examples, **kwargs)

    def _prompted_otherwise(self, eg: Example) -> bool:
        wanted = eg.reference.user_data.get(LABELS_KEY)
        if not wanted or LABELS_KEY in eg.predicted.user_data:
            return False
        return {x if isinstance(x, str) else x[0] for x in wanted} != set(self.labels)

    # -- serialization: cfg carries the labels; the model is a GLiNER folder in bytes --------------
    def _after_load(self) -> None:
        self._label_set = LabelSet.from_arg(self.cfg["labels"])
        self._doc_label_sets.clear()
        self._training = TrainingSettings.from_cfg(self.cfg.get("training"))
        self._configure_shim()
        self._sync_config()

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        super().from_bytes(bytes_data, exclude=exclude)
        self._after_load()
        return self

    def from_disk(self, path, *, exclude=tuple()):
        super().from_disk(path, exclude=exclude)
        cfg_file = Path(path) / "cfg"
        if "cfg" not in exclude and cfg_file.is_file():
            # srsly's JSON reader parses some floats one ulp off ("0.7" -> 0.7000000000000001), which
            # a loaded pipeline's config would then show; Python's reader gives back what was written.
            self.cfg.update(json.loads(cfg_file.read_text(encoding="utf8")))
        self._after_load()
        return self

    def to_disk(self, path, *, exclude=tuple()):
        """As TrainablePipe.to_disk, but the model file is replaced atomically: a training run
        interrupted while saving `model-last` leaves the previous complete model in place."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        super().to_disk(path, exclude=(*exclude, "model"))
        if "model" not in exclude:
            write_atomic(path / "model", self.model.to_bytes())

    def export_gliner(
        self, path: Union[str, Path], *, overwrite: bool = False, overwrite_flag: str = "overwrite=True"
    ) -> Path:
        """Write the model as a GLiNER folder (loads in `gliner.GLiNER.from_pretrained`)."""
        from .checkpoint import save_checkpoint

        return save_checkpoint(self.checkpoint, path, overwrite=overwrite, overwrite_flag=overwrite_flag)
