"""Device plumbing, checked on the CPU with torch's `meta` device: weights, inputs, outputs, gradients,
optimizer state and training targets all end up on the model's device, so that `spacy train
--gpu-id 0` / `spacy.require_gpu()` really run on a GPU. Meta tensors have shapes but no data, so
a forward pass that moved any input to the wrong device, or built one on the CPU, fails here.

Two things meta cannot run are replaced: Hugging Face's SDPA attention-mask shortcut (it reads a
value, so the encoders use their eager attention, same maths) and the uni-encoder's BiLSTM, whose
packing reads the lengths on the CPU (they stay there by design: `EncodedBatch.word_lengths`).
"""
import pytest
import spacy
import torch
from thinc.api import Adam

from spacy_gliner_biomed.layers.gliner_model import GlinerInput, get_shim
from spacy_gliner_biomed.training.rows import TrainingRow, span_targets

from helpers import LABELS, TEXTS


def _eager_attention(module: torch.nn.Module) -> None:
    for m in module.modules():
        config = getattr(m, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            config._attn_implementation = "eager"
        if hasattr(m, "attn_implementation"):
            m.attn_implementation = "eager"


@pytest.fixture
def on_meta(tiny_checkpoints, kind, monkeypatch):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS})
    model = ner.checkpoint.model
    _eager_attention(model)
    if hasattr(model, "rnn"):
        monkeypatch.setattr(model.rnn, "forward", lambda words, lengths: words)
    get_shim(ner.model).to_device("meta", -1)
    return ner


def test_to_device_moves_every_weight_and_the_shim_reports_it(on_meta):
    shim = get_shim(on_meta.model)
    assert shim.device.type == "meta"
    assert {p.device.type for p in on_meta.checkpoint.model.parameters()} == {"meta"}
    assert {b.device.type for b in on_meta.checkpoint.model.buffers()} <= {"meta"}


def test_forward_backward_and_optimizer_step_run_on_the_models_device(on_meta):
    words = [t.split() for t in TEXTS]
    prompts = [tuple(LABELS), tuple(LABELS[:2]), (LABELS[2],), tuple(LABELS), (LABELS[0],), tuple(LABELS[1:])]
    if on_meta.checkpoint.is_bi_encoder:
        prompts = [tuple(LABELS)] * len(words)
    output = on_meta.model.predict(GlinerInput(words, prompts))
    assert output.logits.device.type == "meta" and output.label_mask.device.type == "meta"
    assert output.word_lengths.device.type == "cpu"  # read by the LSTM packing, on purpose
    output, backprop = on_meta.model.begin_update(GlinerInput(words, prompts))
    rows = [TrainingRow(tuple(w), p, [(0, 0, 0)], 0, len(w)) for w, p in zip(words, prompts)]
    targets, mask = span_targets(output, rows)
    assert targets.device.type == mask.device.type == "meta"
    assert targets.shape == mask.shape == output.logits.shape
    backprop(torch.ones_like(output.logits))
    grads = [p.grad for p in on_meta.checkpoint.model.parameters() if p.grad is not None]
    assert grads and {g.device.type for g in grads} == {"meta"}
    on_meta.finish_update(Adam(0.001, grad_clip=0.0, use_averages=False))  # the fused Adam path
    assert {p.device.type for p in on_meta.checkpoint.model.parameters()} == {"meta"}
    assert all(p.grad is None for p in on_meta.checkpoint.model.parameters())


def test_a_checkpoint_set_later_follows_the_device(on_meta, tiny_checkpoints, kind):
    from spacy_gliner_biomed.checkpoint import load_checkpoint

    shim = get_shim(on_meta.model)
    shim.set_checkpoint(load_checkpoint(tiny_checkpoints[kind]))  # loaded on the CPU, as from disk
    assert {p.device.type for p in on_meta.checkpoint.model.parameters()} == {"meta"}


def test_the_default_device_is_thincs_current_one(tiny_checkpoints, monkeypatch):
    """`spacy.require_gpu()` makes thinc's default torch device a GPU; a pipeline made afterwards
    puts its model there. Simulated: thinc's default device reports `meta`."""
    import spacy_gliner_biomed.layers.shim as shim_module

    monkeypatch.setattr(shim_module, "get_torch_default_device", lambda: torch.device("meta"))
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["bi"]), "labels": LABELS})
    assert {p.device.type for p in ner.checkpoint.model.parameters()} == {"meta"}
