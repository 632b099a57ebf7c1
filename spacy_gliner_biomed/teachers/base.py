"""What every teacher writes: the one synthetic-document shape the rest of the package reads.

A teacher annotates unlabeled docs with open types. Whatever it is (a lexicon, a GLiNER model, an
LLM), its output doc looks like a converted gold doc (`corpora/docs.py`), so the same readers,
sentence splitting and training rows take it:

- `doc.spans[GOLD_KEY]`: every span the teacher found (nested ones included), `doc.ents` the
  non-overlapping subset (longest first);
- `doc.user_data[LABELS_KEY]`: the labels the teacher was asked for on this doc, and
  `[NEGATIVES_KEY]`: those of them it did not find, the explicit negatives training prompts with,
  for a teacher that reads the whole text for every type (a model, an LLM). A lexicon's absent
  types are no evidence (its recall is low: most proteins are in no vocabulary), so it writes no
  negatives and training samples them from the batch, as GLiNER does (see `lexicon.py`);
- `doc.user_data[(SCORE_KEY, start_char, end_char, label)]`: the teacher's confidence in a span
  where it has one (a model's probability; 1.0 for a lexicon match), read as `Span._.score`;
- `doc.user_data[DATASET_KEY]` = "synthetic/<teacher name>", `[SPLIT_KEY]` = "train".
"""
from typing import Dict, Iterable, Iterator, Optional, Protocol, Sequence, Tuple, runtime_checkable

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..errors import Errors, GlinerError
from ..keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, NEGATIVES_KEY, SCORE_KEY, SPLIT_KEY, SYNTHETIC_PREFIX

# A doc the teacher could not annotate (an LLM answer that failed or was malformed) carries the
# reason here; it must not become an all-negative training example, so the run drops and counts it.
FAILED_KEY = "gliner_biomed.teacher_failed"


@runtime_checkable
class Teacher(Protocol):
    """A registered teacher (`@misc = "spacy_gliner_biomed.LexiconTeacher.v1"`, ...): `name` goes
    into each doc's dataset, `labels` are the label names it asks of every doc."""

    name: str
    labels: Tuple[str, ...]

    def __call__(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        """The same docs, in order, each finished with `finish_synthetic_doc`."""
        ...


def finish_synthetic_doc(
    doc: Doc,
    spans: Sequence[Span],
    labels: Sequence[str],
    teacher: str,
    scores: Optional[Dict[Tuple[int, int, str], float]] = None,
    negatives: bool = True,
) -> Doc:
    """Write a teacher's spans on `doc` in the synthetic shape above. `scores` maps
    (start_char, end_char, label) to the teacher's confidence. A span must carry one of `labels`;
    duplicates (same offsets and label) are kept once. `negatives`: write the asked labels it did
    not find as explicit negatives."""
    asked = list(dict.fromkeys(labels))
    unique = list({(s.start, s.end, s.label_): s for s in spans}.values())
    unique.sort(key=lambda s: (s.start, s.end, s.label_))
    stray = sorted({s.label_ for s in unique} - set(asked))
    if stray:
        raise GlinerError(Errors.E093.format(teacher=teacher, labels=stray))
    doc.spans[GOLD_KEY] = unique
    doc.ents = filter_spans(unique)
    found = {s.label_ for s in unique}
    doc.user_data[LABELS_KEY] = asked
    if negatives:
        doc.user_data[NEGATIVES_KEY] = [label for label in asked if label not in found]
    else:
        doc.user_data.pop(NEGATIVES_KEY, None)
    doc.user_data[DATASET_KEY] = SYNTHETIC_PREFIX + teacher
    doc.user_data[SPLIT_KEY] = "train"
    for (start_char, end_char, label), value in (scores or {}).items():
        doc.user_data[(SCORE_KEY, start_char, end_char, label)] = float(value)
    return doc


def teacher_score(span: Span) -> Optional[float]:
    """The teacher's confidence in `span` (None where the teacher gives none)."""
    return span.doc.user_data.get((SCORE_KEY, span.start_char, span.end_char, span.label_))
