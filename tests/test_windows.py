"""Window planning for long documents: cores tile the doc, windows fit, spans never fall between."""
import random

import pytest

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.windows import plan_windows


def check_plan(windows, counts, max_words, budget, margin, sentence_starts=None):
    n = len(counts)
    assert windows[0].core_start == 0 and windows[-1].core_end == n
    for a, b in zip(windows, windows[1:]):
        assert a.core_end == b.core_start  # cores tile the doc: each word in exactly one core
    for w in windows:
        assert w.start <= w.core_start < w.core_end <= w.end
        assert w.end - w.start <= max_words
        assert sum(counts[w.start : w.end]) <= budget
        # every span of up to margin+1 words that starts in the core fits in the window
        assert w.end >= min(n, w.core_end + margin) or sentence_starts


@pytest.mark.parametrize("seed", range(5))
def test_word_windows(seed):
    rng = random.Random(seed)
    counts = [rng.choice([1, 1, 1, 2, 3, 0]) for _ in range(rng.randrange(400, 3000))]
    words = ["w"] * len(counts)
    windows = plan_windows(0, words, counts, max_words=384, token_budget=500, margin=11)
    check_plan(windows, counts, 384, 500, 11)
    assert len(windows) > 1


def test_short_doc_is_one_window():
    windows = plan_windows(3, ["a", "b"], [1, 1], max_words=384, token_budget=500, margin=11)
    assert [(w.doc_index, w.start, w.end, w.core_start, w.core_end) for w in windows] == [(3, 0, 2, 0, 2)]


def test_sentence_windows_cut_only_at_sentence_boundaries():
    counts = [1] * 100
    starts = list(range(0, 100, 10))
    windows = plan_windows(0, ["w"] * 100, counts, max_words=35, token_budget=500, margin=11, sentence_starts=starts)
    check_plan(windows, counts, 35, 500, 11, starts)
    for w in windows:
        assert w.start % 10 == 0 and w.end % 10 == 0 and w.start == w.core_start
    assert [w.end - w.start for w in windows] == [30, 30, 30, 10]


def test_overlong_sentence_falls_back_to_word_windows():
    counts = [1] * 120
    starts = [0, 10, 110]
    windows = plan_windows(0, ["w"] * 120, counts, max_words=40, token_budget=500, margin=11, sentence_starts=starts)
    check_plan(windows, counts, 40, 500, 11, starts)


def test_word_longer_than_the_budget_is_an_error():
    with pytest.raises(GlinerError, match="E023"):
        plan_windows(0, ["x"] * 5 + ["huge"], [1] * 5 + [600], max_words=384, token_budget=500, margin=11)
