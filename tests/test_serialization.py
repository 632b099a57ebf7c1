"""Round trips: nlp.to_disk / spacy.load (fresh process, offline, checkpoint gone), bytes, GLiNER export."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import spacy
import torch

from spacy_gliner_biomed.checkpoint import load_checkpoint
from spacy_gliner_biomed.layers.gliner_model import GlinerInput

from helpers import LABELS, TEXTS

PREDICT = textwrap.dedent(
    """
    import json, sys, spacy
    nlp = spacy.load(sys.argv[1])
    texts = json.loads(sys.argv[2])
    out = [[(e.start_char, e.end_char, e.label_, e._.score) for e in d.ents] for d in nlp.pipe(texts)]
    print(json.dumps(out))
    """
)


def predictions(nlp):
    return [[(e.start_char, e.end_char, e.label_, e._.score) for e in d.ents] for d in nlp.pipe(TEXTS)]


@pytest.mark.slow
def test_to_disk_load_in_fresh_offline_process_without_checkpoint(checkpoint_copy, tmp_path):
    nlp = spacy.blank("en")
    described = {"DISEASE": "disease", "CHEMICAL": "chemical", "GENE": "gene or gene product"}
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint_copy), "labels": described, "threshold": 0.3})
    expected = predictions(nlp)
    assert any(expected)
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(checkpoint_copy)
    files = sorted(p.name for p in (tmp_path / "pipeline" / "gliner_biomed").iterdir())
    assert files == ["cfg", "model"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "no-hf-home")}
    result = subprocess.run(
        [sys.executable, "-c", PREDICT, str(tmp_path / "pipeline"), json.dumps(TEXTS)],
        capture_output=True, text=True, env=env, check=True,
    )
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert [[tuple(e[:3]) for e in doc] for doc in got] == [[tuple(e[:3]) for e in doc] for doc in expected]
    assert [e[3] for doc in got for e in doc] == pytest.approx([e[3] for doc in expected for e in doc], abs=1e-6)


def test_to_bytes_round_trip(tiny_checkpoints, kind):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS, "threshold": 0.3})
    expected = predictions(nlp)
    other = spacy.blank("en")
    other.add_pipe("gliner_biomed", config={"labels": ["placeholder"]})
    other.from_bytes(nlp.to_bytes())
    assert other.get_pipe("gliner_biomed").labels == tuple(LABELS)
    assert predictions(other) == expected


def test_pipeline_saved_without_weights_names_its_missing_checkpoint_on_use(tmp_path):
    """A pipeline whose checkpoint folder never existed saves (it has no weights to save), loads,
    and says on first use which folder it lacks, not a crash deep in the model."""
    from spacy_gliner_biomed.errors import GlinerError

    nowhere = tmp_path / "never-existed"
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(nowhere), "labels": LABELS})
    nlp.to_disk(tmp_path / "pipeline")
    assert not nowhere.exists()
    loaded = spacy.load(tmp_path / "pipeline")
    ner = loaded.get_pipe("gliner_biomed")
    assert ner.labels == tuple(LABELS) and ner.cfg["checkpoint"] == str(nowhere)
    with pytest.raises(GlinerError, match="E020") as err:
        loaded("Aspirin.")
    assert str(nowhere) in str(err.value)
    with pytest.raises(GlinerError, match="E020"):
        list(loaded.pipe(["Aspirin.", "Cisplatin."]))


def test_pipeline_saved_without_weights_uses_its_checkpoint_once_it_exists(tiny_checkpoints, tmp_path):
    """The folder appears after the save: loading takes its weights, and the saved model (which has
    none) does not erase them."""
    target = tmp_path / "later"
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(target), "labels": LABELS, "threshold": 0.3})
    nlp.to_disk(tmp_path / "pipeline")
    shutil.copytree(tiny_checkpoints["uni"], target)
    direct = spacy.blank("en")
    direct.add_pipe("gliner_biomed", config={"checkpoint": str(target), "labels": LABELS, "threshold": 0.3})
    expected = predictions(direct)
    assert any(expected)
    assert predictions(spacy.load(tmp_path / "pipeline")) == expected


def test_export_to_gliner_format_gives_identical_scores(tiny_checkpoints, kind, tmp_path):
    from gliner import GLiNER

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS})
    out = ner.export_gliner(tmp_path / "exported")
    assert (out / "model.safetensors").is_file() and (out / "gliner_config.json").is_file()
    words = [t.split() for t in TEXTS]
    original = GLiNER.from_pretrained(str(tiny_checkpoints[kind]))
    exported = GLiNER.from_pretrained(str(out))
    probs = []
    for ref in (original, exported):
        batch = ref.collate_batch(ref.prepare_base_input(words), LABELS)
        probs.append(torch.sigmoid(ref.run_batch(batch).logits))
    assert torch.equal(probs[0], probs[1])
    ours = load_checkpoint(out)
    ner2 = spacy.blank("en").add_pipe("gliner_biomed", config={"checkpoint": str(out), "labels": LABELS})
    assert ours.config["encoder_config"] == ner.checkpoint.config["encoder_config"]
    a = ner.model.predict(GlinerInput(words, [tuple(LABELS)] * len(words))).logits
    b = ner2.model.predict(GlinerInput(words, [tuple(LABELS)] * len(words))).logits
    assert torch.equal(a, b)


def test_export_refuses_to_overwrite(tiny_checkpoints, tmp_path):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS})
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="E027"):
        ner.export_gliner(tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_spacy_package(tiny_checkpoints, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS})
    nlp.meta["name"] = "gliner_test"
    nlp.meta["version"] = "0.0.1"
    nlp.to_disk(tmp_path / "pipeline")
    (tmp_path / "packages").mkdir()
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(tmp_path / "pipeline"), str(tmp_path / "packages"), "--build", "sdist"],
        check=True, capture_output=True, text=True,
    )
    sdists = list((tmp_path / "packages").rglob("*.tar.gz"))
    assert len(sdists) == 1 and sdists[0].stat().st_size > 100_000
    package_model = next((tmp_path / "packages").rglob("gliner_biomed/model"))
    loaded = spacy.load(package_model.parent.parent)
    assert predictions(loaded) == predictions(nlp)


def test_checkpoint_naming_hub_backbones_loads_offline(tiny_checkpoints, checkpoint_copy, kind):
    """`model_name` / `labels_encoder` are hub ids in published checkpoints: never fetched."""
    config_file = checkpoint_copy / "gliner_config.json"
    config = json.loads(config_file.read_text())
    config["model_name"] = "microsoft/deberta-v3-small"
    if kind == "bi":
        config["labels_encoder"] = "sentence-transformers/all-MiniLM-L6-v2"
    config_file.write_text(json.dumps(config))
    loaded, original = spacy.blank("en"), spacy.blank("en")
    loaded.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint_copy), "labels": LABELS, "threshold": 0.3})
    original.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints[kind]), "labels": LABELS, "threshold": 0.3})
    assert predictions(loaded) == predictions(original)
    assert any(predictions(loaded))
