"""The registered scorer of `gliner_biomed` (`spacy_gliner_biomed.ner_scorer.v1`).

spaCy's entity scores (`ents_p/r/f/per_type`), or span scores (`spans_<key>_*`) when the component
writes `doc.spans[spans_key]`, with one rule for documents that name the types their dataset
annotates (`doc.user_data["gliner_biomed.labels"]`, set by `convert`): a doc is scored on those
types only. A BC2GM sentence has no gold `person` spans, so a predicted `person` there can be
neither right nor wrong (as spaCy ignores predictions over missing annotation).
"""
from typing import Any, Callable, Dict, Iterable, Optional

from spacy.scorer import Scorer, get_ner_prf
from spacy.training import Example
from spacy.util import registry

from .keys import LABELS_KEY


def score_gliner(examples: Iterable[Example], *, spans_key: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
    examples = [_only_annotated_types(eg, spans_key) for eg in examples]
    if spans_key is None:
        return get_ner_prf(examples)
    return Scorer.score_spans(
        examples,
        f"spans_{spans_key}",
        getter=lambda doc, attr: doc.spans.get(spans_key, []),
        has_annotation=lambda doc: spans_key in doc.spans,
        allow_overlap=True,
    )


@registry.scorers("spacy_gliner_biomed.ner_scorer.v1")
def make_gliner_scorer() -> Callable[..., Dict[str, Any]]:
    return score_gliner


def _only_annotated_types(eg: Example, spans_key: Optional[str]) -> Example:
    labels = eg.reference.user_data.get(LABELS_KEY)
    if labels is None:
        return eg
    keep = {label if isinstance(label, str) else label[0] for label in labels}  # names, or [name, prompt]
    found = eg.predicted.spans.get(spans_key, []) if spans_key is not None else eg.predicted.ents
    if all(span.label_ in keep for span in found):
        return eg
    predicted = eg.predicted.copy()
    if spans_key is None:
        predicted.ents = [e for e in predicted.ents if e.label_ in keep]
    elif spans_key in predicted.spans:
        predicted.spans[spans_key] = [s for s in predicted.spans[spans_key] if s.label_ in keep]
    return Example(predicted, eg.reference)
