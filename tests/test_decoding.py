"""Greedy decoding equals the reference's `greedy_search` on random candidate sets."""
import random

import pytest

from spacy_gliner_biomed.decoding import SpanPrediction, greedy_decode


def random_candidates(rng, n_words=30, n_labels=3, max_width=12, n=60, ties=False):
    cands = set()
    while len(cands) < n:
        start = rng.randrange(n_words)
        end = min(n_words - 1, start + rng.randrange(max_width))
        cands.add((start, end, rng.randrange(n_labels)))
    scores = [round(rng.random(), 1) if ties else rng.random() for _ in cands]
    # the order the reference generates them in: start, width, label
    return [SpanPrediction(s, e, c, sc) for (s, e, c), sc in zip(sorted(cands), scores)]


@pytest.mark.parametrize("flat", [True, False])
@pytest.mark.parametrize("multi_label", [True, False])
@pytest.mark.parametrize("ties", [True, False])
def test_greedy_decode_matches_reference(flat, multi_label, ties):
    from gliner.decoding.decoder import SpanDecoder, Span

    decoder = SpanDecoder(config=None)
    rng = random.Random(hash((flat, multi_label, ties)) % 1000)
    for _ in range(50):
        cands = random_candidates(rng, ties=ties)
        ours = greedy_decode(cands, flat=flat, multi_label=multi_label, max_width=12)
        ref_spans = [Span(c.start, c.end, str(c.label), c.score) for c in cands]
        theirs = decoder.greedy_search(ref_spans, flat_ner=flat, multi_label=multi_label)
        assert [(c.start, c.end, str(c.label), c.score) for c in ours] == [
            (s.start, s.end, s.entity_type, s.score) for s in theirs
        ]
        assert ours  # never empty for a non-empty candidate set


@pytest.mark.parametrize("flat", [True, False])
@pytest.mark.parametrize("multi_label", [True, False])
def test_greedy_decode_matches_reference_on_a_long_document(flat, multi_label):
    """Thousands of candidates over a long document: the windowed conflict test (only the words a
    span covers, or kept spans starting within max_width of it) decides exactly as the reference,
    which compares every candidate with every kept span."""
    from gliner.decoding.decoder import SpanDecoder, Span

    rng = random.Random(7)
    cands = random_candidates(rng, n_words=2_000, n=3_000)
    ours = greedy_decode(cands, flat=flat, multi_label=multi_label, max_width=12)
    theirs = SpanDecoder(config=None).greedy_search(
        [Span(c.start, c.end, str(c.label), c.score) for c in cands], flat_ner=flat, multi_label=multi_label
    )
    assert [(c.start, c.end, str(c.label), c.score) for c in ours] == [
        (s.start, s.end, s.entity_type, s.score) for s in theirs
    ]
    assert len(ours) > 300 and ours[-1].end > 1_900  # kept all along the document
    if flat and not multi_label:
        for a, b in zip(ours, ours[1:]):
            assert a.end < b.start


def test_greedy_decode_on_100k_words_is_the_greedy_solution():
    """30,000 candidates over 100k words (the reference would take minutes): the kept spans do not
    overlap, and every candidate left out overlaps a kept span that outranks it, which together
    say the result is exactly what greedy search by descending score keeps."""
    rng = random.Random(0)
    cands = random_candidates(rng, n_words=100_000, n=30_000)
    kept = greedy_decode(cands, flat=True, multi_label=False, max_width=12)
    for a, b in zip(kept, kept[1:]):
        assert a.end < b.start
    rank = {c: i for i, c in enumerate(sorted(cands, key=lambda c: -c.score))}
    owner = {w: c for c in kept for w in range(c.start, c.end + 1)}
    kept_set = set(kept)
    assert kept_set <= set(cands) and len(kept) > 5_000
    for cand in cands:
        if cand in kept_set:
            continue
        blockers = {owner[w] for w in range(cand.start, cand.end + 1) if w in owner}
        assert any(rank[b] < rank[cand] for b in blockers), cand
