"""Parity with the reference `gliner` package on the same checkpoint and the same words.

Span probabilities must agree within 1e-4 and decoded entities must be identical (same char
offsets, labels, and scores within 1e-4), for the uni- and the bi-encoder, flat and nested.
"""
import pytest
import spacy
import torch
from spacy.tokens import Doc

from spacy_gliner_biomed.layers.gliner_model import GlinerInput

from helpers import LABELS, TEXTS


@pytest.fixture(scope="module")
def references(tiny_checkpoints):
    from gliner import GLiNER

    return {kind: GLiNER.from_pretrained(str(path)) for kind, path in tiny_checkpoints.items()}


def reference_words(ref, text):
    return [w for w, _, _ in ref.data_processor.words_splitter(text)]


def reference_doc(nlp, ref, text) -> Doc:
    """A Doc whose tokens are exactly the reference's words, with the original spacing."""
    pieces = list(ref.data_processor.words_splitter(text))
    words = [w for w, _, _ in pieces]
    spaces = [end < len(text) and text[end] == " " for _, _, end in pieces]
    return Doc(nlp.vocab, words=words, spaces=spaces)


def reference_probs(ref, words_batch, labels):
    batch = ref.collate_batch(ref.prepare_base_input(words_batch), labels)
    return torch.sigmoid(ref.run_batch(batch).logits)


def our_probs(ner, words_batch, labels):
    output = ner.model.predict(GlinerInput(words_batch, [tuple(labels)] * len(words_batch)))
    return torch.sigmoid(output.logits)


def test_span_probabilities_match_reference(tiny_checkpoints, references, kind):
    ref = references[kind]
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS})
    words_batch = [reference_words(ref, t) for t in TEXTS]
    expected = reference_probs(ref, words_batch, LABELS)
    got = our_probs(ner, words_batch, LABELS)
    n_compared = 0
    for i, words in enumerate(words_batch):
        for start in range(len(words)):
            for width in range(min(12, len(words) - start)):
                diff = (expected[i, start, width] - got[i, start, width]).abs().max().item()
                assert diff < 1e-4, (i, start, width, diff)
                n_compared += 1
    assert n_compared > 250
    # the probabilities are spread out, so the comparison means something
    assert expected.min() < 0.2 and expected.max() > 0.8


@pytest.mark.parametrize("flat_ner,multi_label,threshold", [(True, False, 0.5), (False, False, 0.5), (False, True, 0.6), (True, False, 0.3)])
def test_entities_match_reference(tiny_checkpoints, references, kind, flat_ner, multi_label, threshold):
    ref = references[kind]
    nlp = spacy.blank("en")
    config = {"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS, "threshold": threshold}
    if not flat_ner or multi_label:
        config.update(spans_key="sc", flat_ner=flat_ner, multi_label=multi_label)
    ner = nlp.add_pipe("gliner_biomed", config=config)
    expected = ref.inference(TEXTS, LABELS, flat_ner=flat_ner, threshold=threshold, multi_label=multi_label, batch_size=4)
    docs = [reference_doc(nlp, ref, t) for t in TEXTS]
    docs = list(ner.pipe(docs, batch_size=3))
    n_entities = 0
    for doc, exp in zip(docs, expected):
        spans = list(doc.ents) if config.get("spans_key") is None else list(doc.spans["sc"])
        got = [(s.start_char, s.end_char, s.label_) for s in spans]
        want = [(e["start"], e["end"], e["label"]) for e in exp]
        assert sorted(got) == sorted(want)
        for span, e in zip(sorted(spans, key=lambda s: (s.start_char, s.end_char, s.label_)),
                           sorted(exp, key=lambda e: (e["start"], e["end"], e["label"]))):
            assert span._.score == pytest.approx(e["score"], abs=1e-4)
        n_entities += len(want)
    assert n_entities > 0


def test_label_descriptions_match_reference(tiny_checkpoints, references, kind):
    """{label: description}: the model reads the description, spaCy writes the label."""
    ref = references[kind]
    described = {"DIS": "disease", "CHEM": "chemical", "GENE": "gene or gene product"}
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": described, "threshold": 0.3})
    expected = ref.inference(TEXTS, described, threshold=0.3)
    docs = [nlp(reference_doc(nlp, ref, t)) for t in TEXTS]
    got = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
    want = [[(e["start"], e["end"], e["label"]) for e in exp] for exp in expected]
    assert got == want
    assert any(got) and {label for row in got for *_, label in row} <= set(described)


@pytest.mark.slow
def test_parity_on_real_minilm_backbone(tmp_path_factory, minilm_dir, kind):
    """Once on the real MiniLM-L6 backbone (random GLiNER heads), as the users' models are."""
    from gliner import GLiNER, GLiNERConfig

    torch.manual_seed(0)
    kwargs = dict(model_name=str(minilm_dir), span_mode="markerV0", max_width=12, hidden_size=384, dropout=0.1)
    if kind == "bi":
        kwargs["labels_encoder"] = str(minilm_dir)
    ref = GLiNER.from_config(GLiNERConfig(**kwargs))
    path = tmp_path_factory.mktemp(f"minilm-{kind}")
    ref.save_pretrained(path)
    ref = GLiNER.from_pretrained(str(path))
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(path), "labels": LABELS})
    words_batch = [reference_words(ref, t) for t in TEXTS]
    expected = reference_probs(ref, words_batch, LABELS)
    got = our_probs(ner, words_batch, LABELS)
    for i, words in enumerate(words_batch):
        n = len(words)
        for width in range(12):
            if n - width > 0:
                assert torch.allclose(expected[i, : n - width, width], got[i, : n - width, width], atol=1e-4)
