"""The thinc model is trainable end to end: gradients reach every weight that the forward uses."""
import spacy
import torch

from spacy_gliner_biomed.layers.gliner_model import GlinerInput, get_shim
from spacy_gliner_biomed.layers.span_model import span_mask

from helpers import LABELS, TEXTS


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


def test_initialize_builds_from_a_backbone_and_round_trips(tmp_path, kind):
    """No checkpoint: nlp.initialize() builds a fresh model on the backbone (here a tiny local one)."""
    from helpers import make_tiny_backbone

    backbone = make_tiny_backbone(tmp_path / "backbone", hidden=32, seed=3)
    arch = "UniEncoder" if kind == "uni" else "BiEncoder"
    model = {"@architectures": f"spacy_gliner_biomed.{arch}.v1", "backbone": str(backbone), "hidden_size": 48}
    if kind == "bi":
        model["labels_backbone"] = str(backbone)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"labels": LABELS, "model": model, "threshold": 0.45})
    nlp.initialize()
    config = ner.checkpoint.config
    assert config["hidden_size"] == 48 and bool(config.get("labels_encoder")) == (kind == "bi")
    if kind == "uni":  # <<ENT>>/<<SEP>> appended after the backbone's vocabulary
        tokenizer = ner.checkpoint.featurizer.tokenizer
        assert tokenizer.convert_tokens_to_ids("<<ENT>>") == config["class_token_index"] == 30522
    # the backbone's pretrained weights were kept
    from transformers import AutoModel

    pretrained = AutoModel.from_pretrained(str(backbone)).state_dict()
    ours = ner.checkpoint.model.token_rep_layer.bert_layer.model.state_dict()
    assert torch.equal(ours["encoder.layer.0.attention.self.query.weight"], pretrained["encoder.layer.0.attention.self.query.weight"])
    before = [[(e.start, e.end, e.label_) for e in d.ents] for d in nlp.pipe(TEXTS)]
    assert any(before)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in loaded.pipe(TEXTS)] == before
