"""Training: the same loss and gradients as the reference, label sampling, length batching."""
import json
import random
import shutil
from pathlib import Path

import pytest
import spacy
import torch
from spacy.tokens import Span
from spacy.training import Example

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.layers.gliner_model import GlinerInput
from spacy_gliner_biomed.training.batchers import configure_batch_by_length
from spacy_gliner_biomed.training.loss import focal_bce_loss
from spacy_gliner_biomed.training.rows import TrainingRow, negative_inventories, span_targets, training_rows
from spacy_gliner_biomed.training.sampling import sample_label_sets
from spacy_gliner_biomed.training.settings import TrainingSettings

WORDS = [
    "Cisplatin - induced nephrotoxicity was seen in BRCA1 carriers with breast cancer .".split(),
    "Mutations in the CFTR gene cause cystic fibrosis .".split(),
]
# (first word, last word inclusive, label), and each row's label set in prompt order
GOLD = [[(0, 0, "chemical"), (3, 3, "disease"), (7, 7, "gene"), (10, 11, "disease")], [(3, 3, "gene"), (6, 7, "disease")]]
LABEL_SETS = [("disease", "chemical", "gene"), ("gene", "disease")]


def _no_dropout(module):
    """Train mode without randomness (HF attention keeps its dropout rate in a plain attribute)."""
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if hasattr(m, "dropout_prob"):
            m.dropout_prob = 0.0


@pytest.fixture(scope="module")
def reference_checkpoints(tiny_checkpoints, tmp_path_factory):
    """The tiny uni and bi checkpoints, plus the uni one reading label vectors at the label's first
    token (`embed_ent_token = false`, the uni training recipe's setting)."""
    first_token = Path(shutil.copytree(tiny_checkpoints["uni"], tmp_path_factory.mktemp("first_token") / "uni"))
    config = json.loads((first_token / "gliner_config.json").read_text())
    config["embed_ent_token"] = False
    (first_token / "gliner_config.json").write_text(json.dumps(config))
    return {**tiny_checkpoints, "uni-first-token": first_token}


@pytest.mark.parametrize("variant", ["uni", "bi", "uni-first-token"])
@pytest.mark.parametrize("alpha,gamma", [(-1.0, 0.0), (0.75, 2.0)])
def test_loss_and_gradients_equal_the_reference(reference_checkpoints, variant, alpha, gamma):
    """Same checkpoint, same words, same label sets: the reference's training loss and every
    parameter gradient equal ours (our markerV0 is computed in a fused form; the result is the same)."""
    from gliner import GLiNER
    from gliner.data_processing.collator import SpanDataCollator

    kind = "bi" if variant == "bi" else "uni"
    label_sets = LABEL_SETS if kind == "uni" else [LABEL_SETS[0]] * 2  # the bi-encoder shares one set
    ref = GLiNER.from_pretrained(str(reference_checkpoints[variant]))
    assert ref.config.embed_ent_token == (variant != "uni-first-token")
    _no_dropout(ref.model)
    records = [
        {"tokenized_text": w, "ner": [[s, e, label] for s, e, label in g], "ner_labels": list(labels)}
        for w, g, labels in zip(WORDS, GOLD, label_sets)
    ]
    if kind == "bi":
        for r in records:
            r["ner_label"] = r.pop("ner_labels")
    collator = SpanDataCollator(ref.config, data_processor=ref.data_processor, prepare_labels=True)
    batch = collator(records)
    ref.model.train()
    ref_loss = ref.model(**batch, alpha=alpha, gamma=gamma, reduction="sum").loss
    ref_loss.backward()

    nlp = spacy.blank("en")
    config = {"checkpoint": str(reference_checkpoints[variant]), "labels": ["disease", "chemical", "gene"]}
    config["training"] = {"focal_alpha": alpha, "focal_gamma": gamma}
    ner = nlp.add_pipe("gliner_biomed", config=config)
    model = ner.checkpoint.model
    _no_dropout(model)
    rows = [
        TrainingRow(tuple(w), labels, [(s, e, labels.index(label)) for s, e, label in g], 0, len(w))
        for w, g, labels in zip(WORDS, GOLD, label_sets)
    ]
    output, backprop = ner.model.begin_update(GlinerInput([r.words for r in rows], [r.prompts for r in rows]))
    loss, d_logits = ner.get_loss(rows, output)
    backprop(d_logits)
    assert loss == pytest.approx(float(ref_loss), rel=1e-4)
    ref_grads = dict(ref.model.named_parameters())
    compared = 0
    for name, param in model.named_parameters():
        ref_grad = ref_grads[name].grad
        if param.grad is None:
            assert ref_grad is None or not ref_grad.any(), name
            continue
        # float rounding of the fused head: compare against the gradient's own scale
        torch.testing.assert_close(param.grad, ref_grad, rtol=1e-3, atol=max(1e-3 * float(ref_grad.abs().max()), 1e-6))
        compared += 1
    assert compared > 20


TRAIN_DATA = [
    ("Cisplatin causes nephrotoxicity in rats.", [(0, 9, "chemical"), (17, 31, "disease")]),
    ("Mutations in BRCA1 cause breast cancer.", [(13, 18, "gene"), (25, 38, "disease")]),
    ("Aspirin was given.", [(0, 7, "chemical")]),
    ("No abnormality was found.", []),
]


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory):
    from helpers import make_tiny_backbone

    return make_tiny_backbone(tmp_path_factory.mktemp("backbone") / "bert", hidden=64, seed=3)


def _train_nlp(backbone, kind):
    """A pipeline on the tiny random backbone. The uni-encoder reads label vectors at the label's
    own first token (`embed_ent_token = false`): a random 2-layer encoder cannot learn in 150 steps
    to route a label into its `<<ENT>>` marker (the default path's gradients are checked against
    the reference above). Every batch type is a negative (`max_neg_type_ratio`), so the prompts seen
    in training have the composition of the prompt at inference."""
    model = {"@architectures": f"spacy_gliner_biomed.{'UniEncoder' if kind == 'uni' else 'BiEncoder'}.v1",
             "backbone": str(backbone), "hidden_size": 48}
    if kind == "uni":
        model["embed_ent_token"] = False
    else:
        model["labels_backbone"] = str(backbone)
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"model": model, "training": {"encoder_lr_scale": 1.0, "max_neg_type_ratio": 5}})
    return nlp


@pytest.mark.slow
def test_overfitting_IO(tiny_backbone, kind, tmp_path):
    """spaCy's overfitting test: a few sentences, loss falls to ~0 (300 steps: with the encoder's own dropout the loss still jumps around 0.1-0.3 after 150), exact predictions that survive
    to_disk/spacy.load, and nlp.evaluate F1 = 1.0."""
    from spacy.training import Example
    from spacy.util import fix_random_seed
    from thinc.api import Adam

    fix_random_seed(0)
    nlp = _train_nlp(tiny_backbone, kind)
    examples = [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in TRAIN_DATA]
    nlp.initialize(get_examples=lambda: examples)
    ner = nlp.get_pipe("gliner_biomed")
    assert ner.labels == ("chemical", "disease", "gene")
    optimizer = Adam(1e-3)
    first = None
    for _ in range(300):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        first = losses["gliner_biomed"] if first is None else first
    assert losses["gliner_biomed"] < 0.01 < first
    texts = [text for text, _ in TRAIN_DATA]
    predicted = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    assert predicted == [sorted(ents) for _, ents in TRAIN_DATA]
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in loaded.pipe(texts)] == predicted
    assert nlp.evaluate(examples)["ents_f"] == 1.0


@pytest.mark.parametrize("weight_decay", [True, False])
def test_fused_adam_matches_thincs_adam(weight_decay):
    """The torch-side Adam step reproduces thinc's Adam, step counts, schedules and L2 included."""
    import numpy
    from thinc.api import Adam, warmup_linear

    from spacy_gliner_biomed.training.optimizer import FusedAdam

    def make_optimizer():
        schedule = warmup_linear(initial_rate=0.01, warmup_steps=2, total_steps=10)
        return Adam(learn_rate=schedule, L2=0.01, L2_is_weight_decay=weight_decay, grad_clip=0.0, use_averages=False)

    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]
    expected = [p.detach().numpy().copy() for p in params]
    fused_optimizer, thinc_optimizer = make_optimizer(), make_optimizer()
    assert FusedAdam.supports(fused_optimizer) and not FusedAdam.supports(Adam(1e-3))  # averages, grad_clip
    fused = FusedAdam(fused_optimizer)
    for step in range(6):
        grads = [torch.randn_like(p) for p in params]
        active = [0, 1] if step != 2 else [0]  # a parameter without a gradient keeps its own count
        for i in active:
            params[i].grad = grads[i].clone()
            expected[i], _ = thinc_optimizer(("k", i), expected[i], grads[i].numpy().copy(), lr_scale=0.5)
        fused.step([params[i] for i in active], lr_scale=0.5)
        fused_optimizer.step_schedules()
        thinc_optimizer.step_schedules()
    for param, reference in zip(params, expected):
        numpy.testing.assert_allclose(param.detach().numpy(), reference, rtol=1e-5, atol=1e-6)
        assert not numpy.allclose(param.detach().numpy(), reference * 0.999)


def test_label_sets_follow_the_reference_sampling():
    random.seed(0)
    settings = TrainingSettings(max_types=3, max_neg_type_ratio=1)
    positives = [["disease", "disease"], ["gene"], [], ["chemical"]]
    negatives = [None, None, None, ["protein", "cell line"]]
    for _ in range(50):
        sets = sample_label_sets(positives, negatives, settings, shared=False)
        assert {"disease"} <= set(sets[0]) <= {"disease", "gene", "chemical"} and len(sets[0]) <= 3
        assert "gene" in sets[1] and len(sets[1]) <= 2  # one entity: at most one negative
        assert len(sets[2]) == 1 and sets[2][0] in {"disease", "gene", "chemical"}  # empty: one in-batch type
        assert set(sets[3]) == {"chemical", "protein", "cell line"}  # explicit negatives replace sampling
    orders = {sample_label_sets(positives, negatives, settings, shared=False)[3] for _ in range(50)}
    assert len(orders) > 1  # shuffled
    shared = sample_label_sets(positives, negatives, settings, shared=True)
    assert len(set(shared)) == 1 and set(shared[0]) == {"disease", "gene", "chemical", "protein", "cell line"}
    capped = sample_label_sets([["a", "b", "c", "d", "e"]], [None], TrainingSettings(max_types=2), shared=False)
    assert len(capped[0]) == 2


def test_schedule_by_epochs_or_by_steps():
    from spacy_gliner_biomed.training.schedule import schedule_overrides

    by_epochs = schedule_overrides(1000, 8, epochs=2)
    assert by_epochs["training.optimizer.learn_rate.total_steps"] == 250 and by_epochs["training.max_steps"] == 0
    assert by_epochs["training.max_epochs"] == 2 and by_epochs["training.optimizer.learn_rate.warmup_steps"] == 25
    by_steps = schedule_overrides(1000, 8, epochs=1, max_steps=800)  # more steps than one epoch: epochs repeat
    assert by_steps["training.max_steps"] == 800 and by_steps["training.max_epochs"] == 0
    assert by_steps["training.optimizer.learn_rate.total_steps"] == 800 and by_steps["training.eval_frequency"] == 200


def test_inventory_negatives_give_prompts_of_every_length():
    random.seed(0)
    settings = TrainingSettings(max_types=10, neg_types_from="inventory")
    inventory = [f"type {i}" for i in range(30)] + ["disease"]
    positives = [["disease", "disease"], [], ["chemical"]]
    negatives = [None, None, ["protein"]]
    lengths = {0: set(), 1: set()}
    for _ in range(300):
        sets = sample_label_sets(positives, negatives, settings, shared=False, inventories=[inventory] * 3)
        assert "disease" in sets[0] and len(sets[0]) == len(set(sets[0])) <= 10
        assert set(sets[0]) <= set(inventory)  # negatives come from the inventory, not the batch
        assert 1 <= len(sets[1]) <= 10 and set(sets[1]) <= set(inventory)  # an empty example: >= 1 type
        assert set(sets[2]) == {"chemical", "protein"}  # explicit negatives still replace sampling
        lengths[0].add(len(sets[0]))
        lengths[1].add(len(sets[1]))
    assert lengths[0] == set(range(1, 11)) and lengths[1] == set(range(1, 11))
    # an example with an empty inventory (teacher-annotated; a component with no labels yet) stays
    # on in-batch sampling, the other draws from its own inventory
    for _ in range(50):
        kept = sample_label_sets([["a"], ["b"]], [None, None], settings, shared=False, inventories=[(), inventory])
        assert set(kept[0]) <= {"a", "b"} and set(kept[1]) <= {"b", *inventory}
    fallback = sample_label_sets([["a"], ["b"]], [None, None], settings, shared=False)
    assert set(fallback[0]) <= {"a", "b"}


def test_targets_mask_windows_and_padding():
    from spacy_gliner_biomed.layers.gliner_model import GlinerOutput

    rows = [TrainingRow(("a", "b", "c", "d"), ("x", "y"), [(1, 2, 1)], 1, 3), TrainingRow(("a", "b"), ("x",), [(0, 0, 0)], 0, 2)]
    logits = torch.zeros(2, 4, 3, 2)
    output = GlinerOutput(logits, torch.tensor([4, 2]), torch.tensor([[True, True], [True, False]]))
    targets, mask = span_targets(output, rows)
    assert targets.sum() == 2 and targets[0, 1, 1, 1] == 1 and targets[1, 0, 0, 0] == 1
    assert not mask[0, 0].any() and not mask[0, 3].any()  # starts outside the core
    assert mask[0, 1, 2].all() and not mask[0, 2, 2].any()  # span past the row's end
    assert not mask[1, :, :, 1].any()  # padded label slot
    loss, d = focal_bce_loss(logits, targets, mask, TrainingSettings(focal_alpha=-1.0))
    assert loss == pytest.approx(float(mask.sum()) * float(torch.log(torch.tensor(2.0))), rel=1e-6)
    assert (d[~mask] == 0).all() and d[0, 1, 1, 1] == pytest.approx(-0.5)


def test_synthetic_negative_rate_samples_negatives_of_teacher_rows_only():
    from spacy_gliner_biomed.layers.gliner_model import GlinerOutput

    words = tuple("abcdefghij")
    gold_row = TrainingRow(words, ("x", "y"), [(0, 1, 0)], 0, 10)
    teacher_row = TrainingRow(words, ("x", "y"), [(2, 2, 1)], 0, 10, synthetic=True)
    output = GlinerOutput(torch.zeros(2, 10, 4, 2), torch.tensor([10, 10]), torch.ones(2, 2, dtype=torch.bool))
    _, full = span_targets(output, [gold_row, teacher_row])
    torch.manual_seed(0)
    targets, mask = span_targets(output, [gold_row, teacher_row], synthetic_negative_rate=0.25)
    assert torch.equal(mask[0], full[0])  # gold rows keep every negative
    assert mask[1, 2, 0, 1] and targets[1, 2, 0, 1] == 1  # positives always count
    assert mask[1, 2, 0, 0]  # and so does the other type of an annotated span
    share = float(mask[1].sum() - 2) / float(full[1].sum() - 2)
    assert 0.15 < share < 0.35 and (mask[1] <= full[1]).all()
    torch.manual_seed(0)
    assert torch.equal(span_targets(output, [gold_row, teacher_row], synthetic_negative_rate=0.25)[1], mask)
    with pytest.raises(GlinerError, match="synthetic_negative_rate"):
        TrainingSettings.from_cfg({"synthetic_negative_rate": 0.0})


def test_batch_by_length_keeps_every_item_once():
    random.seed(0)
    batcher = configure_batch_by_length(size=3, buffer=6, get_length=len)
    items = ["x" * n for n in [5, 1, 9, 3, 7, 2, 8, 4]]
    batches = list(batcher(items))
    assert sorted(i for b in batches for i in b) == sorted(items)
    # the first buffer of 6 sorts to 1,2,3 | 5,7,9; the rest is 4,8
    assert sorted(sorted(map(len, b)) for b in batches) == [[1, 2, 3], [4, 8], [5, 7, 9]]


def _write_corpus(nlp, path, split):
    from spacy_gliner_biomed.corpora import write_docbin
    from spacy_gliner_biomed.keys import DATASET_KEY, LABELS_KEY, SPLIT_KEY

    docs = []
    for text, ents in TRAIN_DATA:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        doc.spans["gold"] = list(doc.ents)
        doc.user_data.update({DATASET_KEY: "toy", SPLIT_KEY: split, LABELS_KEY: ["chemical", "disease", "gene"]})
        docs.append(doc)
    return write_docbin(docs, path)


def _spacy_train(tmp_path, backbone, *extra):
    import subprocess
    import sys

    nlp = spacy.blank("en")
    train, dev = _write_corpus(nlp, tmp_path / "train.spacy", "train"), _write_corpus(nlp, tmp_path / "dev.spacy", "dev")
    config = Path(__file__).parents[1] / "configs" / "train_uni.cfg"
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(tmp_path / "out"),
           "--paths.train", str(train), "--paths.dev", str(dev), "--paths.backbone", str(backbone),
           "--components.gliner_biomed.model.hidden_size", "48", "--training.max_steps", "4",
           "--training.eval_frequency", "2", "--training.optimizer.learn_rate.total_steps", "4",
           "--training.optimizer.learn_rate.warmup_steps", "1", *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.mark.slow
def test_spacy_train_cli_trains_loads_and_exports(tmp_path, tiny_backbone):
    result = _spacy_train(tmp_path, tiny_backbone)
    assert result.returncode == 0, result.stderr[-2000:]
    nlp = spacy.load(tmp_path / "out" / "model-last")
    ner = nlp.get_pipe("gliner_biomed")
    assert ner.labels == ("chemical", "disease", "gene") and ner.cfg["trained_on"] == ["toy"]
    assert ner.checkpoint.config["max_width"] == 12
    exported = ner.export_gliner(tmp_path / "gliner")
    assert (exported / "gliner_config.json").is_file()


@pytest.mark.slow
def test_spacy_train_refuses_an_unknown_backbone_before_training(tmp_path, tiny_backbone):
    result = _spacy_train(tmp_path, tmp_path / "no-such-backbone")
    assert result.returncode != 0
    assert "E022" in result.stderr + result.stdout and "no-such-backbone" in result.stderr + result.stdout
    assert not (tmp_path / "out" / "model-last").exists()


def test_interrupted_save_keeps_the_last_complete_model(tiny_checkpoints, tmp_path, monkeypatch):
    import os

    from helpers import TEXTS

    def entities(pipeline):
        return [[(e.start, e.end, e.label_, e._.score) for e in doc.ents] for doc in pipeline.pipe(TEXTS)]

    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": ["disease"], "threshold": 0.3})
    expected = entities(nlp)
    assert any(expected)
    nlp.to_disk(tmp_path / "model-last")
    before = (tmp_path / "model-last" / "gliner_biomed" / "model").read_bytes()
    with torch.no_grad():  # the model moves on (a training step), so the next save has new bytes
        next(nlp.get_pipe("gliner_biomed").checkpoint.model.parameters()).add_(1.0)

    def interrupted(fd):  # the new model file is written but not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nlp.to_disk(tmp_path / "model-last")
    monkeypatch.undo()
    folder = tmp_path / "model-last" / "gliner_biomed"
    assert (folder / "model").read_bytes() == before
    assert not list(folder.glob(".model*"))
    assert entities(spacy.load(tmp_path / "model-last")) == expected  # loads right away: the last complete model
    nlp.to_disk(tmp_path / "model-last")  # an uninterrupted save does replace it
    assert (folder / "model").read_bytes() != before
    assert spacy.load(tmp_path / "model-last").get_pipe("gliner_biomed").labels == ("disease",)


def _examples(nlp):
    from spacy.training import Example

    return [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in TRAIN_DATA]


def test_bi_encoder_label_cache_is_cleared_by_a_real_update(tiny_checkpoints):
    """Inference caches the bi-encoder's label vectors; an optimizer step changes the label encoder,
    so the next prediction must use new vectors, exactly as if there had been no cache."""
    from thinc.api import Adam

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["bi"]), "labels": ["chemical", "disease", "gene"]})
    words = [t.split() for t, _ in TRAIN_DATA]
    batch = GlinerInput(words, [tuple(ner.labels)] * len(words))
    before = ner.model.predict(batch).logits.clone()
    assert ner.checkpoint.model._label_cache  # the labels were cached
    nlp.update(_examples(nlp), sgd=Adam(0.01))
    after = ner.model.predict(batch).logits.clone()
    ner.checkpoint.model.clear_label_cache()
    uncached = ner.model.predict(batch).logits
    assert not torch.allclose(after, before)
    assert torch.equal(after, uncached)


@pytest.mark.parametrize("kind", ["uni", "bi"])
def test_model_built_from_a_plain_backbone_exports_with_identical_scores(tiny_backbone, kind, tmp_path):
    """A model the package built itself (<<ENT>>/<<SEP>> added to the tokenizer, label vectors at the
    label's first token for the uni-encoder), trained a few steps, exported: `gliner` loads it and
    gives the same span probabilities on the same words."""
    from gliner import GLiNER
    from thinc.api import Adam

    nlp = _train_nlp(tiny_backbone, kind)
    nlp.initialize(get_examples=lambda: _examples(nlp))
    optimizer = Adam(1e-3)
    for _ in range(3):
        nlp.update(_examples(nlp), sgd=optimizer)
    ner = nlp.get_pipe("gliner_biomed")
    out = ner.export_gliner(tmp_path / "exported")
    ref = GLiNER.from_pretrained(str(out))
    assert ref.config.embed_ent_token == (kind == "bi")  # the uni recipe's first-token setting survives
    words = [t.split() for t, _ in TRAIN_DATA]
    labels = list(ner.labels)
    batch = ref.collate_batch(ref.prepare_base_input(words), labels)
    expected = torch.sigmoid(ref.run_batch(batch).logits)
    got = torch.sigmoid(ner.model.predict(GlinerInput(words, [tuple(labels)] * len(words))).logits)
    for i, w in enumerate(words):
        for width in range(min(12, len(w))):
            torch.testing.assert_close(got[i, : len(w) - width, width], expected[i, : len(w) - width, width], atol=1e-5, rtol=0)


def test_optimizer_step_as_the_shipped_configs_run_it(tiny_checkpoints):
    """Fused Adam (weight decay, warm-up schedule), the encoder at encoder_lr_scale = 0.5 of the heads'
    rate, after global gradient-norm clipping: the same parameters as clipping in torch followed by
    thinc's own Adam parameter by parameter."""
    import numpy
    from thinc.api import Adam, warmup_linear

    from spacy_gliner_biomed.training.optimizer import ENCODER_PREFIX, FusedAdam

    def shipped_optimizer():
        schedule = warmup_linear(initial_rate=1e-3, warmup_steps=1, total_steps=10)
        return Adam(learn_rate=schedule, L2=0.01, L2_is_weight_decay=True, grad_clip=0.0, use_averages=False,
                    beta1=0.9, beta2=0.999, eps=1e-8)

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": ["disease"],
                                                "training": {"encoder_lr_scale": 0.5, "max_grad_norm": 0.5}})
    model = ner.checkpoint.model
    fused, reference = shipped_optimizer(), shipped_optimizer()
    assert FusedAdam.supports(fused)
    expected = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
    for step in range(3):
        rows = [TrainingRow(tuple(w), labels, [(s, e, labels.index(label)) for s, e, label in g if label in labels], 0, len(w))
                for w, g, labels in zip(WORDS, GOLD, LABEL_SETS)]
        output, backprop = ner.model.begin_update(GlinerInput([r.words for r in rows], [r.prompts for r in rows]))
        _, d_logits = ner.get_loss(rows, output)
        backprop(d_logits)
        grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads.values()]))
        assert norm > 0.5  # clipping is active
        scale = min(1.0, 0.5 / (float(norm) + 1e-6))
        for name, grad in grads.items():
            lr_scale = 0.5 if name.startswith(ENCODER_PREFIX) else 1.0
            expected[name], _ = reference(("ref", name), expected[name], (grad * scale).numpy().copy(), lr_scale=lr_scale)
        ner.finish_update(fused)
        fused.step_schedules()
        reference.step_schedules()
    moved = 0
    for name, param in model.named_parameters():
        numpy.testing.assert_allclose(param.detach().numpy(), expected[name], rtol=1e-4, atol=1e-6, err_msg=name)
        moved += name in grads
    assert moved > 20


@pytest.mark.slow
def test_training_on_long_documents_with_whitespace_tokens(tiny_backbone):
    """Docs longer than a window (max_len 12 words here) and with whitespace tokens train end to end:
    every gold span is a target exactly once, in the window whose core holds its first word, none
    is cut, whitespace tokens never reach the model, and the loss goes down."""
    from spacy.training import Example
    from thinc.api import Adam


    nlp = _train_nlp(tiny_backbone, "uni")
    parts, ents, offset = [], [], 0
    for i in range(6):
        for text, spans in TRAIN_DATA[:3]:
            chunk = text + ("\n\n" if i % 2 else "   ")
            parts.append(chunk)
            ents += [(offset + s, offset + e, label) for s, e, label in spans]
            offset += len(chunk)
    text = "".join(parts)
    doc = nlp.make_doc(text)
    assert any(t.is_space for t in doc) and len([t for t in doc if not t.is_space]) > 60
    examples = [Example.from_dict(doc, {"entities": ents})]
    nlp.initialize(get_examples=lambda: examples)
    ner = nlp.get_pipe("gliner_biomed")
    ner.checkpoint.config["max_len"] = 12
    rows = training_rows(examples, ner.checkpoint, ner.label_descriptions, ner.training_settings, None)
    assert len(rows) > 5
    assert all(len(r.words) <= 12 and not any(w.isspace() for w in r.words) for r in rows)
    found = sorted(" ".join(r.words[s : e + 1]) for r in rows for s, e, _ in r.spans)
    gold = sorted(" ".join(t.text for t in doc.char_span(s, e) if not t.is_space) for s, e, _ in ents)
    assert found == gold  # each gold span once, whole
    optimizer = Adam(1e-3)
    losses = []
    for _ in range(30):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["gliner_biomed"])
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5])


def test_spacy_drop_is_the_heads_dropout_while_training(tiny_checkpoints):
    from thinc.api import Adam

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": ["chemical", "disease", "gene"]})
    model = ner.checkpoint.model
    encoder_rates = {m.p for m in model.token_rep_layer.modules() if isinstance(m, torch.nn.Dropout)}
    nlp.update(_examples(nlp), sgd=Adam(1e-4), drop=0.3)
    heads = [m for part in (model.span_rep_layer, model.prompt_rep_layer) for m in part.modules() if isinstance(m, torch.nn.Dropout)]
    assert heads and {m.p for m in heads} == {0.3}
    assert {m.p for m in model.token_rep_layer.modules() if isinstance(m, torch.nn.Dropout)} == encoder_rates
    with pytest.raises(GlinerError, match="E028"):
        nlp.update(_examples(nlp), sgd=Adam(1e-4), drop=1.5)


def test_negative_inventory_holds_gold_labels_only(tiny_checkpoints):
    """A teacher's types have unannotated mentions in gold text too, so gold examples draw their
    inventory negatives from the gold labels only."""
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"])})
    gold = nlp.make_doc("Cystic fibrosis patients.")
    gold.ents = [Span(gold, 0, 2, "disease")]
    gold.user_data["gliner_biomed.dataset"] = "ncbi-disease"
    synthetic = nlp.make_doc("TNF alpha was high.")
    synthetic.ents = [Span(synthetic, 0, 2, "protein")]
    synthetic.user_data["gliner_biomed.dataset"] = "synthetic/lexicon"
    examples = [Example(nlp.make_doc(d.text), d) for d in (gold, synthetic)]
    nlp.initialize(lambda: examples)
    ner = nlp.get_pipe("gliner_biomed")
    assert ner.labels == ("disease", "protein") and ner.cfg["negative_inventory"] == ["disease"]
    assert ner.cfg["teacher_types"] == ["protein"]
    # the component's own update path: a CoNLL sentence is sometimes prompted with "protein", the
    # NCBI-disease one never
    news = nlp.make_doc("John Smith met Mary .")
    news.ents = [Span(news, 0, 2, "person")]
    news.user_data["gliner_biomed.dataset"] = "conll2003"
    ner.cfg["negative_inventory"] = ["disease", "person"]
    settings = TrainingSettings(neg_types_from="inventory", teacher_negatives_for=["general"])
    batch = [Example(nlp.make_doc(d.text), d) for d in (news, gold)]
    random.seed(0)
    prompted = [set(r.prompts) for _ in range(40)
                for r in training_rows(batch, ner.checkpoint, {}, settings, None, ner.cfg["negative_inventory"], ner.cfg["teacher_types"])]
    assert any("protein" in p for p in prompted[0::2]) and not any("protein" in p for p in prompted[1::2])


def test_teacher_types_are_negatives_of_general_domain_gold_only():
    """`teacher_negatives_for = ["general"]`: a CoNLL sentence may be prompted with the teacher's
    biomedical types (absent from news), an NCBI-disease sentence, a user's own corpus and a
    synthetic doc may not."""

    nlp = spacy.blank("en")
    docs = []
    for dataset in ("conll2003", "ncbi-disease", "my-own-corpus", "synthetic/lexicon"):
        doc = nlp.make_doc("Some text .")
        doc.user_data["gliner_biomed.dataset"] = dataset
        docs.append(doc)
    gold, teacher = ["disease", "person"], ["cell line", "disease", "protein"]
    on = TrainingSettings(neg_types_from="inventory", teacher_negatives_for=["general"])
    assert negative_inventories(docs, on, gold, teacher) == [
        ("disease", "person", "cell line", "protein"), gold, gold, ()]
    off = TrainingSettings(neg_types_from="inventory")
    assert negative_inventories(docs, off, gold, teacher) == [gold, gold, gold, ()]
    both = TrainingSettings(neg_types_from="inventory", teacher_negatives_for=["general", "biomedical"])
    assert negative_inventories(docs, both, gold, teacher)[1] == ("disease", "person", "cell line", "protein")
    with pytest.raises(GlinerError, match="E037"):
        TrainingSettings.from_cfg({"teacher_negatives_for": ["news"]})
    with pytest.raises(GlinerError, match="E037"):
        TrainingSettings.from_cfg({"teacher_negatives_for": "general"})
