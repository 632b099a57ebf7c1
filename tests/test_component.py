"""Behaviour of the `gliner_biomed` component: labels, thresholds, outputs, batching, windows."""
import pytest
import spacy
from spacy.tokens import Span

from spacy_gliner_biomed.errors import GlinerError

from helpers import LABELS, TEXTS


def make_nlp(checkpoint, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS, **config})
    return nlp


def ents(doc):
    return [(e.start, e.end, e.label_, round(e._.score, 5)) for e in doc.ents]


@pytest.fixture
def uni(tiny_checkpoints):
    return tiny_checkpoints["uni"]


def test_ready_without_initialize_and_writes_scored_ents(uni):
    nlp = make_nlp(uni, threshold=0.3)
    docs = list(nlp.pipe(TEXTS))
    found = [e for doc in docs for e in doc.ents]
    assert found
    for e in found:
        assert e.label_ in LABELS
        assert 0.3 < e._.score <= 1.0


def test_batching_does_not_change_predictions(uni):
    nlp = make_nlp(uni, threshold=0.3)
    one_by_one = [ents(nlp(t)) for t in TEXTS]
    nlp.get_pipe("gliner_biomed").cfg["windows_per_forward"] = 3
    batched = [ents(d) for d in nlp.pipe(TEXTS, batch_size=4)]
    for a, b in zip(one_by_one, batched):
        assert [x[:3] for x in a] == [x[:3] for x in b]
        assert [x[3] for x in a] == pytest.approx([x[3] for x in b], abs=1e-4)


def test_labels_as_descriptions_write_the_label(uni):
    described = {"DISEASE": "disease", "CHEMICAL": "chemical", "GENE": "gene or gene product"}
    plain = [ents(d) for d in make_nlp(uni, threshold=0.3).pipe(TEXTS)]
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": described, "threshold": 0.3})
    renamed = [ents(d) for d in nlp.pipe(TEXTS)]
    to_name = {v: k for k, v in described.items()}
    assert renamed == [[(s, e, to_name[lab], sc) for s, e, lab, sc in row] for row in plain]


def test_per_label_thresholds(uni):
    base = [ents(d) for d in make_nlp(uni, threshold=0.3).pipe(TEXTS)]
    counts = {}
    for row in base:
        for *_, label, _ in row:
            counts[label] = counts.get(label, 0) + 1
    silenced = max(counts, key=counts.get)
    strict = [ents(d) for d in make_nlp(uni, threshold=0.3, label_thresholds={silenced: 1.0}).pipe(TEXTS)]
    assert all(label != silenced for row in strict for *_, label, _ in row)
    assert sum(map(len, strict)) > 0


def test_labels_change_on_the_live_component(uni):
    nlp = make_nlp(uni, threshold=0.3)
    ner = nlp.get_pipe("gliner_biomed")
    ner.labels = ["chemical"]
    changed = [ents(d) for d in nlp.pipe(TEXTS)]
    fresh = spacy.blank("en")
    fresh.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": ["chemical"], "threshold": 0.3})
    assert changed == [ents(d) for d in fresh.pipe(TEXTS)]
    assert nlp.get_pipe("gliner_biomed").cfg["labels"] == ["chemical"]


def test_existing_ents_kept_unless_overwrite(uni):
    text = TEXTS[0]
    predicted = make_nlp(uni, threshold=0.3)(text).ents
    assert predicted
    target = predicted[0]
    for overwrite in (False, True):
        nlp = spacy.blank("en")

        @spacy.Language.component(f"preset_{overwrite}")
        def preset(doc):
            doc.ents = [Span(doc, target.start, target.end, label="PRESET")]
            return doc

        nlp.add_pipe(f"preset_{overwrite}")
        nlp.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": LABELS, "threshold": 0.3, "overwrite_ents": overwrite})
        doc = nlp(text)
        labels = [e.label_ for e in doc.ents]
        assert ("PRESET" in labels) is (not overwrite)
        if not overwrite:
            assert len(doc.ents) == len(predicted)  # the preset took the place of the prediction


def test_spans_key_nested_and_multi_label(uni):
    nlp = make_nlp(uni, threshold=0.3, spans_key="bio", multi_label=True)
    doc = nlp(TEXTS[0])
    group = doc.spans["bio"]
    assert len(group) > 0 and not doc.ents
    assert list(group.attrs["scores"]) == [s._.score for s in group]
    boundaries = [(s.start, s.end) for s in group]
    # nested decoding: no two spans partially overlap
    for a in boundaries:
        for b in boundaries:
            overlap = a[0] < b[1] and b[0] < a[1]
            nested = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
            assert not overlap or nested


def test_multi_label_scores_are_kept_per_label(uni):
    nlp = make_nlp(uni, threshold=0.01, spans_key="sc", multi_label=True, flat_ner=True)
    doc = nlp(TEXTS[2])
    by_bounds = {}
    for span in doc.spans["sc"]:
        by_bounds.setdefault((span.start, span.end), []).append(span)
    shared = [spans for spans in by_bounds.values() if len(spans) > 1]
    assert shared, "a threshold of 0.01 should give some spans several labels"
    for spans in shared:
        scores = {s.label_: s._.score for s in spans}
        assert len(set(scores.values())) == len(scores)  # each label its own score


def test_writing_nested_to_doc_ents_is_refused(uni):
    nlp = spacy.blank("en")
    with pytest.raises(GlinerError, match="E025"):
        nlp.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": LABELS, "flat_ner": False})
    with pytest.raises(GlinerError, match="E025"):
        nlp.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": LABELS, "multi_label": True})


def test_whitespace_tokens_are_skipped_and_spans_align(uni):
    nlp = make_nlp(uni, threshold=0.3)
    text = "Cisplatin-induced  nephrotoxicity\n\nwas seen in   BRCA1 carriers."
    doc = nlp(text)
    assert any(t.is_space for t in doc)
    compact = nlp(" ".join(text.split()))
    squash = lambda ents: [(" ".join(e.text.split()), e.label_, round(e._.score, 4)) for e in ents]
    assert squash(doc.ents) == squash(compact.ents) and doc.ents
    for e in doc.ents:
        assert not e[0].is_space and not e[-1].is_space


def test_sentence_aware_windows_match_sentence_by_sentence(uni):
    """Windows are cut at sentence boundaries: with room for one sentence per window, a long doc
    gets exactly the entities of each sentence processed alone."""
    nlp = make_nlp(uni, threshold=0.3)
    nlp.add_pipe("sentencizer", first=True)
    ner = nlp.get_pipe("gliner_biomed")
    sentences = TEXTS[:4] * 6
    doc = nlp(" ".join(sentences))
    lengths = [len(s) for s in doc.sents]
    assert len(lengths) == len(sentences)
    ner.checkpoint.config["max_len"] = max(lengths)  # no two sentences fit one window
    assert min(lengths) * 2 > max(lengths)
    doc = nlp(" ".join(sentences))
    expected = []
    for sent in doc.sents:
        alone = nlp(sent.text)
        expected += [(e.start + sent.start, e.end + sent.start, e.label_) for e in alone.ents]
    assert [(e.start, e.end, e.label_) for e in doc.ents] == expected
    assert doc.ents[-1].start > len(doc) - 30  # the end of the doc was processed too


def test_long_doc_without_sentences_is_windowed_without_loss(uni):
    nlp = make_nlp(uni, threshold=0.3)
    ner = nlp.get_pipe("gliner_biomed")
    ner.checkpoint.config["max_len"] = 30
    doc = nlp(" ".join(TEXTS * 8))
    assert doc.ents
    assert doc.ents[-1].end > len(doc) - 15
    # every entity is a valid, non-overlapping span of at most max_width words
    for a, b in zip(doc.ents, doc.ents[1:]):
        assert a.end <= b.start
    assert all(len(e) <= 12 for e in doc.ents)


def test_score_extension_accepts_writes_from_other_components(uni):
    nlp = make_nlp(uni)
    doc = nlp("Aspirin helps.")
    span = Span(doc, 0, 1, label="X")
    span._.score = 0.25
    assert Span(doc, 0, 1, label="X")._.score == 0.25
    assert Span(doc, 0, 1, label="Y")._.score is None


def test_bi_encoder_encodes_each_label_set_once(tiny_checkpoints, monkeypatch):
    nlp = make_nlp(tiny_checkpoints["bi"], threshold=0.3)
    ner = nlp.get_pipe("gliner_biomed")
    encoder = ner.checkpoint.model.token_rep_layer
    calls = []
    original = encoder.encode_labels
    monkeypatch.setattr(encoder, "encode_labels", lambda *a: calls.append(1) or original(*a))
    first = [ents(d) for d in nlp.pipe(TEXTS, batch_size=2)]
    again = [ents(d) for d in nlp.pipe(TEXTS, batch_size=2)]
    assert len(calls) == 1 and first == again
    ner.labels = ["chemical"]
    list(nlp.pipe(TEXTS))
    assert len(calls) == 2
    ner.checkpoint.model.clear_label_cache()  # what a weight update does
    ner.labels = LABELS
    assert [ents(d) for d in nlp.pipe(TEXTS)] == first
    assert len(calls) == 3


@pytest.mark.parametrize("spans_key", [None, "sc"])
def test_score_ignores_types_the_dataset_does_not_annotate(uni, spans_key):
    from spacy.training import Example

    from spacy_gliner_biomed.keys import LABELS_KEY

    nlp = make_nlp(uni, **({"spans_key": spans_key} if spans_key else {}))
    ner = nlp.get_pipe("gliner_biomed")
    reference = nlp.make_doc("BRCA1 was studied by Smith .")
    gold = [Span(reference, 0, 1, "gene")]
    reference.ents = gold
    reference.spans["sc"] = gold
    predicted = nlp.make_doc(reference.text)
    predicted.user_data[LABELS_KEY] = ["gene", "person"]  # what it was prompted with: not predicted again
    found = [Span(predicted, 0, 1, "gene"), Span(predicted, 4, 5, "person")]
    if spans_key:
        predicted.spans["sc"] = found
    else:
        predicted.ents = found
    key = "ents_f" if spans_key is None else "spans_sc_f"
    assert ner.score([Example(predicted, reference)])[key] == pytest.approx(2 / 3)  # person: a false positive
    reference.user_data[LABELS_KEY] = ["gene"]  # the dataset annotates genes only: person is not scored
    scores = ner.score([Example(predicted, reference)])
    assert scores[key] == 1.0
    assert [e.label_ for e in (predicted.spans["sc"] if spans_key else predicted.ents)] == ["gene", "person"]  # untouched


def spans_of(doc, key="sc"):
    return [(s.start, s.end, s.label_, s._.score) for s in doc.spans[key]]


def test_spans_key_decodes_nested_by_default(uni):
    """With `spans_key` and no `flat_ner`, one entity may lie inside another; flat decoding of the
    same doc gives no such pair."""
    nested_nlp = make_nlp(uni, threshold=0.3, spans_key="sc")
    assert nested_nlp.get_pipe("gliner_biomed").cfg["flat_ner"] is False
    flat_nlp = make_nlp(uni, threshold=0.3, spans_key="sc", flat_ner=True)
    inside = lambda a, b: a != b and b[0] <= a[0] and a[1] <= b[1]  # noqa: E731
    n_pairs = 0
    for text in TEXTS:
        nested_doc, flat_doc = nested_nlp(text), flat_nlp(text)
        nested = [s[:2] for s in spans_of(nested_doc)]
        flat = [s[:2] for s in spans_of(flat_doc)]
        pairs = [(a, b) for a in nested for b in nested if inside(a, b)]
        n_pairs += len(pairs)
        for a, b in zip(flat, flat[1:]):
            assert a[1] <= b[0]  # flat: no overlap at all
        for a, b in pairs:
            assert not (a in flat and b in flat)
        for a in nested:  # nested: overlap only by containment
            for b in nested:
                assert a[1] <= b[0] or b[1] <= a[0] or inside(a, b) or inside(b, a) or a == b
    assert n_pairs > 0


@pytest.mark.parametrize("flat_ner", [None, True])
def test_multi_label_gives_one_span_several_labels_each_once(uni, flat_ner):
    config = {"spans_key": "sc", "threshold": 0.3, **({"flat_ner": flat_ner} if flat_ner is not None else {})}
    multi = make_nlp(uni, multi_label=True, **config)
    single = make_nlp(uni, **config)
    shared = 0
    for text in TEXTS:
        doc = multi(text)
        keys = [s[:3] for s in spans_of(doc)]
        assert len(keys) == len(set(keys))
        labels_at = {}
        for start, end, label in keys:
            labels_at.setdefault((start, end), []).append(label)
        shared += sum(len(labels) > 1 for labels in labels_at.values())
        one = single(text)
        boundaries = [s[:2] for s in spans_of(one)]
        assert len(boundaries) == len(set(boundaries))  # without multi_label: one label per span
    assert shared > 0


def test_a_label_threshold_below_the_global_one_adds_that_labels_spans_only(uni):
    """Decoding visits spans by descending score, so spans of the low-threshold label (all scored
    below the global threshold) come after every span the global threshold keeps: the output is
    the global-threshold output plus some spans of that label, scored between the two thresholds."""
    config = {"spans_key": "sc", "multi_label": True, "threshold": 0.6}
    strict = make_nlp(uni, **config)
    lowered = make_nlp(uni, label_thresholds={"disease": 0.1}, **config)
    gained = []
    for text in TEXTS:
        before = spans_of(strict(text))
        after = spans_of(lowered(text))
        assert [s for s in after if s[2] != "disease"] == [s for s in before if s[2] != "disease"]
        assert set(before) <= set(after)
        new = set(after) - set(before)
        assert all(label == "disease" and 0.1 < score <= 0.6 for *_, label, score in new)
        gained += new
    assert gained


def test_doc_labels_give_what_a_component_with_those_labels_gives(tiny_checkpoints, kind):
    from spacy_gliner_biomed.keys import LABELS_KEY

    checkpoint = tiny_checkpoints[kind]
    nlp = make_nlp(checkpoint, threshold=0.3)
    label_sets = [["chemical"], None, ["disease", "gene or gene product"], ["protein", "chemical"], None, ["chemical"]]
    separate = {}
    for labels in label_sets:
        key = tuple(labels or LABELS)
        if key not in separate:
            alone = make_nlp(checkpoint, labels=list(key), threshold=0.3)
            separate[key] = [ents(d) for d in alone.pipe(TEXTS)]
    # the doc's own labels make a difference for some doc (or the test could not fail)
    assert any(separate[tuple(ls)][i] != separate[tuple(LABELS)][i] for i, ls in enumerate(label_sets) if ls)
    docs = []
    for i, text in enumerate(TEXTS):
        doc = nlp.make_doc(text)
        if label_sets[i] is not None:
            doc.user_data[LABELS_KEY] = list(label_sets[i])
        docs.append(doc)
    nlp.get_pipe("gliner_biomed").cfg["windows_per_forward"] = 8  # all docs in one forward
    out = list(nlp.pipe(docs, batch_size=len(docs)))
    for i, doc in enumerate(out):
        expected = separate[tuple(label_sets[i] or LABELS)][i]
        got = ents(doc)
        assert [e[:3] for e in got] == [e[:3] for e in expected]
        assert [e[3] for e in got] == pytest.approx([e[3] for e in expected], abs=1e-4)
        assert set(e[2] for e in got) <= set(label_sets[i] or LABELS)
    assert any(ents(d) for d in out)


def test_doc_labels_keep_the_components_descriptions(uni):
    from spacy_gliner_biomed.keys import LABELS_KEY

    nlp = spacy.blank("en")
    described = {"DIS": "disease", "CHEM": "chemical", "GENE": "gene or gene product"}
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(uni), "labels": described, "threshold": 0.1})
    prompted = make_nlp(uni, labels=["disease"], threshold=0.1)
    n = 0
    for text in TEXTS:
        doc = nlp.make_doc(text)
        doc.user_data[LABELS_KEY] = ["DIS"]
        got = ents(nlp(doc))
        expected = [(s, e, "DIS", sc) for s, e, _, sc in ents(prompted(text))]
        assert [x[:3] for x in got] == [x[:3] for x in expected]
        assert [x[3] for x in got] == pytest.approx([x[3] for x in expected], abs=1e-4)
        n += len(got)
    assert n > 0


@pytest.mark.parametrize("value", [[], (), "chemical", 3, {"chemical": "chemical"}])
def test_bad_doc_labels_are_refused(uni, value):
    from spacy_gliner_biomed.keys import LABELS_KEY

    nlp = make_nlp(uni)
    doc = nlp.make_doc(TEXTS[0])
    doc.user_data[LABELS_KEY] = value
    with pytest.raises(GlinerError, match=r"E009.*gliner_biomed\.labels"):
        nlp(doc)
