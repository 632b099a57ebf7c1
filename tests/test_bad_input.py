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


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uni", "bi"])
def test_n_process_2_gives_the_same_output(tiny_checkpoints, kind):
    script = f"""
import json, spacy
nlp = spacy.blank("en")
nlp.add_pipe("gliner_biomed", config={{"checkpoint": {str(tiny_checkpoints[kind])!r}, "labels": {LABELS!r}, "threshold": 0.3}})
texts = {TEXTS!r} * 3
one = [[(e.start, e.end, e.label_, round(e._.score, 5)) for e in d.ents] for d in nlp.pipe(texts)]
two = [[(e.start, e.end, e.label_, round(e._.score, 5)) for e in d.ents] for d in nlp.pipe(texts, n_process=2, batch_size=4)]
print(json.dumps([one == two, sum(map(len, one))]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    same, n = json.loads(out.stdout.strip().splitlines()[-1])
    assert same and n > 0


# One spaCy token of 5,000 sub-tokens: the MiniLM WordPiece tokenizer splits every dot off.
DOTS = "." * 5000


def test_a_run_of_dots_is_one_token_of_thousands_of_subtokens(tiny_checkpoints):
    """Preconditions of the tests below: spaCy keeps the run whole, the tokenizer does not."""
    from spacy_gliner_biomed.checkpoint import load_checkpoint

    doc = spacy.blank("en").make_doc(f"See {DOTS} .")
    assert [t.text for t in doc] == ["See", DOTS, "."]
    tokenizer = load_checkpoint(tiny_checkpoints["uni"]).featurizer.tokenizer
    assert len(tokenizer(DOTS, add_special_tokens=False)["input_ids"]) == 5000


def test_featurizer_caps_a_pathological_word(tiny_checkpoints):
    from spacy_gliner_biomed.checkpoint import load_checkpoint
    from spacy_gliner_biomed.layers.featurize import MAX_WORD_SUBTOKENS

    featurizer = load_checkpoint(tiny_checkpoints["uni"]).featurizer
    words = ["Aspirin", DOTS, "nephrotoxicity", "."]
    natural = [len(featurizer.tokenizer(w, add_special_tokens=False)["input_ids"]) for w in words]
    assert natural[1] == 5000 and natural[2] > 1
    with pytest.warns(UserWarning, match="W002") as record:
        counts = featurizer.subtoken_counts([words, ["fine"], words])
    assert counts == [
        [natural[0], MAX_WORD_SUBTOKENS, natural[2], natural[3]],
        [1],
        [natural[0], MAX_WORD_SUBTOKENS, natural[2], natural[3]],
    ]
    assert len([w for w in record if "W002" in str(w.message)]) == 1
    # the model input holds the capped word, and the words after it are read at their own sub-tokens
    prompts = tuple(LABELS)
    batch = featurizer.encode([words], [prompts])
    assert batch.input_ids.shape[1] == featurizer.prompt_cost(prompts) + sum(counts[0])
    ids = batch.input_ids[0].tolist()
    positions = batch.word_token_index[0].tolist()
    assert positions[2] - positions[1] == MAX_WORD_SUBTOKENS
    assert ids[positions[2]] == featurizer.tokenizer(words[2], add_special_tokens=False)["input_ids"][0]
    assert ids[positions[3]] == featurizer.tokenizer(".", add_special_tokens=False)["input_ids"][0]


def test_pathological_token_in_a_batch(tiny_checkpoints):
    """A doc with a 5,000-dot token in a `nlp.pipe` batch: nothing fails, the other docs get what
    they get without it, the doc's other sentences get what they get without the token, and W002
    is emitted once. Each sentence is its own window (sentencizer first, max_len the longest
    sentence, no two neighbours fitting together), so the token changes no other sentence's
    context."""
    import warnings

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ner = add(nlp, tiny_checkpoints["uni"], threshold=0.3)
    first, second = TEXTS[1], TEXTS[3]
    bad_text = f"{first} See {DOTS} . {second}"
    clean_text = f"{first} {second}"
    n_first = len(nlp.make_doc(first))
    n_bad = 3  # "See", the dots, "."
    ner.checkpoint.config["max_len"] = max(n_first, len(nlp.make_doc(second)))
    assert n_first + n_bad > ner.checkpoint.max_len and n_bad + len(nlp.make_doc(second)) > ner.checkpoint.max_len

    def key(doc):
        return [(e.start, e.end, e.label_) for e in doc.ents], [e._.score for e in doc.ents]

    others = [TEXTS[0], TEXTS[2], TEXTS[4]]
    clean = key(nlp(clean_text))
    expected_others = [key(d) for d in nlp.pipe(others)]
    assert clean[0] and all(k for k, _ in expected_others[:2])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        docs = list(nlp.pipe([others[0], bad_text, others[1], bad_text, others[2]], batch_size=5))
    assert len([w for w in record if "W002" in str(w.message)]) == 1
    for doc, (spans, scores) in zip([docs[0], docs[2], docs[4]], expected_others):
        assert key(doc)[0] == spans
        assert key(doc)[1] == pytest.approx(scores, abs=1e-5)
    for doc in (docs[1], docs[3]):
        assert len(list(doc.sents)) == 3 and doc[n_first + 1].text == DOTS
        spans, scores = key(doc)
        kept = [(i, (s, e, label)) for i, (s, e, label) in enumerate(spans) if not n_first <= s < n_first + n_bad]
        shifted = [(s - n_bad if s >= n_first else s, e - n_bad if s >= n_first else e, label) for _, (s, e, label) in kept]
        assert shifted == clean[0]
        assert [scores[i] for i, _ in kept] == pytest.approx(clean[1], abs=1e-5)
        assert any(s >= n_first + n_bad for s, _, _ in spans)  # entities after the token too


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_safetensors_file(tiny_checkpoints, tmp_path, damage):
    from spacy_gliner_biomed.checkpoint import load_checkpoint, save_checkpoint

    folder = save_checkpoint(load_checkpoint(tiny_checkpoints["uni"]), tmp_path / "saved")
    weights_file = folder / "model.safetensors"
    assert weights_file.is_file() and not (folder / "pytorch_model.bin").exists()
    load_checkpoint(folder)  # sound before the damage
    data = weights_file.read_bytes()
    weights_file.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\xff" * 64 + data[64:])
    with pytest.raises(GlinerError, match="E016") as err:
        load_checkpoint(folder)
    assert str(weights_file) in str(err.value)
    with pytest.raises(GlinerError, match="E016"):
        add(spacy.blank("en"), folder)


def test_safetensors_with_a_wrong_tensor_shape(tiny_checkpoints, tmp_path):
    from safetensors.torch import load_file, save_file

    from spacy_gliner_biomed.checkpoint import load_checkpoint, save_checkpoint

    folder = save_checkpoint(load_checkpoint(tiny_checkpoints["uni"]), tmp_path / "saved")
    weights_file = folder / "model.safetensors"
    weights = load_file(str(weights_file))
    name = "prompt_rep_layer.0.weight"
    original = tuple(weights[name].shape)
    weights[name] = torch.zeros(original[0] + 1, original[1])
    save_file(weights, str(weights_file))
    with pytest.raises(GlinerError, match=r"E015(.|\n)*Shape mismatches \(1\): prompt_rep_layer\.0\.weight") as err:
        load_checkpoint(folder)
    assert str(folder) in str(err.value) and str(original) in str(err.value)
