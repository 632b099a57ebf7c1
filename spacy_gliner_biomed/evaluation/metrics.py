"""Strict and relaxed span matching, on character offsets.

* **strict**: a prediction is correct if a gold span has the same start, end and label.
* **relaxed**, as GLiNER-biomed's evaluator (`evaluation/gliner_evaluator.py`, `span_based`):
  predictions, in order of (start, end), each take the first gold span (in the same order) that
  has the same label, overlaps it by at least one character and is not taken yet; the others are
  false positives, and gold spans left untaken are false negatives.

Conventions: P = TP / (TP + FP), 0 without predictions; R = TP / (TP + FN), 0 without gold spans;
F1 = 2PR / (P + R), 0 when P + R = 0. Micro scores pool the counts of all labels; macro scores are
the mean of the per-label P, R and F1 over the labels that occur in the gold or the predictions
(a label with neither has nothing to score, and GLiNER-biomed's evaluator leaves it out too).
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Sequence, Tuple

from ..errors import Errors, GlinerError

Triple = Tuple[int, int, str]
MODES = ("strict", "relaxed")


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
        raise GlinerError(Errors.E070.format(n_gold=len(gold), n_pred=len(pred)))
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
                if not taken[i] and g_label == label and max(start, g_start) < min(end, g_end):  # >= 1 shared character
                    taken[i] = True
                    relaxed.tp += 1
                    break
            else:
                relaxed.fp += 1
        for (_, _, g_label), was_taken in zip(doc_gold, taken):
            if not was_taken:
                counts(g_label)["relaxed"].fn += 1
    return result

