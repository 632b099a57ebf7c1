"""Weak-model scores of synthetic examples: the span-loss IFD, the plain loss (docs/curation.md).

A synthetic example is one sentence with the teacher's spans. Its *answer* is the entity list
with its types: the span x label cells at the positions of its gold spans, every prompted label
slot included (the cell that says "this span is a protein", and those that say "it is not a
cell line"). The weak model scores the answer twice, with the same text and windows:

- conditioned on the instruction, the label prompts being the example's own type names:
  L(A | Q) = mean BCE over the answer cells;
- without it, every label prompt replaced by one uninformative word (`NEUTRAL_PROMPT`), so the
  model sees where the slots are but not which type each one asks for: L(A).

IFD = PPL(A | Q) / PPL(A) = exp(L(A | Q) - L(A)), as Superfiltering's code computes it. The plain
loss (the baseline) is the mean BCE over every cell of the example with its own prompts, the
loss the weak model would train on.
"""
import math
from dataclasses import dataclass, replace
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from spacy.tokens import Doc

from ..keys import NEGATIVES_KEY
from ..layers.gliner_model import GlinerInput
from ..training.loss import cell_bce
from ..training.rows import TrainingRow, gold_spans, span_targets, window_rows
from ..words import doc_words

NEUTRAL_PROMPT = "entity"


@dataclass(frozen=True)
class WeakScores:
    """One positive example's losses under the weak model (per answer cell, or per cell)."""

    conditioned: float  # L(A | Q)
    unconditioned: float  # L(A)
    plain: float  # mean BCE over all the example's cells

    @property
    def ifd(self) -> float:
        return math.exp(self.conditioned - self.unconditioned)

    def to_list(self) -> List[float]:
        return [self.conditioned, self.unconditioned, self.plain]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> "WeakScores":
        return cls(float(values[0]), float(values[1]), float(values[2]))


def example_labels(doc: Doc, span_labels: Sequence[str], max_types: int) -> List[str]:
    """The labels an example is scored with: its own types (in order of first mention), then the
    teacher's explicit negatives, at most `max_types` (positives first, never cut)."""
    labels = list(dict.fromkeys(span_labels))
    for label in doc.user_data.get(NEGATIVES_KEY) or ():
        if len(labels) >= max_types:
            break
        if label not in labels:
            labels.append(label)
    return labels


def _chunks(items: List, size: int) -> Iterator[List]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def weak_scores(component, docs: Sequence[Doc], *, max_types: int = 25, batch_size: int = 16) -> List[Optional[WeakScores]]:
    """Scores of each doc (an example) under `component`'s model; None for a doc without spans
    (a negative: it is never ranked)."""
    checkpoint = component.checkpoint
    descriptions = component.label_descriptions
    words = [doc_words(doc) for doc in docs]
    gold = [gold_spans(doc, w, component.cfg["spans_key"]) for doc, w in zip(docs, words)]
    label_sets = [example_labels(doc, [label for *_, label in spans], max_types) if spans else [] for doc, spans in zip(docs, gold)]
    prompts = [tuple(descriptions.get(label, label) for label in labels) for labels in label_sets]
    per_doc = window_rows(checkpoint, words, gold, label_sets, prompts, [False] * len(docs))
    flat: List[Tuple[int, TrainingRow]] = [(i, row) for i, rows in enumerate(per_doc) for row in rows]
    flat.sort(key=lambda item: len(item[1].words))
    sums: Dict[int, List[float]] = {}
    for chunk in _chunks(flat, batch_size):
        rows = [row for _, row in chunk]
        neutral = [replace(row, prompts=(NEUTRAL_PROMPT,) * len(row.prompts)) for row in rows]
        typed_out = component.model.predict(GlinerInput([r.words for r in rows], [r.prompts for r in rows]))
        neutral_out = component.model.predict(GlinerInput([r.words for r in neutral], [r.prompts for r in neutral]))
        targets, mask = span_targets(typed_out, rows)
        answer = mask & (targets.amax(dim=-1, keepdim=True) > 0)
        typed = cell_bce(typed_out.logits.float(), targets)
        untyped = cell_bce(neutral_out.logits.float(), targets)
        dims = (1, 2, 3)
        stats = torch.stack(
            [(typed * answer).sum(dims), (untyped * answer).sum(dims), answer.sum(dims), (typed * mask).sum(dims), mask.sum(dims)], dim=1
        ).cpu().tolist()
        for (doc_index, _), row_stats in zip(chunk, stats):
            acc = sums.setdefault(doc_index, [0.0] * 5)
            for k, value in enumerate(row_stats):
                acc[k] += value
    out: List[Optional[WeakScores]] = []
    for i in range(len(docs)):
        acc = sums.get(i)
        if acc is None or acc[2] == 0:  # no spans, or none inside max_width: nothing to score
            out.append(None)
            continue
        out.append(WeakScores(acc[0] / acc[2], acc[1] / acc[2], acc[3] / max(acc[4], 1.0)))
    return out
