"""Hybrid Superfiltering: every negative kept and exactly the requested share of positives, ties
broken by position; the span IFD as docs/curation.md defines it; the curate run (report,
histogram, resume without rescoring, refusals); the weak model's cut backbone."""
import json
import math
import warnings
from pathlib import Path

import pytest
import spacy
import torch
from spacy.tokens import Span

from spacy_gliner_biomed.cli import main
from spacy_gliner_biomed.corpora import read_docbin, write_docbin
from spacy_gliner_biomed.curation import NEUTRAL_PROMPT, WeakScores, curate, hybrid_select, n_kept, rank_positives, weak_scores
from spacy_gliner_biomed.curation import run as curation_run
from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.layers.gliner_model import GlinerInput
from spacy_gliner_biomed.teachers.base import finish_synthetic_doc
from spacy_gliner_biomed.teachers.model import load_gliner_component
from spacy_gliner_biomed.training.loss import cell_bce


def ws(ifd=0.5, plain=0.1):
    """WeakScores with a given IFD (conditioned - unconditioned = log ifd)."""
    return WeakScores(math.log(ifd) + 1.0, 1.0, plain)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.75, 1.0])
def test_selection_keeps_every_negative_and_exactly_the_share_of_positives(fraction):
    positive = [i % 3 != 0 for i in range(30)]  # 10 negatives, 20 positives
    scores = [ws(0.2 + 0.03 * (i % 7)) if p else None for i, p in enumerate(positive)]
    kept = hybrid_select(positive, scores, "ifd", fraction)
    assert kept == sorted(kept)
    assert all(i in kept for i, p in enumerate(positive) if not p)
    assert sum(positive[i] for i in kept) == n_kept(20, fraction) == max(1, math.floor(fraction * 20 + 0.5))


def test_ties_break_by_position_and_ifd_of_1_or_more_ranks_last():
    positive = [True] * 6
    scores = [ws(0.5), ws(0.9), ws(0.5), ws(1.5), WeakScores(float("nan"), 0.0, 0.0), ws(0.9)]
    assert rank_positives(positive, scores, "ifd") == [1, 5, 0, 2, 3, 4]
    assert hybrid_select(positive, scores, "ifd", 0.5) == [0, 1, 5]  # the two 0.9 then the first 0.5
    loss = [ws(plain=p) for p in (0.3, 0.1, 0.3, 0.2, 0.0, 0.1)]
    assert rank_positives(positive, loss, "loss") == [0, 2, 3, 1, 5, 4]
    # a positive the weak model could not score ranks last; random needs no scores and repeats by seed
    assert rank_positives([True, True], [None, ws()], "ifd") == [1, 0]
    r1 = rank_positives(positive, None, "random", seed=3)
    assert r1 == rank_positives(positive, None, "random", seed=3) and sorted(r1) == list(range(6))
    assert r1 != rank_positives(positive, None, "random", seed=4)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.01, float("nan")])
def test_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(GlinerError, match=r"E168.*fraction"):
        hybrid_select([True], [ws()], "ifd", fraction)


def test_unknown_score_is_refused():
    with pytest.raises(GlinerError, match="E169"):
        hybrid_select([True], [ws()], "perplexity", 0.5)


def synthetic_doc(nlp, text, spans, negatives=False):
    """A teacher-annotated doc: `spans` are (word start, word end, label)."""
    doc = nlp(text)
    labels = sorted({label for *_, label in spans} | {"organism"})
    return finish_synthetic_doc(doc, [Span(doc, s, e, label) for s, e, label in spans], labels, "test", negatives=negatives)


def synthetic_shards(tmp_path, n_shards=2):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    paths = []
    for k in range(n_shards):
        docs = [
            synthetic_doc(nlp, f"Aspirin treats fever {k}. Nothing here {k}. Insulin binds the insulin receptor.", [(0, 1, "drug"), (2, 3, "symptom"), (9, 10, "hormone"), (11, 14, "protein")]),
            synthetic_doc(nlp, f"Mice received cisplatin {k}. The results were clear.", [(0, 1, "mammal"), (2, 3, "drug")], negatives=True),
        ]
        paths.append(write_docbin(docs, tmp_path / "synth" / f"shard-{k:05d}.spacy"))
    return paths


def test_weak_scores_are_the_ifd_of_the_answer_cells(tiny_checkpoints):
    component = load_gliner_component(tiny_checkpoints["uni"])
    nlp = spacy.blank("en")
    doc = synthetic_doc(nlp, "Insulin binds the insulin receptor in mice", [(0, 1, "hormone"), (3, 5, "protein")], negatives=True)
    empty = synthetic_doc(nlp, "Nothing to see", [])
    scores = weak_scores(component, [doc, empty], max_types=3)
    assert scores[1] is None
    # by hand: the labels are the positives in order of mention, then the explicit negatives
    words = [t.text for t in doc]
    labels = ("hormone", "protein", "organism")
    model = component.model
    typed = model.predict(GlinerInput([words], [labels])).logits.float()
    neutral = model.predict(GlinerInput([words], [(NEUTRAL_PROMPT,) * 3])).logits.float()
    targets = torch.zeros_like(typed)
    targets[0, 0, 0, 0] = 1
    targets[0, 3, 1, 1] = 1
    answer = torch.zeros_like(typed, dtype=torch.bool)
    answer[0, 0, 0, :] = True
    answer[0, 3, 1, :] = True
    width = typed.shape[2]
    valid = torch.tensor([[s + w < len(words) for w in range(width)] for s in range(len(words))])
    cond = float(cell_bce(typed, targets)[answer].mean())
    uncond = float(cell_bce(neutral, targets)[answer].mean())
    plain = float(cell_bce(typed, targets)[0][valid].mean())
    s = scores[0]
    assert s.conditioned == pytest.approx(cond, rel=1e-5) and s.unconditioned == pytest.approx(uncond, rel=1e-5)
    assert s.plain == pytest.approx(plain, rel=1e-5) and s.ifd == pytest.approx(math.exp(cond - uncond), rel=1e-5)


def test_curate_writes_selection_report_and_histogram_and_resumes(tmp_path, tiny_checkpoints, monkeypatch):
    shards = synthetic_shards(tmp_path)
    out = tmp_path / "curated"
    report = curate(shards, out, method="ifd", fraction=0.5, weak_model=str(tiny_checkpoints["uni"]), progress=False)
    # per shard: 5 sentences, 4 positives ("Nothing here" and "The results were clear" are negatives)
    assert (report["examples"], report["positives"], report["negatives"]) == (10, 6, 4)
    assert report["negatives_kept"] == 4 and report["positives_kept"] == n_kept(6, 0.5) == 3
    written = [doc for path in sorted(out.glob("shard-*.spacy")) for doc in read_docbin(path)]
    assert len(written) == 7 and sum(1 for d in written if not d.ents) == 4
    assert {"report.json", "report.md", "scores.png", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["per_type"]["drug"]["spans"] == 4 and report["ends"][0]["end"] == "top"
    assert json.loads((out / "report.json").read_text())["positives_kept"] == 3
    # interrupted after the first shard was scored: only the second is scored again
    scores_dir = tmp_path / "curated.scores"
    (scores_dir / "shard-00001.json").unlink()
    calls = []
    real = curation_run.weak_scores
    monkeypatch.setattr(curation_run, "weak_scores", lambda c, docs, **kw: calls.append(len(docs)) or real(c, docs, **kw))
    again = curate(shards, tmp_path / "curated-loss", method="loss", fraction=0.5, weak_model=str(tiny_checkpoints["uni"]),
                   scores_dir=scores_dir, progress=False)
    assert calls == [5] and again["shards_rescored"] == 1 and again["positives_kept"] == 3
    # a finished output folder is not redone
    calls.clear()
    assert curate(shards, out, method="ifd", fraction=0.5, weak_model=str(tiny_checkpoints["uni"]), progress=False) == report
    assert calls == []


def test_scores_of_another_weak_model_are_refused(tmp_path, tiny_checkpoints):
    shards = synthetic_shards(tmp_path, 1)
    curate(shards, tmp_path / "a", weak_model=str(tiny_checkpoints["uni"]), scores_dir=tmp_path / "s", progress=False)
    with pytest.raises(GlinerError, match="E172"):
        curate(shards, tmp_path / "b", weak_model=str(tiny_checkpoints["bi"]), scores_dir=tmp_path / "s", progress=False)


def test_bad_synthetic_sets_are_refused(tmp_path, tiny_checkpoints):
    nlp = spacy.blank("en")
    empty = write_docbin([], tmp_path / "empty.spacy")
    with pytest.raises(GlinerError, match="E170"):
        curate([empty], tmp_path / "o1", method="random")
    no_positives = write_docbin([synthetic_doc(nlp, "Nothing at all", [])], tmp_path / "neg.spacy")
    with pytest.raises(GlinerError, match="E171"):
        curate([no_positives], tmp_path / "o2", method="random")
    with pytest.raises(GlinerError, match="E175"):
        curate([no_positives], tmp_path / "o3", method="ifd")
    # no negatives: a warning, and the positives are still selected
    only_positives = write_docbin([synthetic_doc(nlp, "Aspirin", [(0, 1, "drug")]), synthetic_doc(nlp, "Mice", [(0, 1, "mammal")])], tmp_path / "pos.spacy")
    with pytest.warns(UserWarning, match="W013"):
        report = curate([only_positives], tmp_path / "o4", method="random", progress=False)
    assert (report["positives_kept"], report["negatives"]) == (1, 0)


def test_weak_model_that_does_not_know_the_types_is_reported(tmp_path, tiny_checkpoints):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": ["drug", "symptom"]})
    nlp.to_disk(tmp_path / "weak")
    shards = synthetic_shards(tmp_path, 1)
    with pytest.warns(UserWarning, match="W012"):
        report = curate(shards, tmp_path / "o", weak_model=str(tmp_path / "weak"), progress=False)
    assert report["uncovered_types"] == {"hormone": 1, "mammal": 1, "protein": 1}


def test_curate_command(tmp_path, tiny_checkpoints, capsys):
    synthetic_shards(tmp_path)
    out = tmp_path / "cur"
    pattern = str(tmp_path / "synth" / "shard-*.spacy")
    assert main(["curate", pattern, "--out", str(out), "--weak-model", str(tiny_checkpoints["uni"]), "--no-progress"]) == 0
    assert "Kept 3 of 6 positive and 4 of 4 negative" in capsys.readouterr().out
    assert main(["curate", pattern, "--out", str(out), "--fraction", "0"]) == 1
    assert "E168" in capsys.readouterr().err
    assert main(["curate", str(tmp_path / "none-*.spacy"), "--out", str(out)]) == 1
    assert "E174" in capsys.readouterr().err


def test_backbone_cut_to_its_first_layers(tmp_path):
    from helpers import make_tiny_backbone

    from spacy_gliner_biomed.backbones import new_checkpoint

    backbone = make_tiny_backbone(tmp_path / "bb", hidden=32, seed=1)
    full = new_checkpoint(str(backbone))
    cut = new_checkpoint(str(backbone), backbone_layers=1)
    assert full.config["encoder_config"]["num_hidden_layers"] == 2 and cut.config["encoder_config"]["num_hidden_layers"] == 1
    first = "layer.0.attention.self.query.weight"
    full_state = full.model.token_rep_layer.bert_layer.model.state_dict()
    cut_state = cut.model.token_rep_layer.bert_layer.model.state_dict()
    assert torch.equal(cut_state[f"encoder.{first}"], full_state[f"encoder.{first}"])
    assert not any(k.startswith("encoder.layer.1.") for k in cut_state)
    with pytest.raises(GlinerError, match="E167"):
        new_checkpoint(str(backbone), backbone_layers=0)
