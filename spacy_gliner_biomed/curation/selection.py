"""Hybrid Superfiltering's selection: rank the positive examples, keep the top share, keep every
negative. Ranking everything would drop the examples without entities (their answer is empty,
their IFD undefined), which are what teaches a span model to say "none" (BioSelectTune)."""
import math
import random
from typing import Callable, Dict, List, Optional, Sequence

from ..errors import Errors, GlinerError
from .scores import WeakScores

# Each method's sort key of a positive example (smaller first); ties break on the example's index.
SortKey = Callable[[WeakScores, float], tuple]


def _ifd_key(scores: WeakScores, _: float) -> tuple:
    """Superfiltering: the highest IFD below 1 first (an answer the instruction helps with, but
    not trivially); IFD >= 1 (the type names do not help) after every other."""
    ifd = scores.ifd
    if not math.isfinite(ifd):
        return (2, 0.0)
    return (0 if ifd < 1.0 else 1, -ifd)


def _loss_key(scores: WeakScores, _: float) -> tuple:
    """The baseline: the highest plain loss first (the hardest examples for the weak model)."""
    return (0, -scores.plain) if math.isfinite(scores.plain) else (1, 0.0)


def _random_key(_: WeakScores, draw: float) -> tuple:
    return (0, draw)


METHODS: Dict[str, SortKey] = {"ifd": _ifd_key, "loss": _loss_key, "random": _random_key}


def check_selection(method: str, fraction: float) -> None:
    if method not in METHODS:
        raise GlinerError(Errors.E169.format(score=method, known=sorted(METHODS)))
    if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
        raise GlinerError(Errors.E168.format(fraction=fraction))


def n_kept(n_positives: int, fraction: float) -> int:
    """Positives kept: `fraction` of them rounded half up, at least one."""
    return min(n_positives, max(1, math.floor(fraction * n_positives + 0.5)))


def rank_positives(
    positive: Sequence[bool], scores: Optional[Sequence[Optional[WeakScores]]], method: str, seed: int = 0
) -> List[int]:
    """Indices of the positive examples, best first, ties broken by index. A positive the weak
    model could not score (None: e.g. its only span is longer than max_width) ranks last."""
    draws = random.Random(seed)
    keyed = []
    for i, is_positive in enumerate(positive):
        if not is_positive:
            continue
        draw = draws.random()  # one draw per positive whatever the method, so `random` needs no scores
        s = scores[i] if scores is not None else None
        key = METHODS[method](s, draw) if s is not None or method == "random" else (3, 0.0)
        keyed.append((key, i))
    keyed.sort()
    return [i for _, i in keyed]


def hybrid_select(
    positive: Sequence[bool], scores: Optional[Sequence[Optional[WeakScores]]], method: str, fraction: float, seed: int = 0
) -> List[int]:
    """Indices kept, in input order: every negative and the top `fraction` of the positives."""
    check_selection(method, fraction)
    ranked = rank_positives(positive, scores, method, seed)
    kept = set(ranked[: n_kept(len(ranked), fraction)]) if ranked else set()
    return [i for i, is_positive in enumerate(positive) if not is_positive or i in kept]
