"""spaCy's own tools on the component: `nlp.config` describes it as it is, `spacy debug config` /
`debug data` accept the shipped configs, `nlp.evaluate` / `spacy evaluate` give the project
evaluator's numbers, the scorer is the config's, and importing the package has no side effect."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import spacy
from spacy.lang.en import English
from spacy.tokens import Span
from spacy.training import Corpus, Example
from thinc.api import Config

from spacy_gliner_biomed.corpora import write_docbin
from spacy_gliner_biomed.evaluation import evaluate
from spacy_gliner_biomed.keys import DATASET_KEY, LABELS_KEY, SPLIT_KEY
from spacy_gliner_biomed.pipeline_component import GlinerBiomed
from spacy_gliner_biomed.scorers import score_gliner

from helpers import LABELS, TEXTS

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
UNI = "spacy_gliner_biomed.UniEncoder.v1"
BI = "spacy_gliner_biomed.BiEncoder.v1"
THRESHOLD = 0.3
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def gliner_config(checkpoint):
    return json.loads((Path(checkpoint) / "gliner_config.json").read_text())


def predictions(nlp, texts=TEXTS):
    return [[(e.start_char, e.end_char, e.label_, e._.score) for e in doc.ents] for doc in nlp.pipe(texts)]


def saved_block(path):
    return Config().from_disk(Path(path) / "config.cfg")["components"]["gliner_biomed"]


# -- (a) nlp.config says what the component is -----------------------------------------------------
def test_config_follows_labels_and_threshold_set_on_the_component(tiny_checkpoints, tmp_path):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": ["protein"]})
    ner.labels = ["chemical", "disease"]
    ner.threshold = 0.25
    for block in (nlp.config["components"]["gliner_biomed"], None):
        if block is None:
            nlp.to_disk(tmp_path / "list")
            block = saved_block(tmp_path / "list")
        assert block["labels"] == ["chemical", "disease"]
        assert block["threshold"] == 0.25
    ner.labels = {"DIS": "disease or syndrome", "CHEM": "chemical compound"}
    ner.threshold = 0.7
    ner.add_label("GENE")
    expected = {"DIS": "disease or syndrome", "CHEM": "chemical compound", "GENE": "GENE"}
    block = nlp.config["components"]["gliner_biomed"]
    assert block["labels"] == expected and list(block["labels"]) == ["DIS", "CHEM", "GENE"]
    assert block["threshold"] == 0.7
    nlp.to_disk(tmp_path / "mapping")
    saved = saved_block(tmp_path / "mapping")
    assert saved["labels"] == expected and saved["threshold"] == 0.7
    loaded = spacy.load(tmp_path / "mapping").get_pipe("gliner_biomed")
    assert loaded.labels == ("DIS", "CHEM", "GENE") and loaded.label_descriptions == expected
    assert loaded.threshold == 0.7


def test_config_of_a_bi_encoder_checkpoint_describes_it(tiny_checkpoints, tmp_path):
    checkpoint = tiny_checkpoints["bi"]
    gc = gliner_config(checkpoint)
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS})
    expected = {
        "@architectures": BI,
        "backbone": gc["model_name"],
        "labels_backbone": gc["labels_encoder"],
        "hidden_size": gc["hidden_size"],
        "max_width": gc["max_width"],
        "max_len": gc["max_len"],
        "num_rnn_layers": 1,
    }
    assert (gc["hidden_size"], gc["max_width"], gc["max_len"]) == (48, 12, 384)
    assert nlp.config["components"]["gliner_biomed"]["model"] == expected
    nlp.to_disk(tmp_path / "bi")
    assert saved_block(tmp_path / "bi")["model"] == expected
    # The component made from that config is the bi-encoder again.
    rebuilt = English.from_config(nlp.config).from_disk(tmp_path / "bi")
    assert rebuilt.get_pipe("gliner_biomed").checkpoint.is_bi_encoder
    assert rebuilt.config["components"]["gliner_biomed"]["model"] == expected


@pytest.mark.parametrize("how", ["initialize_config", "initialize_call"])
def test_initializing_from_a_checkpoint_rewrites_the_model_block(tiny_checkpoints, tmp_path, how):
    """The config said `embed_ent_token = false`; the uni checkpoint reads label vectors at the
    `<<ENT>>` marker, so afterwards the config says true (and the checkpoint's hidden size)."""
    checkpoint = tiny_checkpoints["uni"]
    gc = gliner_config(checkpoint)
    assert gc["embed_ent_token"] is True and gc["hidden_size"] == 48
    model = {"@architectures": UNI, "backbone": gc["model_name"], "embed_ent_token": False}
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"model": model, "labels": sorted(LABELS), "threshold": THRESHOLD})
    before = nlp.config["components"]["gliner_biomed"]["model"]
    assert before["embed_ent_token"] is False and before["hidden_size"] is None
    if how == "initialize_config":
        config = nlp.config.copy()
        config["initialize"]["components"]["gliner_biomed"] = {"checkpoint": str(checkpoint)}
        nlp = English.from_config(config)
        ner = nlp.get_pipe("gliner_biomed")
        nlp.initialize()
    else:
        ner.initialize(lambda: [], nlp=nlp, checkpoint=str(checkpoint))
    expected = {"@architectures": UNI, "backbone": gc["model_name"], "hidden_size": 48, "max_width": 12,
                "max_len": 384, "num_rnn_layers": 1, "embed_ent_token": True}
    assert nlp.config["components"]["gliner_biomed"]["model"] == expected
    assert ner.checkpoint.config["embed_ent_token"] is True
    nlp.to_disk(tmp_path / "nlp")
    assert saved_block(tmp_path / "nlp")["model"] == expected

    rebuilt = English.from_config(nlp.config).from_disk(tmp_path / "nlp")
    assert rebuilt.config.to_str() == nlp.config.to_str()
    assert rebuilt.get_pipe("gliner_biomed").labels == ner.labels == tuple(sorted(LABELS))
    expected_predictions = predictions(nlp)
    assert sum(map(len, expected_predictions)) > 5
    assert predictions(rebuilt) == expected_predictions  # entities and scores, exactly


# -- (b) spaCy's debug commands accept the shipped configs -----------------------------------------
def _spacy(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spacy", *map(str, args)], capture_output=True, text=True,
                          env=ENV, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["train_uni.cfg", "train_bi.cfg", "inference.cfg"])
def test_spacy_debug_config_passes(name):
    result = _spacy("debug", "config", CONFIGS / name)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Config is valid" in result.stdout


def _toy_corpus(path, split, n):
    """n short, distinct docs in the shape `convert` writes (gold in doc.ents and spans["gold"])."""
    nlp = spacy.blank("en")
    docs = []
    for i in range(n):
        text = f"Patient {i} received cisplatin and developed nephrotoxicity near BRCA1."
        doc = nlp.make_doc(text)
        ents = [doc.char_span(text.index(w), text.index(w) + len(w), label=label)
                for w, label in (("cisplatin", "chemical"), ("nephrotoxicity", "disease"), ("BRCA1", "gene"))]
        doc.ents = ents
        doc.spans["gold"] = ents
        doc.user_data.update({DATASET_KEY: "toy", SPLIT_KEY: split, LABELS_KEY: ["chemical", "disease", "gene"]})
        docs.append(doc)
    return write_docbin(docs, path)


@pytest.fixture(scope="module")
def debug_data_inputs(tmp_path_factory):
    from helpers import make_tiny_backbone

    root = tmp_path_factory.mktemp("debug_data")
    # spacy debug data fails a blank pipeline with fewer than 100 training examples
    train = _toy_corpus(root / "train.spacy", "train", 100)
    dev = _toy_corpus(root / "dev.spacy", "dev", 5)
    backbone = make_tiny_backbone(root / "backbone", hidden=32, seed=3)
    return train, dev, backbone


@pytest.mark.slow
@pytest.mark.parametrize("name", ["train_uni.cfg", "train_bi.cfg"])
def test_spacy_debug_data_passes(name, debug_data_inputs):
    train, dev, backbone = debug_data_inputs
    result = _spacy("debug", "data", CONFIGS / name, "--paths.train", train, "--paths.dev", dev,
                    "--paths.backbone", backbone)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Pipeline can be initialized with data" in output and "Corpus is loadable" in output
    assert "100 training docs" in output and "5 evaluation docs" in output


# -- (c) nlp.evaluate and spacy evaluate give the evaluator's numbers --------------------------------
DATASETS = {  # name: (labels, in the order the docs list them; texts)
    "dsa": (["chemical", "disease"], TEXTS[:4]),
    "dsb": (["cell type", "chemical", "gene or gene product"], TEXTS[1:]),
}
UNION = sorted({label for labels, _ in DATASETS.values() for label in labels})


def make_nlp(checkpoint, labels):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": labels, "threshold": THRESHOLD})
    return nlp


def make_docs(checkpoint, name, damaged):
    """Docs whose gold is the component's prediction with the dataset's labels; `damaged` drops
    every other gold span (false positives) and relabels the first one left (a FP and a FN)."""
    labels, texts = DATASETS[name]
    nlp = make_nlp(checkpoint, labels)
    docs, n = [], 0
    for predicted in nlp.pipe(texts):
        doc = nlp.make_doc(predicted.text)
        gold = []
        for ent in predicted.ents:
            n += 1
            if damaged and n % 2 == 0:
                continue
            label = ent.label_
            if damaged and n == 1:
                label = next(other for other in labels if other != label)
            gold.append(Span(doc, ent.start, ent.end, label=label))
        doc.ents = gold
        doc.spans["gold"] = gold
        doc.user_data.update({DATASET_KEY: name, SPLIT_KEY: "dev", LABELS_KEY: list(labels)})
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def eval_files(tiny_checkpoints, tmp_path_factory):
    """{variant: {"dsa": path, "dsb": path, "both": path}} for the exact and the damaged gold."""
    root = tmp_path_factory.mktemp("eval")
    files = {}
    for variant in ("exact", "damaged"):
        docs = {name: make_docs(tiny_checkpoints["uni"], name, variant == "damaged") for name in DATASETS}
        assert all(sum(len(d.ents) for d in ds) >= 5 for ds in docs.values())
        files[variant] = {name: write_docbin(ds, root / variant / f"{name}.spacy") for name, ds in docs.items()}
        files[variant]["both"] = write_docbin(docs["dsa"] + docs["dsb"], root / variant / "both.spacy")
    return files


def _prf(counts):
    tp, fp, fn = (sum(c[k] for c in counts) for k in ("tp", "fp", "fn"))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def evaluator_scores(nlp, files):
    """The project evaluator's micro strict P/R/F per dataset, and pooled over both."""
    report = evaluate(nlp, [files["dsa"], files["dsb"]])
    micro = {name: report["datasets"][name]["micro"]["strict"] for name in DATASETS}
    scores = {name: {k: micro[name][k] for k in "prf"} for name in DATASETS}
    scores["both"] = _prf(list(micro.values()))
    return scores


def mixed_examples(nlp, path):
    reader = spacy.registry.readers.get("spacy_gliner_biomed.MixedCorpus.v1")(paths=str(path), shuffle=False)
    return list(reader(nlp))


def spacy_corpus_examples(nlp, path):
    return list(Corpus(str(path))(nlp))


def approx(value):
    return pytest.approx(value, rel=1e-12, abs=1e-12)


@pytest.fixture
def count_predicted_docs(monkeypatch):
    """Counts the docs that go through the component's predict."""
    counted = []
    original = GlinerBiomed.predict

    def predict(self, docs):
        docs = list(docs)
        counted.append(len(docs))
        return original(self, docs)

    monkeypatch.setattr(GlinerBiomed, "predict", predict)
    return counted


@pytest.mark.parametrize("variant", ["exact", "damaged"])
@pytest.mark.parametrize("reader", ["mixed", "spacy"])
def test_nlp_evaluate_equals_the_evaluator(tiny_checkpoints, eval_files, variant, reader, count_predicted_docs):
    files = eval_files[variant]
    nlp = make_nlp(tiny_checkpoints["uni"], UNION)
    expected = evaluator_scores(nlp, files)
    if variant == "exact":
        assert all(s == {"p": 1.0, "r": 1.0, "f": 1.0} for s in expected.values())
    else:
        assert all(s["p"] < 1.0 and s["r"] < 1.0 for s in expected.values())
    get_examples = mixed_examples if reader == "mixed" else spacy_corpus_examples
    for name in ("dsa", "dsb", "both"):
        examples = get_examples(nlp, files[name])
        count_predicted_docs.clear()
        scores = nlp.evaluate(examples)
        assert {k: scores[f"ents_{k}"] for k in "prf"} == approx(expected[name]), name
        # A MixedCorpus doc names its labels and is predicted once; a spaCy Corpus doc was prompted
        # with the component's labels (here never a dataset's own) and is predicted again.
        assert sum(count_predicted_docs) == len(examples) * (1 if reader == "mixed" else 2)


def test_docs_prompted_with_the_components_labels_would_score_otherwise(tiny_checkpoints, eval_files):
    """What makes the test above meaningful: without the re-prediction in score(), the union of the
    labels would be scored, and that is not the gold."""
    nlp = make_nlp(tiny_checkpoints["uni"], UNION)
    examples = spacy_corpus_examples(nlp, eval_files["exact"]["both"])
    naive = [Example(doc, eg.reference) for doc, eg in zip(nlp.pipe(eg.predicted for eg in examples), examples)]
    assert score_gliner(naive)["ents_f"] < 0.9
    assert nlp.evaluate(examples)["ents_f"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["exact", "damaged"])
def test_spacy_evaluate_cli_equals_the_evaluator(tiny_checkpoints, eval_files, variant, tmp_path):
    files = eval_files[variant]
    nlp = make_nlp(tiny_checkpoints["uni"], UNION)
    nlp.to_disk(tmp_path / "pipeline")
    expected = evaluator_scores(nlp, files)["both"]
    result = _spacy("evaluate", tmp_path / "pipeline", files["both"], "--output", tmp_path / "metrics.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {k: metrics[f"ents_{k}"] for k in "prf"} == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert (metrics["ents_f"] == pytest.approx(1.0)) == (variant == "exact")


# -- (d) the scorer is the config's ---------------------------------------------------------------
RECORDED = []


@spacy.registry.scorers("test_spacy_tools.recording_scorer.v1")
def make_recording_scorer(value: float = 0.125):
    def score(examples, **kwargs):
        examples = list(examples)
        RECORDED.append((len(examples), kwargs))
        return {"ents_f": value, "recorded_examples": len(examples)}

    return score


def test_default_scorer_is_in_the_config(tiny_checkpoints, tmp_path):
    nlp = make_nlp(tiny_checkpoints["uni"], LABELS)
    assert nlp.config["components"]["gliner_biomed"]["scorer"] == {"@scorers": "spacy_gliner_biomed.ner_scorer.v1"}
    nlp.to_disk(tmp_path / "nlp")
    assert saved_block(tmp_path / "nlp")["scorer"] == {"@scorers": "spacy_gliner_biomed.ner_scorer.v1"}
    from spacy_gliner_biomed.scorers import score_gliner as registered

    assert nlp.get_pipe("gliner_biomed").scorer is registered


def test_a_configured_scorer_is_the_one_nlp_evaluate_uses(tiny_checkpoints, tmp_path):
    scorer = {"@scorers": "test_spacy_tools.recording_scorer.v1", "value": 0.375}
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS,
                                          "scorer": scorer, "spans_key": "found"})
    assert nlp.config["components"]["gliner_biomed"]["scorer"] == scorer
    examples = [Example(nlp.make_doc(text), nlp.make_doc(text)) for text in TEXTS[:3]]
    RECORDED.clear()
    scores = nlp.evaluate(examples)
    assert scores["ents_f"] == 0.375 and scores["recorded_examples"] == 3
    assert len(RECORDED) == 1 and RECORDED[0][1]["spans_key"] == "found"
    # ...and the one a pipeline rebuilt from its config uses.
    nlp.to_disk(tmp_path / "nlp")
    RECORDED.clear()
    assert spacy.load(tmp_path / "nlp").evaluate(examples)["ents_f"] == 0.375
    assert len(RECORDED) == 1


# -- (e) no process-wide side effect at import --------------------------------------------------------
FORK_HOOKS = textwrap.dedent(
    """
    import json, os, sys
    ours = []
    real = os.register_at_fork

    def recorder(**callbacks):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        modules = [caller] + [getattr(f, "__module__", "") or "" for f in callbacks.values()]
        if any(m.startswith("spacy_gliner_biomed") for m in modules):
            ours.append(sorted(f"{k}={f.__module__}.{f.__qualname__}" for k, f in callbacks.items()))
        return real(**callbacks)

    os.register_at_fork = recorder
    import spacy_gliner_biomed.pipeline_component
    counts = [len(ours)]
    import spacy
    nlp = spacy.blank("en")
    counts.append(len(ours))
    nlp.add_pipe("gliner_biomed", config={"labels": ["disease"]})
    counts.append(len(ours))
    nlp.add_pipe("gliner_biomed", name="second", config={"labels": ["gene"]})
    spacy.blank("en").add_pipe("gliner_biomed", config={"checkpoint": sys.argv[1], "labels": ["chemical"]})
    counts.append(len(ours))
    print(json.dumps({"counts": counts, "hooks": ours}))
    """
)


@pytest.mark.slow
def test_fork_hook_is_registered_once_by_the_first_component(tiny_checkpoints):
    result = subprocess.run([sys.executable, "-c", FORK_HOOKS, str(tiny_checkpoints["uni"])],
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["counts"] == [0, 0, 1, 1]
    assert out["hooks"] == [["after_in_child=spacy_gliner_biomed.pipeline_component._single_thread_after_fork"]]
