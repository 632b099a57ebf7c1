"""The thinc model is trainable end to end: gradients reach every weight that the forward uses."""
import spacy
import torch

from spacy_gliner_biomed.layers.gliner_model import GlinerInput, get_shim
from spacy_gliner_biomed.layers.span_model import span_mask

from conftest import LABELS, TEXTS


def test_begin_update_backpropagates_to_encoder_and_heads(tiny_checkpoints, kind):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS})
    words = [t.split() for t in TEXTS]
    # per-example label sets, as training batches have them
    prompts = [tuple(LABELS), tuple(LABELS[:2]), tuple(LABELS[1:]), (LABELS[0],), tuple(LABELS), (LABELS[2],)]
    output, backprop = ner.model.begin_update(GlinerInput(words, prompts))
    mask = span_mask(output.word_lengths, output.logits.size(1), output.logits.size(2)).unsqueeze(-1) & output.label_mask[:, None, None, :]
    target = torch.zeros_like(output.logits)
    target[0, 0, 0, 0] = 1.0
    d_logits = (torch.sigmoid(output.logits) - target) * mask
    backprop(d_logits)
    torch_model = get_shim(ner.model).checkpoint.model
    unused = {"rnn."} if kind == "bi" else {"token_rep_layer.labels_"}
    for name, param in torch_model.named_parameters():
        if any(name.startswith(prefix) for prefix in unused) or "pooler" in name:
            continue
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    # label slots a row does not have get no score gradient
    assert not output.label_mask[3, 1:].any()
