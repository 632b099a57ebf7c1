"""`evaluate`: the strict/relaxed metric core on hand-computed cases, then whole runs on a real
pipeline whose gold is its own prediction (so every count is known), the report files and the CLI."""
import json
from collections import Counter

import pytest
import spacy
from spacy.tokens import DocBin, Span

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.cli import main as cli_main
from spacy_gliner_biomed.evaluation import evaluate, format_markdown, score_spans, write_report

from helpers import LABELS, TEXTS


# -- metric core ------------------------------------------------------------------------------
def test_boundary_shift_is_wrong_strict_but_right_relaxed():
    result = score_spans([[(0, 10, "disease")]], [[(0, 8, "disease")]])
    strict, relaxed = result.micro("strict"), result.micro("relaxed")
    assert (strict.tp, strict.fp, strict.fn) == (0, 1, 1)
    assert (strict.precision, strict.recall, strict.f1) == (0.0, 0.0, 0.0)
    assert (relaxed.tp, relaxed.fp, relaxed.fn) == (1, 0, 0)
    assert (relaxed.precision, relaxed.recall, relaxed.f1) == (1.0, 1.0, 1.0)
    assert result.support("disease") == 1


def test_relaxed_matches_each_gold_span_once():
    result = score_spans([[(0, 10, "disease")]], [[(3, 10, "disease"), (0, 5, "disease")]])
    relaxed = result.micro("relaxed")
    assert (relaxed.tp, relaxed.fp, relaxed.fn) == (1, 1, 0)
    assert relaxed.precision == 0.5 and relaxed.recall == 1.0
    assert relaxed.f1 == pytest.approx(2 / 3)
    strict = result.micro("strict")
    assert (strict.tp, strict.fp, strict.fn) == (0, 2, 1)


def test_relaxed_is_greedy_in_order_of_start():
    # Sorted by start, (0, 3) takes A and (9, 12) then takes B; in the given order (9, 12) would take
    # A (the first gold span it overlaps) and leave (0, 3) nothing.
    gold = [[(0, 10, "gene"), (8, 20, "gene")]]
    result = score_spans(gold, [[(9, 12, "gene"), (0, 3, "gene")]])
    relaxed = result.micro("relaxed")
    assert (relaxed.tp, relaxed.fp, relaxed.fn) == (2, 0, 0)
    # Touching is not overlapping: offsets are end-exclusive.
    touching = score_spans([[(0, 10, "gene")]], [[(10, 12, "gene")]]).micro("relaxed")
    assert (touching.tp, touching.fp, touching.fn) == (0, 1, 1)


def test_label_mismatch_never_matches():
    result = score_spans([[(0, 10, "disease")]], [[(0, 10, "chemical")]])
    for mode in ("strict", "relaxed"):
        assert result.micro(mode).tp == 0
        assert (result.per_label["disease"][mode].fn, result.per_label["chemical"][mode].fp) == (1, 1)
    assert result.support("disease") == 1 and result.support("chemical") == 0


def test_micro_pools_counts_and_macro_averages_labels():
    gold = [[(0, 5, "disease"), (10, 15, "disease"), (20, 25, "disease")], [(30, 35, "gene")]]
    pred = [[(0, 5, "disease"), (10, 15, "disease")], [(30, 35, "gene"), (40, 45, "gene")]]
    result = score_spans(gold, pred)
    disease, gene = result.per_label["disease"]["strict"], result.per_label["gene"]["strict"]
    assert (disease.tp, disease.fp, disease.fn) == (2, 0, 1)  # P 1, R 2/3, F1 0.8
    assert (gene.tp, gene.fp, gene.fn) == (1, 1, 0)  # P 1/2, R 1, F1 2/3
    assert disease.f1 == pytest.approx(0.8) and gene.f1 == pytest.approx(2 / 3)
    micro = result.micro("strict")
    assert (micro.tp, micro.fp, micro.fn) == (3, 1, 1)
    assert (micro.precision, micro.recall, micro.f1) == (0.75, 0.75, 0.75)
    assert result.macro("strict") == pytest.approx({"p": 0.75, "r": 5 / 6, "f": (0.8 + 2 / 3) / 2})
    assert (result.support("disease"), result.support("gene")) == (3, 1)


def test_zero_predictions_and_labels_without_any_span():
    result = score_spans([[(0, 5, "disease")], []], [[], []], labels=["disease", "chemical"])
    micro = result.micro("relaxed")
    assert (micro.tp, micro.fp, micro.fn) == (0, 0, 1)
    assert (micro.precision, micro.recall, micro.f1) == (0.0, 0.0, 0.0)
    scores = result.to_dict()
    assert list(scores["labels"]) == ["disease", "chemical"]
    assert scores["labels"]["chemical"]["support"] == 0
    # "chemical" has nothing to score: it is reported but left out of the macro mean.
    perfect = score_spans([[(0, 5, "disease")]], [[(0, 5, "disease")]], labels=["disease", "chemical"])
    assert perfect.macro("strict") == {"p": 1.0, "r": 1.0, "f": 1.0}


def test_gold_and_predictions_must_cover_the_same_documents():
    with pytest.raises(GlinerError, match="E070"):
        score_spans([[]], [[], []])


# -- whole runs ---------------------------------------------------------------------------------
DATASETS = {  # name: (labels, texts, split)
    "ds": (sorted(LABELS), TEXTS[:4], "test"),
    "ds2": (["chemical", "disease"], TEXTS[2:], "dev"),
}
THRESHOLD = 0.3


def make_nlp(checkpoint, labels, threshold, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": labels, "threshold": threshold, **config})
    return nlp


def predicted_spans(doc, spans_key=None):
    return doc.spans[spans_key] if spans_key else doc.ents


def make_dataset(checkpoint, name, path=None, split=None, spans_key=None, **user_data):
    """Docs whose gold is what the pipeline predicts with the dataset's labels; written to `path`."""
    labels, texts, default_split = DATASETS[name]
    nlp = make_nlp(checkpoint, labels, THRESHOLD, spans_key=spans_key)
    docs = []
    for predicted in nlp.pipe(texts):
        doc = nlp.make_doc(predicted.text)
        gold = [Span(doc, s.start, s.end, label=s.label_) for s in predicted_spans(predicted, spans_key)]
        doc.spans["gold"] = gold
        if spans_key is None:
            doc.ents = gold
        doc.user_data.update(
            {"gliner_biomed.dataset": name, "gliner_biomed.split": split or default_split, "gliner_biomed.labels": labels}
        )
        doc.user_data.update(user_data)
        docs.append(doc)
    if path is not None:
        DocBin(store_user_data=True, docs=docs).to_disk(path)
    return docs


def label_counts(docs):
    return Counter(s.label_ for doc in docs for s in doc.spans["gold"])


@pytest.fixture(scope="module")
def uni(tiny_checkpoints):
    return tiny_checkpoints["uni"]


@pytest.fixture(scope="module")
def files(uni, tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    paths = {name: root / f"{name}.spacy" for name in DATASETS}
    for name, path in paths.items():
        make_dataset(uni, name, path)
    return paths


def check_perfect(report, name, docs):
    ds = report["datasets"][name]
    counts = label_counts(docs)
    assert counts, "the tiny model should predict something"
    assert ds["n_docs"] == len(docs)
    assert list(ds["labels"]) == DATASETS[name][0]
    for label, scores in ds["labels"].items():
        assert scores["support"] == counts[label]
        for mode in ("strict", "relaxed"):
            assert (scores[mode]["tp"], scores[mode]["fp"], scores[mode]["fn"]) == (counts[label], 0, 0)
    for mode in ("strict", "relaxed"):
        assert ds["micro"][mode]["f"] == 1.0 and ds["macro"][mode]["f"] == 1.0
        assert ds["micro"][mode]["tp"] == sum(counts.values())
    assert ds["docs_per_second"] > 0


def test_gold_equal_to_predictions_scores_100(uni, files, tmp_path):
    nlp = make_nlp(uni, ["protein"], 0.5)
    ner = nlp.get_pipe("gliner_biomed")
    report = evaluate(nlp, list(files.values()), threshold=THRESHOLD)
    docs = {name: list(DocBin().from_disk(path).get_docs(nlp.vocab)) for name, path in files.items()}
    for name in DATASETS:
        check_perfect(report, name, docs[name])
        assert report["datasets"][name]["setting"] == "unknown"
        assert report["datasets"][name]["source"] == str(files[name])
    assert report["average"] == {"strict_f": 1.0, "relaxed_f": 1.0}
    assert report["threshold"] == THRESHOLD
    # The component is left as it was.
    assert ner.labels == ("protein",) and ner.cfg["labels"] == ["protein"] and ner.cfg["threshold"] == 0.5

    json_path, md_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text()) == report
    markdown = md_path.read_text()
    assert markdown == format_markdown(report)
    assert "| ds | unknown | 4 | 100.00 | 100.00 | 100.00 | 100.00 | 100.00 | 100.00 |" in markdown
    assert "| **average** | | | | | 100.00 | | 100.00 | | |" in markdown
    assert "### ds2 (unknown)" in markdown
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_threshold_override_applies_and_is_restored(uni, files):
    nlp = make_nlp(uni, ["protein"], 0.5)
    report = evaluate(nlp, [files["ds"]], threshold=1.0)  # no probability exceeds 1: no predictions
    n_gold = sum(label_counts(DocBin().from_disk(files["ds"]).get_docs(nlp.vocab)).values())
    for mode in ("strict", "relaxed"):
        assert report["datasets"]["ds"]["micro"][mode] == {"p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 0, "fn": n_gold}
    assert report["average"] == {"strict_f": 0.0, "relaxed_f": 0.0}
    assert nlp.get_pipe("gliner_biomed").cfg["threshold"] == 0.5


def test_docs_given_directly_and_predictions_from_spans_key(uni):
    docs = make_dataset(uni, "ds", spans_key="sc")
    nlp = make_nlp(uni, ["protein"], THRESHOLD, spans_key="sc")
    report = evaluate(nlp, {"my-name": docs})
    check_perfect({"datasets": {"ds": report["datasets"]["my-name"]}}, "ds", docs)
    assert report["datasets"]["my-name"]["source"] is None


def test_explicit_labels_leave_other_gold_unscored(uni, files):
    nlp = make_nlp(uni, ["protein"], THRESHOLD)
    report = evaluate(nlp, [files["ds2"]], labels=["disease"])
    ds = report["datasets"]["ds2"]
    assert list(ds["labels"]) == ["disease"]
    gold = label_counts(DocBin().from_disk(files["ds2"]).get_docs(nlp.vocab))
    assert ds["unscored_gold"] == gold["chemical"]
    assert ds["labels"]["disease"]["support"] == gold["disease"]


def test_train_split_is_refused_unless_allowed(uni, tmp_path):
    path = tmp_path / "train.spacy"
    make_dataset(uni, "ds", path, split="train")
    nlp = make_nlp(uni, ["protein"], THRESHOLD)
    with pytest.raises(GlinerError, match=r"\[E076\] 4 of the 4 documents of the dataset 'ds' \('.*train.spacy'\)"):
        evaluate(nlp, [path])
    report = evaluate(nlp, [path], allow_train=True)
    assert report["datasets"]["ds"]["micro"]["strict"]["f"] == 1.0


def test_dataset_labels_must_be_stated_and_agree(uni):
    nlp = make_nlp(uni, ["protein"], THRESHOLD)
    docs = make_dataset(uni, "ds")
    del docs[1].user_data["gliner_biomed.labels"]
    with pytest.raises(GlinerError, match="E074"):
        evaluate(nlp, {"ds": docs})
    docs[1].user_data["gliner_biomed.labels"] = ["disease"]
    with pytest.raises(GlinerError, match="E075"):
        evaluate(nlp, {"ds": docs})
    assert evaluate(nlp, {"ds": docs}, labels=sorted(LABELS))["datasets"]["ds"]["micro"]["strict"]["f"] == 1.0


def run_evaluate(argv):
    return cli_main(["evaluate", *map(str, argv)])


@pytest.fixture(scope="module")
def saved(uni, tmp_path_factory):
    """A saved pipeline that says it was trained on 'ds'."""
    nlp = make_nlp(uni, ["protein"], 0.5)
    nlp.get_pipe("gliner_biomed").cfg["trained_on"] = ["ds"]
    path = tmp_path_factory.mktemp("pipeline") / "nlp"
    nlp.to_disk(path)
    return path


@pytest.mark.slow
def test_cli_on_a_saved_pipeline(saved, files, tmp_path, capsys):
    out = tmp_path / "report"
    argv = [saved, files["ds"], files["ds2"], "--supervised", "--threshold", THRESHOLD, "--out", out, "--batch-size", 2]
    assert run_evaluate(argv) == 0
    stdout = capsys.readouterr().out
    assert stdout == (out / "metrics.md").read_text()
    report = json.loads((out / "metrics.json").read_text())
    assert report["datasets"]["ds"]["setting"] == "supervised"
    assert report["datasets"]["ds2"]["setting"] == "zero-shot"
    assert report["average"] == {"strict_f": 1.0, "relaxed_f": 1.0}
    assert "| ds | supervised | 4 | 100.00 |" in stdout


@pytest.mark.slow
def test_zero_shot_refusal(saved, files, capsys):
    nlp = spacy.load(saved)
    with pytest.raises(GlinerError, match=r"\[E079\] The dataset 'ds' .* is not zero-shot for this model: it was trained on \['ds'\]"):
        evaluate(nlp, [files["ds2"], files["ds"]])
    assert run_evaluate([saved, files["ds"]]) == 1
    assert "E079" in capsys.readouterr().err
    assert evaluate(nlp, [files["ds2"]])["datasets"]["ds2"]["setting"] == "zero-shot"


@pytest.mark.slow
def test_cli_bad_input(saved, files, tmp_path, capsys):
    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    cases = [
        ([saved, tmp_path / "missing.spacy"], "[E064] '{}' does not exist.".format(tmp_path / "missing.spacy")),
        ([saved, empty], "[E071] '{}' holds no documents.".format(empty)),
        ([saved, files["ds2"], "--component", "ner"], "[E077] The pipeline has no component 'ner'"),
        ([tmp_path / "no-pipeline", files["ds2"]], "[E026] Pipeline '{}' does not exist.".format(tmp_path / "no-pipeline")),
        ([files["ds2"], files["ds2"]], "[E026] Pipeline '{}' is a file, not a folder.".format(files["ds2"])),
        ([saved, files["ds2"], files["ds2"]], "[E073] Two datasets are named 'ds2'"),
        ([saved, files["ds2"], "--threshold", 1.5], "[E006]"),
        ([saved, files["ds2"], "--batch-size", 0], "[E008]"),
        ([saved, files["ds2"], "--distractors", -1], "[E165] --distractors must be >= 0"),
        ([saved, files["ds2"], "--limit", -2], "[E176] limit must be an integer >= 0"),
    ]
    for argv, message in cases:
        assert run_evaluate(argv) == 1, argv
        captured = capsys.readouterr()
        assert message in captured.err and not captured.out


# -- against independent computations ---------------------------------------------------------
def _random_docs(seed, n_docs=40):
    import random

    rng = random.Random(seed)
    labels = ["gene", "disease", "chemical"]
    gold, pred = [], []
    for _ in range(n_docs):
        spans = {(s, s + rng.randint(1, 6), rng.choice(labels)) for s in rng.sample(range(60), 8)}
        spans = sorted(spans)  # iterated in a fixed order, so the draws do not depend on string hashing
        kept = {g for g in spans if rng.random() < 0.6}  # found exactly
        # shifted by one word (an empty span where that leaves none: it overlaps nothing)
        moved = {(s + rng.choice([-1, 1]), e, lab) for s, e, lab in spans if rng.random() < 0.2 and s > 0}
        relabelled = {(s, e, rng.choice(labels)) for s, e, _ in spans if rng.random() < 0.1}
        noise = {(s, s + rng.randint(1, 4), rng.choice(labels)) for s in rng.sample(range(60), 3)}
        gold.append(spans)
        pred.append(sorted(kept | moved | relabelled | noise))
    return gold, pred


@pytest.mark.parametrize("seed", range(5))
def test_strict_scores_equal_gliners_own_evaluator(seed):
    """Strict micro P/R/F1, overall and per label, equal the `gliner` package's NER evaluator."""
    from gliner.evaluation.evaluator import BaseNEREvaluator

    gold, pred = _random_docs(seed)
    result = score_spans(gold, pred)

    def reference(g, p):
        evaluator = BaseNEREvaluator(g, p)
        return evaluator.compute_prf(*evaluator.transform_data())

    overall = reference(gold, pred)
    micro = result.micro("strict")
    assert (micro.precision, micro.recall, micro.f1) == pytest.approx(
        (overall["precision"], overall["recall"], overall["f_score"]), abs=1e-12
    )
    for label in ("gene", "disease", "chemical"):
        only = reference([[s for s in d if s[2] == label] for d in gold], [[s for s in d if s[2] == label] for d in pred])
        counts = result.per_label[label]["strict"]
        assert (counts.precision, counts.recall, counts.f1) == pytest.approx(
            (only["precision"], only["recall"], only["f_score"]), abs=1e-12
        )


@pytest.mark.parametrize("seed", range(5))
def test_relaxed_scores_equal_a_direct_reading_of_the_rule(seed):
    """Relaxed counts recomputed from the rule as GLiNER-biomed states it, written independently:
    walk the predictions in (start, end) order; each takes the first untaken gold span, in (start,
    end) order, with its label that it overlaps by at least one character."""
    gold, pred = _random_docs(seed)
    result = score_spans(gold, pred)
    tp = fp = 0
    n_gold = sum(map(len, gold))
    for doc_gold, doc_pred in zip(gold, pred):
        free = sorted(doc_gold)
        for start, end, label in sorted(doc_pred):
            match = next((g for g in free if g[2] == label and max(start, g[0]) < min(end, g[1])), None)
            if match is None:
                fp += 1
            else:
                free.remove(match)
                tp += 1
    relaxed = result.micro("relaxed")
    assert (relaxed.tp, relaxed.fp, relaxed.fn) == (tp, fp, n_gold - tp)
    assert relaxed.tp > result.micro("strict").tp  # the shifted spans count as relaxed matches


def test_distractor_types_are_prompted_but_not_scored(uni, files):
    """Gold = what the model predicts with the dataset's labels plus two distractors; evaluated
    with those distractors the scores are perfect, while the distractors' own predictions are
    counted and left out."""
    labels = DATASETS["ds2"][0]
    distractors = ["protein", labels[0], "cell line"]  # a dataset label among them is not a distractor
    nlp = make_nlp(uni, labels + ["protein", "cell line"], THRESHOLD)
    docs = list(DocBin().from_disk(files["ds2"]).get_docs(nlp.vocab))
    predicted = list(nlp.pipe([d.text for d in docs]))
    n_distractor = sum(1 for doc in predicted for e in doc.ents if e.label_ in ("protein", "cell line"))
    assert n_distractor > 0, "the tiny model should predict a distractor somewhere"
    for doc, pred in zip(docs, predicted):
        gold = [Span(doc, e.start, e.end, label=e.label_) for e in pred.ents if e.label_ in labels]
        doc.spans["gold"] = gold
        doc.ents = gold
    report = evaluate(nlp, {"ds2": docs}, distractors=distractors)
    ds = report["datasets"]["ds2"]
    assert ds["distractors"] == 2 and ds["distractor_predictions"] == n_distractor
    assert ds["micro"]["strict"]["f"] == 1.0 and list(ds["labels"]) == labels
    capped = evaluate(nlp, {"ds2": docs}, distractors=distractors, n_distractors=1)["datasets"]["ds2"]
    assert capped["distractors"] == 1
    # --limit: the first N docs only, scored exactly as a dataset of those N docs
    first = evaluate(nlp, {"ds2": docs}, limit=2)["datasets"]["ds2"]
    alone = evaluate(nlp, {"ds2": docs[:2]})["datasets"]["ds2"]
    assert first["n_docs"] == 2 and first["micro"] == alone["micro"]
