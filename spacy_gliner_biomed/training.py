"""What one training step needs besides the model: label sets, word windows with span targets, the loss.

GLiNER is trained on per-example label sets: an example is scored against its own gold types plus
negative types sampled from the rest of the batch, in shuffled order, so the model learns to say
"no" to types that are named but absent, and does not learn the position of a label in the prompt.
The sampling follows the reference `gliner` package (`batch_generate_class_mappings`): the
uni-encoder samples per example, the bi-encoder shares one label set across the batch.
"""
import random
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import torch
from spacy.util import registry

from .errors import GlinerError
from .layers.gliner_model import GlinerOutput
from .layers.span_model import span_mask

SAMPLED_NEGATIVES = 100  # in-batch negative types drawn per batch, as the reference does
LOG_EPS = 1e-6  # the reference clamps probabilities at this before taking logs

# A gold span: first word, last word (inclusive), label name.
GoldSpan = Tuple[int, int, str]


@dataclass
class TrainingSettings:
    """`[components.gliner_biomed.training]`: loss, label sampling and optimizer details."""

    max_types: int = 25  # most labels in one example's prompt (cut after shuffling, as the reference does)
    max_neg_type_ratio: int = 1  # an example gets randint(0, ratio) * n_entities negative types
    focal_alpha: float = 0.75  # weight of positives in the BCE; < 0 turns it off
    focal_gamma: float = 0.0  # focal-loss exponent; 0 is plain BCE
    loss_reduction: str = "sum"  # "sum" (the reference default) or "mean" over unmasked span x label cells
    encoder_lr_scale: float = 0.5  # the transformer learns at this fraction of the optimizer's learn_rate
    max_grad_norm: float = 10.0  # global gradient-norm clip before the optimizer step; 0 turns it off

    @classmethod
    def from_cfg(cls, cfg: Optional[Dict[str, Any]]) -> "TrainingSettings":
        cfg = dict(cfg or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise GlinerError(f"[E036] Unknown training setting(s) {unknown}; known: {sorted(known)}.")
        settings = cls(**cfg)
        if settings.max_types < 1 or settings.max_neg_type_ratio < 0:
            raise GlinerError("[E036] `max_types` must be >= 1 and `max_neg_type_ratio` >= 0.")
        if settings.loss_reduction not in ("sum", "mean"):
            raise GlinerError(f"[E036] `loss_reduction` must be 'sum' or 'mean'; got {settings.loss_reduction!r}.")
        if settings.encoder_lr_scale < 0 or settings.max_grad_norm < 0 or settings.focal_gamma < 0:
            raise GlinerError("[E036] `encoder_lr_scale`, `max_grad_norm` and `focal_gamma` must be >= 0.")
        return settings

    def to_cfg(self) -> Dict[str, Any]:
        return asdict(self)


def sample_label_sets(
    positives: Sequence[Sequence[str]],
    negatives: Sequence[Optional[Sequence[str]]],
    settings: TrainingSettings,
    *,
    shared: bool,
) -> List[Tuple[str, ...]]:
    """One label set per example. `positives[i]` has one label per gold span of example i;
    `negatives[i]` are its explicit negative labels, or None to sample them from the batch.

    Uni-encoder (per example): the gold types plus `len(spans) * randint(0, max_neg_type_ratio)`
    in-batch negatives (or the explicit ones), shuffled, cut to `max_types`. An example without
    entities gets at least one in-batch type, so it teaches the model not to over-predict (the
    reference scores it against an empty prompt instead). Bi-encoder: the union over the batch of
    gold and explicit negative types, shuffled, cut to `max_types * batch size`, for every example.
    """
    rng = random
    if shared:
        union = list(dict.fromkeys(label for pos, neg in zip(positives, negatives) for label in [*pos, *(neg or ())]))
        rng.shuffle(union)
        labels = tuple(union[: settings.max_types * len(positives)])
        return [labels] * len(positives)
    batch_types = list(dict.fromkeys(label for pos in positives for label in pos))
    rng.shuffle(batch_types)
    batch_types = batch_types[:SAMPLED_NEGATIVES]
    label_sets = []
    for pos, neg in zip(positives, negatives):
        ratio = rng.randint(0, settings.max_neg_type_ratio) if settings.max_neg_type_ratio else 0
        if neg is not None:
            negs = list(neg)
        elif pos:
            negs = batch_types[: len(pos) * ratio]
        else:
            negs = batch_types[: max(1, ratio)]
        types = list(dict.fromkeys([*pos, *negs]))
        rng.shuffle(types)
        label_sets.append(tuple(types[: settings.max_types]))
    return label_sets


@dataclass
class TrainingRow:
    """One word window of one example, with the prompts it is scored against and its gold spans.

    `spans` are (start, end inclusive, prompt index) relative to the window; only spans whose start
    lies in [core_start, core_end) are the window's to learn (others belong to a neighbour's core).
    """

    words: Tuple[str, ...]
    prompts: Tuple[str, ...]
    spans: List[Tuple[int, int, int]]
    core_start: int
    core_end: int


def span_targets(output: GlinerOutput, rows: Sequence[TrainingRow]) -> Tuple[torch.Tensor, torch.Tensor]:
    """(targets, mask), both (B, W, K, C): 1.0 at gold (start, width, label) cells; the mask keeps
    spans inside their row and starting in its core, and label slots the row really has."""
    B, W, K, C = output.logits.shape
    targets = torch.zeros((B, W, K, C))
    core = torch.zeros((B, W), dtype=torch.bool)
    for i, row in enumerate(rows):
        core[i, row.core_start : row.core_end] = True
        for start, end, label in row.spans:
            targets[i, start, end - start, label] = 1.0
    mask = span_mask(output.word_lengths, W, K) & core.unsqueeze(-1)
    return targets, mask.unsqueeze(-1) & output.label_mask[:, None, None, :]


def focal_bce_loss(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, settings: TrainingSettings
) -> Tuple[float, torch.Tensor]:
    """The GLiNER loss, as the reference's `focal_loss_with_logits` computes it: binary cross-entropy
    per span x label cell with log-probabilities clamped at `LOG_EPS` (so one badly wrong cell costs
    at most -log(1e-6), as in the reference), times (1 - p_t)^gamma when gamma > 0, times alpha_t
    when alpha >= 0; masked cells count for nothing. Returns the loss and d(loss)/d(logits)."""
    x = logits.detach().float().requires_grad_(True)
    p = torch.sigmoid(x)
    loss = -(targets * torch.log(p.clamp(min=LOG_EPS)) + (1 - targets) * torch.log((1 - p).clamp(min=LOG_EPS)))
    if settings.focal_gamma > 0:
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = loss * (1 - p_t) ** settings.focal_gamma
    if settings.focal_alpha >= 0:
        loss = loss * (settings.focal_alpha * targets + (1 - settings.focal_alpha) * (1 - targets))
    loss = loss * mask
    total = loss.sum()
    if settings.loss_reduction == "mean":
        total = total / mask.sum().clamp(min=1)
    total.backward()
    return float(total.detach()), x.grad.to(logits.dtype)


@registry.batchers("spacy_gliner_biomed.batch_by_length.v1")
def configure_batch_by_length(size: int = 8, buffer: int = 512, get_length=None):
    """Fixed-size batches of similar length: a buffer of `buffer` items is sorted by length, cut into
    batches of `size`, and the batches are yielded in random order. Same examples per step as a
    plain batcher of `size`, far less padding than random batches."""
    if size < 1 or buffer < size:
        raise GlinerError(f"[E037] batch_by_length needs size >= 1 and buffer >= size; got size={size}, buffer={buffer}.")

    def batcher(items: Iterable[Any]) -> Iterator[List[Any]]:
        length = get_length or _example_length
        pending: List[Any] = []
        for item in items:
            pending.append(item)
            if len(pending) >= buffer:
                yield from _sorted_batches(pending, size, length)
                pending = []
        if pending:
            yield from _sorted_batches(pending, size, length)

    return batcher


def _example_length(item: Any) -> int:
    return len(getattr(item, "reference", item))


def _sorted_batches(items: List[Any], size: int, length) -> Iterator[List[Any]]:
    items = sorted(items, key=length)
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    random.shuffle(batches)
    yield from batches
