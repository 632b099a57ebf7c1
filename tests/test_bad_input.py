"""Bad input gets correct output or a clear, named error; never a crash deep in torch, never lost output."""
import json
import subprocess
import sys

import pytest
import spacy
import torch

from spacy_gliner_biomed.errors import GlinerError

from helpers import LABELS, TEXTS


def add(nlp, checkpoint, **config):
    return nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS, **config})


@pytest.fixture
def nlp_uni(tiny_checkpoints):
    nlp = spacy.blank("en")
    add(nlp, tiny_checkpoints["uni"], threshold=0.3)
    return nlp


@pytest.mark.parametrize("text", ["", " ", "   \n\t  \n"])
def test_empty_and_whitespace_docs(nlp_uni, text):
    docs = list(nlp_uni.pipe([text, TEXTS[0], text]))
    assert docs[0].ents == () and docs[2].ents == ()
    expected = [(e.start, e.end, e.label_) for e in nlp_uni(TEXTS[0]).ents]
    assert [(e.start, e.end, e.label_) for e in docs[1].ents] == expected and expected


def test_no_labels(tiny_checkpoints):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"])})
    with pytest.raises(GlinerError, match=r"E001.*No entity labels"):
        nlp("Aspirin.")


@pytest.mark.parametrize(
    "labels,code",
    [
        (["disease", "disease"], "E003"),
        (["disease", ""], "E002"),
        (["disease", "   "], "E002"),
        (["disease", 3], "E002"),
        ({"A": "disease", "B": "disease"}, "E004"),
        ("disease", "E005"),
    ],
)
def test_bad_labels(tiny_checkpoints, labels, code):
    nlp = spacy.blank("en")
    # non-strings are already refused by spaCy's config validation, which names the value
    with pytest.raises(Exception, match=rf"{code}|3 is not <class 'str'>"):
        nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": labels})
    ner = add(spacy.blank("en"), tiny_checkpoints["uni"])
    if code != "E005":
        with pytest.raises(GlinerError, match=code):
            ner.labels = labels


@pytest.mark.parametrize("config,code", [({"threshold": 1.5}, "E006"), ({"label_thresholds": {"gene": 0.5}}, "E007"),
                                         ({"label_thresholds": {"disease": -1}}, "E006"), ({"windows_per_forward": 0}, "E008")])
def test_bad_thresholds_and_sizes(tiny_checkpoints, config, code):
    with pytest.raises(GlinerError, match=code):
        add(spacy.blank("en"), tiny_checkpoints["uni"], **config)


def test_unknown_checkpoint_folder_is_named_on_use(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tmp_path / "missing"), "labels": LABELS})
    with pytest.raises(GlinerError, match=r"E020.*missing"):
        nlp("Aspirin.")
    with pytest.raises(GlinerError, match="E020"):
        nlp.initialize()


def test_folder_without_gliner_config(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(GlinerError, match="E011"):
        add(spacy.blank("en"), tmp_path / "empty")


@pytest.mark.parametrize("field,value", [("span_mode", "marker"), ("span_mode", "token_level"),
                                         ("post_fusion_schema", "l2l-l2t"), ("subtoken_pooling", "mean"),
                                         ("labels_decoder", "gpt2")])
def test_unsupported_model_variants(checkpoint_copy, field, value):
    config_file = checkpoint_copy / "gliner_config.json"
    config = json.loads(config_file.read_text())
    config[field] = value
    config_file.write_text(json.dumps(config))
    with pytest.raises(GlinerError, match=rf"E013.*{field}"):
        add(spacy.blank("en"), checkpoint_copy)


def test_weights_that_do_not_match_the_config(checkpoint_copy):
    config_file = checkpoint_copy / "gliner_config.json"
    config = json.loads(config_file.read_text())
    config["hidden_size"] = 64
    config_file.write_text(json.dumps(config))
    with pytest.raises(GlinerError, match=r"E015(.|\n)*Shape mismatches \([1-9]"):
        add(spacy.blank("en"), checkpoint_copy)


def test_missing_and_unexpected_weights(checkpoint_copy):
    weights_file = checkpoint_copy / "pytorch_model.bin"
    weights = torch.load(weights_file, weights_only=True)
    weights.pop("prompt_rep_layer.0.weight")
    weights["extra.layer.weight"] = torch.zeros(2)
    torch.save(weights, weights_file)
    with pytest.raises(GlinerError, match=r"E015(.|\n)*prompt_rep_layer\.0\.weight(.|\n)*extra\.layer\.weight"):
        add(spacy.blank("en"), checkpoint_copy)


def test_corrupt_weights_file(checkpoint_copy):
    weights_file = checkpoint_copy / "pytorch_model.bin"
    weights_file.write_bytes(weights_file.read_bytes()[:1000])
    with pytest.raises(GlinerError, match="E016"):
        add(spacy.blank("en"), checkpoint_copy)


def test_no_weights_file(checkpoint_copy):
    (checkpoint_copy / "pytorch_model.bin").unlink()
    with pytest.raises(GlinerError, match="E014"):
        add(spacy.blank("en"), checkpoint_copy)


def test_label_prompt_longer_than_the_model(tiny_checkpoints):
    ner = add(spacy.blank("en"), tiny_checkpoints["uni"])
    ner.labels = [f"entity type number {i}" for i in range(200)]
    with pytest.raises(GlinerError, match="E024"):
        ner(spacy.blank("en").make_doc("Aspirin."))


def test_absurdly_long_word_is_processed(nlp_uni):
    """WordPiece maps a 3000-character word to [UNK]; the doc is processed like any other.
    (A word whose sub-tokens alone overflow the window is an E023 error: tests/test_windows.py.)"""
    doc = nlp_uni("Aspirin " + "x" * 3000 + " helps with cystic fibrosis.")
    assert doc.ents and doc.ents[-1].end_char > 3000


def test_100k_word_document(tiny_checkpoints):
    """Processed in windows to the very end: nothing truncated, entities from the last sentences."""
    nlp = spacy.blank("en")
    add(nlp, tiny_checkpoints["bi"], threshold=0.3)
    unit = " ".join(TEXTS)
    n_words_unit = len(nlp.make_doc(unit))
    doc = nlp(" ".join([unit] * (100_000 // n_words_unit + 1)))
    assert len(doc) >= 100_000
    assert len(doc.ents) > 1000
    last = nlp(unit)
    tail = [(e.start - (len(doc) - len(last)), e.label_) for e in doc.ents if e.start >= len(doc) - len(last) + 20]
    assert tail  # the end of the document has entities
    assert doc.ents[-1].end > len(doc) - 15


def test_n_process_2_gives_the_same_output(tiny_checkpoints):
    script = f"""
import json, spacy
nlp = spacy.blank("en")
nlp.add_pipe("gliner_biomed", config={{"checkpoint": {str(tiny_checkpoints['uni'])!r}, "labels": {LABELS!r}, "threshold": 0.3}})
texts = {TEXTS!r} * 3
one = [[(e.start, e.end, e.label_, round(e._.score, 5)) for e in d.ents] for d in nlp.pipe(texts)]
two = [[(e.start, e.end, e.label_, round(e._.score, 5)) for e in d.ents] for d in nlp.pipe(texts, n_process=2, batch_size=4)]
print(json.dumps([one == two, sum(map(len, one))]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    same, n = json.loads(out.stdout.strip().splitlines()[-1])
    assert same and n > 0
