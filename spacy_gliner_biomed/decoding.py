"""From span probabilities to entities: thresholds, then the reference's greedy search.

Candidates are (start, end, label, score) over words, `end` inclusive as in GLiNER. Greedy search
visits them by descending score (a stable sort, so ties keep the reference's start/width/label
order) and keeps a span unless it conflicts with one already kept:

* flat: any overlap conflicts, except identical boundaries when `multi_label`;
* nested: only partial overlap conflicts (one span inside another is fine).

The conflict test looks only at the words a span covers (flat) or at kept spans that start within
`max_width` words of it (nested), so decoding a 100k-word document stays linear.
"""
from typing import Dict, List, NamedTuple, Sequence, Tuple


class SpanPrediction(NamedTuple):
    start: int  # first word
    end: int  # last word (inclusive)
    label: int  # index into the label set
    score: float


def greedy_decode(
    candidates: Sequence[SpanPrediction], *, flat: bool, multi_label: bool, max_width: int
) -> List[SpanPrediction]:
    ordered = sorted(candidates, key=lambda c: -c.score)
    kept: List[SpanPrediction] = []
    if flat:
        owner: Dict[int, Tuple[int, int]] = {}  # word -> boundaries of the kept span covering it
        for cand in ordered:
            bounds = (cand.start, cand.end)
            owners = {owner.get(w) for w in range(cand.start, cand.end + 1)}
            if owners == {None} or (multi_label and owners == {bounds}):
                kept.append(cand)
                for w in range(cand.start, cand.end + 1):
                    owner[w] = bounds
    else:
        by_start: Dict[int, List[Tuple[int, int]]] = {}
        for cand in ordered:
            if not _partially_overlaps(cand, by_start, multi_label, max_width):
                kept.append(cand)
                by_start.setdefault(cand.start, []).append((cand.start, cand.end))
    kept.sort(key=lambda c: c.start)
    return kept


def _partially_overlaps(cand: SpanPrediction, by_start, multi_label: bool, max_width: int) -> bool:
    s, e = cand.start, cand.end
    for start in range(s - max_width + 1, e + 1):
        for ks, ke in by_start.get(start, ()):
            if (ks, ke) == (s, e):
                if not multi_label:
                    return True
                continue
            overlap = not (s > ke or ks > e)
            nested = (s <= ks and e >= ke) or (ks <= s and ke >= e)
            if overlap and not nested:
                return True
    return False
