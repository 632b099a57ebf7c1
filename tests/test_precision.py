"""Fast inference paths (runtime x precision): each runs on a copy; the fp32 torch model, saving
and the parity path are untouched."""
import pytest
import spacy
import torch
from thinc.api import Adam

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.layers.gliner_model import GlinerInput, get_shim

from helpers import LABELS, TEXTS



def _nlp(checkpoint, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS, "threshold": 0.3, **config})
    return nlp


def _probabilities(ner):
    words = [t.split() for t in TEXTS]
    output = ner.model.predict(GlinerInput(words, [tuple(LABELS)] * len(words)))
    return torch.sigmoid(output.logits)


def _ents(nlp):
    return [[(e.start, e.end, e.label_, round(e._.score, 4)) for e in d.ents] for d in nlp.pipe(TEXTS)]


def test_int8_quantises_a_copy_and_stays_close(tiny_checkpoints, kind):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    nlp = _nlp(tiny_checkpoints[kind])
    ner = nlp.get_pipe("gliner_biomed")
    before = {k: v.clone() for k, v in ner.checkpoint.model.state_dict().items()}
    fp32 = _probabilities(ner)
    ner.precision = "int8"
    int8 = _probabilities(ner)
    quantized = get_shim(ner.model).inference_model()
    modules = list(quantized.token_rep_layer.modules())
    assert not any(type(m) is torch.nn.Linear for m in modules)  # every encoder Linear is int8
    assert sum(isinstance(m, DynamicLinear) for m in modules) >= 6
    head = quantized.span_rep_layer.span_rep_layer  # the per-word span FFNs are int8; out_project is read as slices
    assert [type(m) for m in head.project_start if not isinstance(m, (torch.nn.ReLU, torch.nn.Dropout))] == [DynamicLinear] * 2
    assert [type(m) for m in head.project_end if not isinstance(m, (torch.nn.ReLU, torch.nn.Dropout))] == [DynamicLinear] * 2
    assert type(head.out_project[0]) is torch.nn.Linear
    assert quantized is not ner.checkpoint.model
    # the fp32 model is left exactly as it was: training, export and saving read it
    after = ner.checkpoint.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not torch.equal(fp32, int8)  # it does run the quantised kernels
    error = (fp32 - int8).abs()
    assert error.mean().item() < 0.02 and error.max().item() < 0.2  # the real cost is measured as F1 (README)
    ner.precision = "fp32"
    assert torch.equal(_probabilities(ner), fp32)  # back to the exact path


def test_onnxruntime_matches_torch(tiny_checkpoints, kind):
    pytest.importorskip("onnxruntime")
    nlp = _nlp(tiny_checkpoints[kind])
    ner = nlp.get_pipe("gliner_biomed")
    fp32 = _probabilities(ner)
    expected = _ents(nlp)
    ner.runtime = "onnxruntime"
    fast = get_shim(ner.model).inference_model()
    assert type(fast.token_rep_layer.bert_layer).__name__ == "OrtBackbone"
    assert (fp32 - _probabilities(ner)).abs().max().item() < 1e-4  # the same function, other kernels
    assert _ents(nlp) == expected
    ner.precision = "int8"  # ONNX Runtime's own dynamic quantisation of the exported encoder
    assert (fp32 - _probabilities(ner)).abs().mean().item() < 0.02


def test_fast_settings_are_saved_and_reload_identically(tiny_checkpoints, tmp_path):
    nlp = _nlp(tiny_checkpoints["uni"], precision="int8")
    assert nlp.config["components"]["gliner_biomed"]["precision"] == "int8"
    assert nlp.config["components"]["gliner_biomed"]["runtime"] == "torch"
    expected = _ents(nlp)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("gliner_biomed").precision == "int8"
    assert _ents(loaded) == expected
    # the saved weights are the fp32 ones: an fp32 reload predicts as the original fp32 component
    fp32 = spacy.load(tmp_path / "p", config={"components": {"gliner_biomed": {"precision": "fp32"}}})
    assert _ents(fp32) == _ents(_nlp(tiny_checkpoints["uni"]))


def test_an_update_rebuilds_the_fast_copy(tiny_checkpoints):
    nlp = _nlp(tiny_checkpoints["uni"], precision="int8")
    ner = nlp.get_pipe("gliner_biomed")
    first = get_shim(ner.model).inference_model()
    words = [t.split() for t in TEXTS]
    output, backprop = ner.model.begin_update(GlinerInput(words, [tuple(LABELS)] * len(words)))
    backprop(torch.ones_like(output.logits))
    ner.model.finish_update(Adam(0.01))
    assert get_shim(ner.model).inference_model() is not first


def test_bad_inference_settings(tiny_checkpoints):
    with pytest.raises(GlinerError, match="E191"):
        _nlp(tiny_checkpoints["uni"], precision="fp8")
    with pytest.raises(GlinerError, match="E193"):
        _nlp(tiny_checkpoints["uni"], runtime="tensorrt")
    nlp = _nlp(tiny_checkpoints["uni"])
    ner = nlp.get_pipe("gliner_biomed")
    get_shim(ner.model).to_device("meta", -1)
    with pytest.raises(GlinerError, match="E192"):
        ner.precision = "int8"
