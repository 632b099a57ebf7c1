"""Long documents: overlapping word windows that each fit the model, and whose cores tile the doc.

Every word belongs to the *core* of exactly one window. A span is taken from the window whose core
holds its first word; each window reaches `max_width - 1` words past its core, so any span that
starts in the core lies wholly inside the window. Predictions from all windows are then decoded
together, so nothing is cut at a window edge and nothing is counted twice.

With sentence boundaries (`doc.sents` set), cores are whole sentences packed together and windows
do not reach into neighbouring sentences; a sentence too long for one window falls back to word
windows inside it.
"""
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from .errors import Errors, GlinerError
from .words import DocWords

if TYPE_CHECKING:
    from .layers.featurize import GlinerFeaturizer


@dataclass(frozen=True)
class Window:
    doc_index: int
    start: int  # first word of the window
    end: int  # one past its last word
    core_start: int  # spans whose first word is in [core_start, core_end) are taken from here
    core_end: int
    n_tokens: int = 0  # sub-tokens of its words, to sort windows by length


def token_budget(featurizer: "GlinerFeaturizer", prompts: Tuple[str, ...]) -> int:
    """Sub-tokens left for text in a window after the special tokens and the label prompt."""
    cost = featurizer.prompt_cost(prompts)
    if featurizer.max_tokens - cost < 1:
        raise GlinerError(Errors.E024.format(prompt=cost, budget=featurizer.max_tokens))
    return featurizer.max_tokens - cost


def plan_docs(
    featurizer: "GlinerFeaturizer",
    docs: Sequence[DocWords],
    prompts: Sequence[Tuple[str, ...]],
    *,
    max_len: int,
    max_width: int,
) -> List[List[Window]]:
    """The windows of each doc (none for a doc without words), for docs prompted with `prompts[i]`:
    one tokenizer call for the whole batch, the token budget left by each doc's prompt."""
    counts = iter(featurizer.subtoken_counts([d.words for d in docs]))
    planned: List[List[Window]] = []
    for i, (words, doc_prompts) in enumerate(zip(docs, prompts)):
        if not words.words:
            planned.append([])
            continue
        planned.append(
            plan_windows(
                i,
                words.words,
                next(counts),
                max_words=max_len,
                token_budget=token_budget(featurizer, doc_prompts),
                margin=max_width - 1,
                sentence_starts=words.sentence_starts,
            )
        )
    return planned


def plan_windows(
    doc_index: int,
    words: Sequence[str],
    token_counts: Sequence[int],
    *,
    max_words: int,
    token_budget: int,
    margin: int,
    sentence_starts: Optional[Sequence[int]] = None,
) -> List[Window]:
    """Windows over one doc. `token_budget` is the sub-token room left after specials and prompt."""
    n = len(token_counts)
    if n == 0:
        return []
    prefix = [0, *accumulate(token_counts)]

    def fits(start: int, end: int) -> bool:
        return end - start <= max_words and prefix[end] - prefix[start] <= token_budget

    if fits(0, n):
        return [Window(doc_index, 0, n, 0, n, prefix[n])]
    for i, count in enumerate(token_counts):
        if count > token_budget:
            raise GlinerError(
                Errors.E023.format(n_tokens=count, word=words[i][:40], index=i, budget=token_budget)
            )
    units: List[Tuple[int, int, int]] = []  # (start, end, margin)
    if sentence_starts:
        bounds = sorted(set(sentence_starts) | {0}) + [n]
        for start, end in zip(bounds, bounds[1:]):
            if start >= end:
                continue
            if fits(start, end):
                units.append((start, end, 0))
            else:  # an over-long sentence: word windows inside it
                units.extend((w, w + 1, margin) for w in range(start, end))
    else:
        units = [(w, w + 1, margin) for w in range(n)]
    windows: List[Window] = []
    i = 0
    while i < len(units):
        core_start, core_end, reach = units[i]
        lo, hi = _reach(core_start, core_end, reach, n, fits)
        j = i + 1
        while j < len(units):
            nxt_end, nxt_reach = units[j][1], units[j][2]
            r = max(reach, nxt_reach)
            nlo, nhi = max(0, core_start - r), min(n, nxt_end + r)
            if not fits(nlo, nhi):
                break
            core_end, reach, lo, hi = nxt_end, r, nlo, nhi
            j += 1
        windows.append(Window(doc_index, lo, hi, core_start, core_end, prefix[hi] - prefix[lo]))
        i = j
    return windows


def _reach(core_start: int, core_end: int, reach: int, n: int, fits) -> Tuple[int, int]:
    """The widest context (up to `reach` words each side) around one unit that still fits."""
    for r in range(reach, -1, -1):
        lo, hi = max(0, core_start - r), min(n, core_end + r)
        if fits(lo, hi):
            return lo, hi
    return core_start, core_end
