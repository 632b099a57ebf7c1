"""Per-example label sets: what each training example is scored against.

GLiNER is trained on per-example label sets: an example is scored against its own gold types plus
negative types sampled from the rest of the batch, in shuffled order, so the model learns to say
"no" to types that are named but absent, and does not learn the position of a label in the prompt.
The sampling follows the reference `gliner` package (`batch_generate_class_mappings`): the
uni-encoder samples per example, the bi-encoder shares one label set across the batch.
"""
import random
from typing import List, Optional, Sequence, Tuple

from .settings import TrainingSettings

SAMPLED_NEGATIVES = 100  # in-batch negative types drawn per batch, as the reference does


def sample_label_sets(
    positives: Sequence[Sequence[str]],
    negatives: Sequence[Optional[Sequence[str]]],
    settings: TrainingSettings,
    *,
    shared: bool,
    inventories: Optional[Sequence[Sequence[str]]] = None,
) -> List[Tuple[str, ...]]:
    """One label set per example. `positives[i]` has one label per gold span of example i;
    `negatives[i]` are its explicit negative labels, or None to sample them from the batch.

    Uni-encoder (per example): the gold types plus `len(spans) * randint(0, max_neg_type_ratio)`
    in-batch negatives (or the explicit ones), shuffled, cut to `max_types`. An example without
    entities gets at least one in-batch type, so it teaches the model not to over-predict (the
    reference scores it against an empty prompt instead). Bi-encoder: the union over the batch of
    gold and explicit negative types, shuffled, cut to `max_types * batch size`, for every example.

    With `neg_types_from = "inventory"`, a uni-encoder example without explicit negatives draws
    randint(0, max_types - n_gold_types) negatives from its inventory `inventories[i]` (the labels
    the component knows, `rows.negative_inventories`) instead: prompt lengths then range over
    1..max_types, as users' label lists do, instead of the reference's ~2 types per sentence, which
    leaves the model unused to long prompts. An empty inventory keeps the example on in-batch
    sampling (teacher-annotated docs: their unannotated mentions are many, and in-batch negatives
    are as frequent as the type's positives).
    """
    rng = random
    if shared:
        union = list(dict.fromkeys(label for pos, neg in zip(positives, negatives) for label in [*pos, *(neg or ())]))
        rng.shuffle(union)
        labels = tuple(union[: settings.max_types * len(positives)])
        return [labels] * len(positives)
    batch_types = list(dict.fromkeys(label for pos in positives for label in pos))
    rng.shuffle(batch_types)
    batch_types = batch_types[:SAMPLED_NEGATIVES]
    label_sets = []
    from_inventory = settings.neg_types_from == "inventory"
    pools = list(inventories) if inventories is not None else [()] * len(positives)
    for pos, neg, inventory in zip(positives, negatives, pools):
        ratio = rng.randint(0, settings.max_neg_type_ratio) if settings.max_neg_type_ratio else 0
        if neg is not None:
            negs = list(neg)
        elif from_inventory and inventory:
            gold = set(pos)
            pool = [label for label in inventory if label not in gold]
            room = max(settings.max_types - len(gold), 0 if gold else 1)
            negs = rng.sample(pool, min(len(pool), rng.randint(0 if gold else 1, room)))
        elif pos:
            negs = batch_types[: len(pos) * ratio]
        else:
            negs = batch_types[: max(1, ratio)]
        types = list(dict.fromkeys([*pos, *negs]))
        rng.shuffle(types)
        label_sets.append(tuple(types[: settings.max_types]))
    return label_sets
