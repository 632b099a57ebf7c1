"""Batchers for `[training.batcher]`."""
import random
from typing import Any, Iterable, Iterator, List

from spacy.util import registry

from ..errors import Errors, GlinerError


@registry.batchers("spacy_gliner_biomed.batch_by_length.v1")
def configure_batch_by_length(size: int = 8, buffer: int = 512, get_length=None):
    """Fixed-size batches of similar length: a buffer of `buffer` items is sorted by length, cut into
    batches of `size`, and the batches are yielded in random order. Same examples per step as a
    plain batcher of `size`, far less padding than random batches."""
    if size < 1 or buffer < size:
        raise GlinerError(Errors.E038.format(size=size, buffer=buffer))

    def batcher(items: Iterable[Any]) -> Iterator[List[Any]]:
        length = get_length or _example_length
        pending: List[Any] = []
        for item in items:
            pending.append(item)
            if len(pending) >= buffer:
                yield from _sorted_batches(pending, size, length)
                pending = []
        if pending:
            yield from _sorted_batches(pending, size, length)

    return batcher


def _example_length(item: Any) -> int:
    return len(getattr(item, "reference", item))


def _sorted_batches(items: List[Any], size: int, length) -> Iterator[List[Any]]:
    items = sorted(items, key=length)
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    random.shuffle(batches)
    yield from batches
