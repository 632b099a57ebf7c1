"""Several teachers as one (e.g. lexicon + model): each annotates the same docs, and their spans
are merged by one stated rule.

Conflict rule, in the order the teachers are listed (the first has priority):
- the label set is the union of the teachers' label sets;
- identical spans (same tokens) with different labels are all kept (a multi-label span); the
  same span and label from two teachers is kept once, with the higher score;
- a span that overlaps, without being identical to, a span of an earlier teacher is dropped;
  spans of one teacher never drop each other (each teacher resolves its own overlaps);
- a doc that any teacher marks as failed (`FAILED_KEY`) is marked failed;
- explicit negatives: the asked labels found by no teacher, written only if every teacher writes
  negatives (a lexicon's absent types are no evidence, `lexicon.py`).

Each teacher after the first sees the spans found so far in `doc.spans["candidates"]`: an LLM
teacher lists them in its prompt as candidate mentions (GLiNER-biomed lists noun phrases there).
"""
from typing import Any, Dict, Iterable, Iterator, List, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.util import registry

from ..errors import Errors, GlinerError
from ..keys import GOLD_KEY
from .base import FAILED_KEY, Teacher, finish_synthetic_doc, teacher_score

BATCH = 64
CANDIDATES_KEY = "candidates"


class CombinedTeacher:
    def __init__(self, teachers: Sequence[Teacher], name: str = "combined"):
        if not teachers:
            raise GlinerError(Errors.E157)
        self.teachers = list(teachers)
        self.name = name
        self.labels = tuple(dict.fromkeys(label for t in self.teachers for label in t.labels))
        self._negatives = all(getattr(t, "explicit_negatives", True) for t in self.teachers)

    def _merge(self, doc: Doc, found: List[List[Tuple[int, int, str, float]]]) -> Doc:
        kept: Dict[Tuple[int, int, str], float] = {}
        taken: List[Tuple[int, int]] = []  # token extents of earlier teachers' spans
        for spans in found:
            extents = set()
            for start, end, label, score in spans:
                clash = any(start < e and s < end and (s, e) != (start, end) for s, e in taken)
                if clash:
                    continue
                key = (start, end, label)
                kept[key] = max(score, kept.get(key, score))
                extents.add((start, end))
            taken.extend(extents)
        spans = [Span(doc, s, e, label=label) for s, e, label in kept]
        scores = {(doc[s:e].start_char, doc[s:e].end_char, label): v for (s, e, label), v in kept.items()}
        return finish_synthetic_doc(doc, spans, self.labels, self.name, scores, negatives=self._negatives)

    def __call__(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        batch: List[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) == BATCH:
                yield from self._batch(batch)
                batch = []
        if batch:
            yield from self._batch(batch)

    def _batch(self, docs: List[Doc]) -> Iterator[Doc]:
        found: List[List[List[Tuple[int, int, str, float]]]] = [[] for _ in docs]
        failed: Dict[int, str] = {}
        for n, teacher in enumerate(self.teachers):
            if n > 0:
                for doc, spans in zip(docs, found):
                    extents = dict.fromkeys((s, e) for teacher_spans in spans for s, e, _, _ in teacher_spans)
                    doc.spans[CANDIDATES_KEY] = [Span(doc, s, e) for s, e in extents]
            for i, doc in enumerate(teacher(docs)):
                if doc.user_data.get(FAILED_KEY):
                    failed.setdefault(i, doc.user_data[FAILED_KEY])
                score = lambda s: 1.0 if teacher_score(s) is None else teacher_score(s)  # noqa: E731
                found[i].append([(s.start, s.end, s.label_, score(s)) for s in doc.spans.get(GOLD_KEY, [])])
        for i, doc in enumerate(docs):
            doc.user_data.pop(FAILED_KEY, None)
            if CANDIDATES_KEY in doc.spans:
                del doc.spans[CANDIDATES_KEY]
            merged = self._merge(doc, found[i])
            if i in failed:
                merged.user_data[FAILED_KEY] = failed[i]
            yield merged


@registry.misc("spacy_gliner_biomed.CombinedTeacher.v1")
def make_combined_teacher(teachers: Dict[str, Any], order: Sequence[str] = (), name: str = "combined") -> CombinedTeacher:
    """`teachers` by name (a config block each); `order` lists their names by priority (default:
    the config's order). (Typed `Any`: confection would validate the unresolved blocks against a
    Protocol; each is checked here instead.)"""
    wrong = [n for n, t in teachers.items() if not isinstance(t, Teacher)]
    if wrong:
        raise GlinerError(Errors.E166.format(names=wrong))
    names = list(order) or list(teachers)
    unknown = [n for n in names if n not in teachers]
    if unknown or len(set(names)) != len(names):
        raise GlinerError(Errors.E158.format(order=names, names=list(teachers)))
    return CombinedTeacher([teachers[n] for n in names], name=name)
