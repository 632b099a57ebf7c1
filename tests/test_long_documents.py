"""Long documents at inference: windows, the spans that cross their cuts, and the merge.

What windowing promises (windows.py): every word is in the core of exactly one window; a span is
taken from the window whose core holds its first word, and that window reaches `max_width - 1`
words past its core, so the whole span is inside it; the candidates of all windows are decoded
together. It does *not* promise the scores of an unwindowed run: the encoder attends over, and the
BiLSTM reads, the whole input, so a span's probability depends on all the words around it (with
the tiny random checkpoints, a lot). Comparing a windowed run with one big window could only be
done loosely, and a loose comparison of random-model scores proves nothing. So the references
here give the model exactly the context the windowed run gives it:

* word windows: each planned window's words are run through the model *alone*; the spans starting
  in its core, decoded together, are what the long doc must get, scores included (1e-4);
* sentence windows: when every window is one sentence, the long doc must get exactly the
  entities of each sentence processed alone.
"""
import pytest
import spacy
import torch

from spacy_gliner_biomed.decoding import SpanPrediction, greedy_decode
from spacy_gliner_biomed.layers.gliner_model import GlinerInput
from spacy_gliner_biomed.windows import plan_docs
from spacy_gliner_biomed.words import doc_words

from helpers import LABELS, TEXTS

SMALL_WINDOW = 30  # max_len: words per window (the tiny checkpoints' max_width is 12)


def make_nlp(checkpoint, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS, **config})
    return nlp


def planned_windows(ner, doc):
    checkpoint = ner.checkpoint
    [windows] = plan_docs(
        checkpoint.featurizer,
        [doc_words(doc)],
        [tuple(LABELS)],
        max_len=checkpoint.max_len,
        max_width=checkpoint.max_width,
    )
    return windows


def window_alone_candidates(ner, words, window, threshold):
    """Spans of `window` above `threshold`, the model given the window's words and nothing else
    (doc word offsets)."""
    text = list(words[window.start : window.end])
    output = ner.model.predict(GlinerInput([text], [tuple(LABELS)]))
    probs = torch.sigmoid(output.logits[0]).cpu()  # (words, widths, labels)
    out = []
    for s, k, c in (probs > threshold).nonzero().tolist():
        if s + k < len(text):
            out.append(SpanPrediction(window.start + s, window.start + s + k, c, probs[s, k, c].item()))
    return out


def expected_from_windows(ner, doc, windows, threshold, *, flat, multi_label):
    """What the cores own, decoded together: (start token, end token, label, score)."""
    words = doc_words(doc).words
    owned = [
        c
        for w in windows
        for c in window_alone_candidates(ner, words, w, threshold)
        if w.core_start <= c.start < w.core_end
    ]
    owned.sort(key=lambda c: (c.start, c.end, c.label))
    kept = greedy_decode(owned, flat=flat, multi_label=multi_label, max_width=ner.checkpoint.max_width)
    return [(c.start, c.end + 1, LABELS[c.label], c.score) for c in kept]


def found(spans):
    return [(s.start, s.end, s.label_, s._.score) for s in spans]


def assert_same(got, expected):
    assert [x[:3] for x in got] == [x[:3] for x in expected]
    assert [x[3] for x in got] == pytest.approx([x[3] for x in expected], abs=1e-4)


def straddling(spans, windows):
    """Spans whose first word is in one window's core and whose last word is past that core."""
    return [s for s in spans for w in windows if w.core_start <= s[0] < w.core_end < s[1]]


def test_span_across_a_window_cut_is_found_as_its_window_alone_scores_it(tiny_checkpoints, kind):
    """A span that starts in one core and ends in the next is scored by the window holding its
    first word, which holds all of it: the windowed doc gets exactly the entities (labels, scores)
    that the planned windows' texts, each run alone, give for the spans their cores own."""
    nlp = make_nlp(tiny_checkpoints[kind], threshold=0.3)
    ner = nlp.get_pipe("gliner_biomed")
    ner.checkpoint.config["max_len"] = SMALL_WINDOW
    text = " ".join(TEXTS * 2)
    doc = nlp.make_doc(text)
    assert not any(t.is_space for t in doc)  # word offsets are token offsets
    windows = planned_windows(ner, doc)
    assert len(windows) >= 4 and all(w.end - w.start <= SMALL_WINDOW for w in windows)
    expected = expected_from_windows(ner, doc, windows, 0.3, flat=True, multi_label=False)
    got = found(nlp(text).ents)
    assert_same(got, expected)
    crossing = straddling(got, windows)
    assert crossing, "no entity crosses a window cut: the test does not test what it says"
    for start, end, *_ in crossing:  # wholly inside the window that owns it
        [owner] = [w for w in windows if w.core_start <= start < w.core_end]
        assert owner.start <= start and end <= owner.end


def test_multi_label_spans_on_a_long_doc_are_owned_once(tiny_checkpoints, kind):
    """Neighbouring windows overlap, so most spans are scored by two windows; only the window whose
    core holds a span's first word may give it. With multi_label (where decoding keeps equal
    boundaries) a span taken from two windows would be written twice."""
    nlp = make_nlp(tiny_checkpoints[kind], threshold=0.3, spans_key="sc", multi_label=True)
    ner = nlp.get_pipe("gliner_biomed")
    ner.checkpoint.config["max_len"] = SMALL_WINDOW
    text = " ".join(TEXTS * 3)
    doc = nlp.make_doc(text)
    windows = planned_windows(ner, doc)
    assert len(windows) >= 6
    words = doc_words(doc).words
    every = [(c.start, c.end, c.label) for w in windows for c in window_alone_candidates(ner, words, w, 0.3)]
    assert len(every) > len(set(every))  # without core ownership there would be duplicates

    annotated = nlp(text)
    got = found(annotated.spans["sc"])
    keys = [x[:3] for x in got]
    assert len(keys) == len(set(keys))
    assert_same(got, expected_from_windows(ner, doc, windows, 0.3, flat=False, multi_label=True))
    by_boundary = {}
    for start, end, label, _ in got:
        by_boundary.setdefault((start, end), []).append(label)
    assert any(len(labels) > 1 for labels in by_boundary.values())  # multi_label is exercised
    assert straddling(got, windows)


@pytest.mark.slow
def test_100k_word_document_equals_its_sentences_processed_alone(tiny_checkpoints):
    """With a sentencizer first, cores are whole sentences and windows do not reach into their
    neighbours. With `max_len` the longest sentence and no two neighbours fitting together, every
    window is exactly one sentence, so a ~100k-word doc must get, entity for entity, what each of
    its sentences gets alone (shifted to its offset): nothing truncated, lost, duplicated or
    moved, to the very end."""
    nlp = make_nlp(tiny_checkpoints["bi"], threshold=0.3, windows_per_forward=256)
    nlp.add_pipe("sentencizer", first=True)
    ner = nlp.get_pipe("gliner_biomed")
    unit = TEXTS[:4]
    lengths = [len(nlp.make_doc(s)) for s in unit]
    max_len = max(lengths)
    assert all(a + b > max_len for a, b in zip(lengths, lengths[1:] + lengths[:1]))
    ner.checkpoint.config["max_len"] = max_len

    alone = {}
    for sentence in unit:
        d = nlp(sentence)
        assert len(list(d.sents)) == 1
        alone[sentence] = found(d.ents)
    assert any(alone.values())

    repeats = 100_000 // sum(lengths) + 1
    doc = nlp(" ".join(unit * repeats))
    assert len(doc) >= 100_000
    sentences = list(doc.sents)
    assert len(sentences) == len(unit) * repeats
    windows = planned_windows(ner, doc)
    assert [(w.start, w.end) for w in windows] == [(s.start, s.end) for s in sentences]
    assert all((w.core_start, w.core_end) == (w.start, w.end) for w in windows)

    expected = []
    for sent in sentences:
        expected += [(s + sent.start, e + sent.start, label, score) for s, e, label, score in alone[sent.text]]
    got = found(doc.ents)
    assert_same(got, expected)
    assert len(got) > 1000
    assert got[-1][:3] == expected[-1][:3] and got[-1][0] >= sentences[-1].start  # the last sentence too
