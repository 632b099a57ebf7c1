"""From `Example`s to training rows: the word windows a batch trains on, each with the label set it
is prompted with and its gold spans as targets.

Long docs are cut into exactly the windows inference uses (`windows.plan_docs`); a gold span is
the target of the window whose core holds its first word, and the loss masks the spans of other
cores, so no span is learned twice or cut.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from spacy.tokens import Doc
from spacy.training import Example

from ..keys import DATASET_KEY, NEGATIVES_KEY, SYNTHETIC_PREFIX
from ..layers.gliner_model import GlinerOutput
from ..layers.span_model import span_mask
from ..windows import plan_docs
from ..words import DocWords, WordSpan, doc_words
from .sampling import sample_label_sets
from .settings import TrainingSettings


@dataclass
class TrainingRow:
    """One word window of one example, with the prompts it is scored against and its gold spans.

    `spans` are (start, end inclusive, prompt index) relative to the window; only spans whose start
    lies in [core_start, core_end) are the window's to learn (others belong to a neighbour's core).
    `synthetic` rows come from teacher-annotated docs (their negatives may be sampled).
    """

    words: Tuple[str, ...]
    prompts: Tuple[str, ...]
    spans: List[Tuple[int, int, int]]
    core_start: int
    core_end: int
    synthetic: bool = False


def gold_spans(doc: Doc, words: DocWords, spans_key: Optional[str]) -> List[WordSpan]:
    """The gold entities the component learns: doc.spans[spans_key] when it writes spans, else
    doc.ents, as word spans."""
    spans = doc.spans.get(spans_key, []) if spans_key is not None else doc.ents
    return words.spans(spans)


def training_rows(
    examples: Sequence[Example],
    checkpoint,
    descriptions: Dict[str, str],
    settings: TrainingSettings,
    spans_key: Optional[str],
    inventory: Sequence[str] = (),
    teacher_types: Sequence[str] = (),
) -> List[TrainingRow]:
    """Rows for a batch of examples (gold from their reference docs). `descriptions` maps a label
    to the prompt the model reads for it (the label itself if it has none); `inventory` (gold
    labels) and `teacher_types` (labels only synthetic docs have) are the labels negatives may be
    drawn from (`neg_types_from = "inventory"`, `negative_inventories`)."""
    docs = [eg.reference for eg in examples]
    words = [doc_words(doc) for doc in docs]
    gold = [gold_spans(doc, w, spans_key) for doc, w in zip(docs, words)]
    synthetic = [str(doc.user_data.get(DATASET_KEY, "")).startswith(SYNTHETIC_PREFIX) for doc in docs]
    label_sets = sample_label_sets(
        [[label for _, _, label in spans] for spans in gold],
        [doc.user_data.get(NEGATIVES_KEY) for doc in docs],
        settings,
        shared=checkpoint.is_bi_encoder,
        inventories=negative_inventories(docs, settings, inventory, teacher_types),
    )
    prompts = [tuple(descriptions.get(label, label) for label in labels) for labels in label_sets]
    per_doc = window_rows(checkpoint, words, gold, label_sets, prompts, synthetic)
    return [row for rows in per_doc for row in rows]


def negative_inventories(
    docs: Sequence[Doc], settings: TrainingSettings, inventory: Sequence[str], teacher_types: Sequence[str]
) -> List[Sequence[str]]:
    """Per doc, the labels its inventory negatives are drawn from: none for a teacher-annotated doc
    (in-batch sampling), the gold labels for a gold doc, and the teacher's types too for a gold doc
    of a dataset domain in `teacher_negatives_for` (a biomedical type is a true negative in news)."""
    from ..corpora.datasets import dataset_domain  # training only: inference never loads the corpora package

    gold = set(inventory)
    with_teacher = (*inventory, *(t for t in teacher_types if t not in gold))
    pools: List[Sequence[str]] = []
    for doc in docs:
        dataset = str(doc.user_data.get(DATASET_KEY, ""))
        if dataset.startswith(SYNTHETIC_PREFIX):
            pools.append(())
        elif dataset_domain(dataset) in settings.teacher_negatives_for:
            pools.append(with_teacher)
        else:
            pools.append(inventory)
    return pools


def window_rows(
    checkpoint,
    words: Sequence[DocWords],
    gold: Sequence[Sequence[WordSpan]],
    label_sets: Sequence[Sequence[str]],
    prompts: Sequence[Tuple[str, ...]],
    synthetic: Sequence[bool],
) -> List[List[TrainingRow]]:
    """Per doc, its windows as rows: the doc's label set (prompted as `prompts`) and the gold spans
    of each window's core as targets. A doc without labels has no rows."""
    active = [w if labels else DocWords((), (), None) for w, labels in zip(words, label_sets)]
    planned = plan_docs(checkpoint.featurizer, active, prompts, max_len=checkpoint.max_len, max_width=checkpoint.max_width)
    max_width = checkpoint.max_width
    out: List[List[TrainingRow]] = []
    for spans, labels, doc_prompts, w, windows, is_synthetic in zip(gold, label_sets, prompts, words, planned, synthetic):
        slot = {label: c for c, label in enumerate(labels)}
        rows: List[TrainingRow] = []
        for win in windows:
            targets = [
                (start - win.start, end - win.start, slot[label])
                for start, end, label in spans
                if label in slot and win.core_start <= start < win.core_end and end - start < max_width
            ]
            rows.append(
                TrainingRow(
                    w.words[win.start : win.end], doc_prompts, targets, win.core_start - win.start, win.core_end - win.start, is_synthetic
                )
            )
        out.append(rows)
    return out


def span_targets(
    output: GlinerOutput, rows: Sequence[TrainingRow], synthetic_negative_rate: float = 1.0
) -> Tuple[torch.Tensor, torch.Tensor]:
    """(targets, mask), both (B, W, K, C) on the logits' device: 1.0 at gold (start, width, label)
    cells; the mask keeps spans inside their row and starting in its core, and label slots the row
    really has. In synthetic rows, each cell of a span the teacher did not annotate is kept with
    probability `synthetic_negative_rate` (torch's seeded generator, so a seeded run repeats)."""
    B, W, K, C = output.logits.shape
    targets = torch.zeros((B, W, K, C))
    core = torch.zeros((B, W), dtype=torch.bool)
    for i, row in enumerate(rows):
        core[i, row.core_start : row.core_end] = True
        for start, end, label in row.spans:
            targets[i, start, end - start, label] = 1.0
    device = output.logits.device
    mask = span_mask(output.word_lengths, W, K, device) & core.to(device).unsqueeze(-1)
    mask = mask.unsqueeze(-1) & output.label_mask[:, None, None, :]
    synthetic = torch.tensor([row.synthetic for row in rows], dtype=torch.bool)
    if synthetic_negative_rate < 1.0 and bool(synthetic.any()):
        # cells of an annotated span are all kept (its other types are what teaches the model to tell
        # types apart); only spans the teacher left unannotated, where it may have missed a
        # mention, have their cells sampled
        annotated = targets.amax(dim=-1, keepdim=True) > 0
        kept = (torch.rand((B, W, K, C)) < synthetic_negative_rate) | annotated | ~synthetic[:, None, None, None]
        mask = mask & kept.to(device)
    return targets.to(device), mask
