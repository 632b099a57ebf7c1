"""Training: the same loss and gradients as the reference, label sampling, length batching."""
import random

import pytest
import spacy
import torch

from spacy_gliner_biomed.layers.gliner_model import GlinerInput
from spacy_gliner_biomed.training import (
    TrainingRow,
    TrainingSettings,
    configure_batch_by_length,
    focal_bce_loss,
    sample_label_sets,
    span_targets,
)

WORDS = [
    "Cisplatin - induced nephrotoxicity was seen in BRCA1 carriers with breast cancer .".split(),
    "Mutations in the CFTR gene cause cystic fibrosis .".split(),
]
# (first word, last word inclusive, label), and each row's label set in prompt order
GOLD = [[(0, 0, "chemical"), (3, 3, "disease"), (7, 7, "gene"), (10, 11, "disease")], [(3, 3, "gene"), (6, 7, "disease")]]
LABEL_SETS = [("disease", "chemical", "gene"), ("gene", "disease")]


def _no_dropout(module):
    """Train mode without randomness (HF attention keeps its dropout rate in a plain attribute)."""
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if hasattr(m, "dropout_prob"):
            m.dropout_prob = 0.0


@pytest.mark.parametrize("alpha,gamma", [(-1.0, 0.0), (0.75, 2.0)])
def test_loss_and_gradients_equal_the_reference(tiny_checkpoints, kind, alpha, gamma):
    """Same checkpoint, same words, same label sets: the reference's training loss and every
    parameter gradient equal ours (our markerV0 is computed in a fused form; the result is the same)."""
    from gliner import GLiNER
    from gliner.data_processing.collator import SpanDataCollator

    label_sets = LABEL_SETS if kind == "uni" else [LABEL_SETS[0]] * 2  # the bi-encoder shares one set
    ref = GLiNER.from_pretrained(str(tiny_checkpoints[kind]))
    _no_dropout(ref.model)
    records = [
        {"tokenized_text": w, "ner": [[s, e, label] for s, e, label in g], "ner_labels": list(labels)}
        for w, g, labels in zip(WORDS, GOLD, label_sets)
    ]
    if kind == "bi":
        for r in records:
            r["ner_label"] = r.pop("ner_labels")
    collator = SpanDataCollator(ref.config, data_processor=ref.data_processor, prepare_labels=True)
    batch = collator(records)
    ref.model.train()
    ref_loss = ref.model(**batch, alpha=alpha, gamma=gamma, reduction="sum").loss
    ref_loss.backward()

    nlp = spacy.blank("en")
    config = {"checkpoint": str(tiny_checkpoints[kind]), "labels": ["disease", "chemical", "gene"]}
    config["training"] = {"focal_alpha": alpha, "focal_gamma": gamma}
    ner = nlp.add_pipe("gliner_biomed", config=config)
    model = ner.checkpoint.model
    _no_dropout(model)
    rows = [
        TrainingRow(tuple(w), labels, [(s, e, labels.index(label)) for s, e, label in g], 0, len(w))
        for w, g, labels in zip(WORDS, GOLD, label_sets)
    ]
    output, backprop = ner.model.begin_update(GlinerInput([r.words for r in rows], [r.prompts for r in rows]))
    loss, d_logits = ner.get_loss(rows, output)
    backprop(d_logits)
    assert loss == pytest.approx(float(ref_loss), rel=1e-4)
    ref_grads = dict(ref.model.named_parameters())
    compared = 0
    for name, param in model.named_parameters():
        ref_grad = ref_grads[name].grad
        if param.grad is None:
            assert ref_grad is None or not ref_grad.any(), name
            continue
        # float rounding of the fused head: compare against the gradient's own scale
        torch.testing.assert_close(param.grad, ref_grad, rtol=1e-3, atol=max(1e-3 * float(ref_grad.abs().max()), 1e-6))
        compared += 1
    assert compared > 20
