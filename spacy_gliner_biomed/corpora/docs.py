"""How every gold Doc built here is shaped, and the predicted Doc that goes with it.

- all gold spans, nested or overlapping, are in `doc.spans[GOLD_KEY]`; `doc.ents` holds the
  non-overlapping subset (longest first); labels are natural language ("gene", "cell type");
- `doc.user_data` names the dataset, split, id and every label the dataset annotates (a label
  absent from a doc is a true negative there), plus explicit negatives from GLiNER JSON.
"""
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from ..keys import DATASET_KEY, GOLD_KEY, ID_KEY, LABELS_KEY, NEGATIVES_KEY, SPLIT_KEY, SPLITS


@lru_cache(maxsize=1)
def blank() -> Language:
    return spacy.blank("en")


@lru_cache(maxsize=1)
def sentencizer() -> Callable[[Doc], Doc]:
    from spacy.pipeline import Sentencizer

    return Sentencizer()


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise GlinerError(Errors.E054.format(path=path, err=err)) from None


def read_lines(path: Path) -> List[str]:
    """Lines split on \\n only: tokens and mentions may hold other Unicode line separators."""
    lines = [line.rstrip("\r") for line in read_text(path).split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise GlinerError(Errors.E055.format(split=split, splits=list(SPLITS)))


def finish_doc(
    doc: Doc,
    spans: List[Span],
    dataset: str,
    split: str,
    labels: Sequence[str],
    doc_id: str,
    negatives: Optional[Sequence[str]] = None,
) -> Doc:
    doc.spans[GOLD_KEY] = spans
    doc.ents = filter_spans(spans)
    doc.user_data[DATASET_KEY] = dataset
    doc.user_data[SPLIT_KEY] = split
    doc.user_data[LABELS_KEY] = sorted(set(labels))
    doc.user_data[ID_KEY] = doc_id
    if negatives is not None:
        doc.user_data[NEGATIVES_KEY] = list(negatives)
    return doc


def sentence_doc(vocab: Vocab, words: Sequence[str]) -> Doc:
    """A pre-tokenized sentence: words joined by single spaces, one sentence."""
    n = len(words)
    return Doc(vocab, words=list(words), spaces=[True] * (n - 1) + [False], sent_starts=[True] + [False] * (n - 1))


def predicted_doc(vocab: Vocab, reference: Doc) -> Doc:
    """What a pipeline gets to predict on for a gold doc: the same tokens (so gold boundaries stay
    token boundaries) and sentence starts, no gold, and the labels its dataset annotates, which
    the component prompts for this doc (see `keys.LABELS_KEY`)."""
    sent_starts = [bool(t.is_sent_start) for t in reference] if reference.has_annotation("SENT_START") else None
    doc = Doc(
        vocab,
        words=[t.text for t in reference],
        spaces=[bool(t.whitespace_) for t in reference],
        sent_starts=sent_starts,
    )
    if LABELS_KEY in reference.user_data:
        doc.user_data[LABELS_KEY] = list(reference.user_data[LABELS_KEY])
    return doc


def _splittable_sentences(doc: Doc) -> Optional[List[Span]]:
    """The doc's sentences if it may be split into them: it has sentence boundaries, more than one
    sentence, and no span (of any group, or entity) crosses a boundary. None: it stays whole."""
    if not doc.has_annotation("SENT_START"):
        return None
    sentences = list(doc.sents)
    if len(sentences) == 1:
        return None
    ends = {sent.start: sent.end for sent in sentences}
    starts = sorted(ends)
    spans = [span for group in doc.spans.values() for span in group] + list(doc.ents)
    for span in spans:
        first = starts[bisect_right(starts, span.start) - 1]
        if span.end > ends[first]:
            return None
    return sentences


def sentence_docs(doc: Doc) -> List[Doc]:
    """One doc per sentence, with its entities (kb ids included), span groups and user data.

    A doc without sentence boundaries, or with a span group member that crosses one, stays whole:
    no gold span is lost or cut.
    """
    sentences = _splittable_sentences(doc)
    if sentences is None:
        return [doc]
    out = []
    for sent in sentences:
        sub = sent.as_doc(copy_user_data=True)
        for key, group in doc.spans.items():
            sub.spans[key] = [
                Span(sub, s.start - sent.start, s.end - sent.start, s.label_, kb_id=s.kb_id_)
                for s in group
                if sent.start <= s.start and s.end <= sent.end
            ]
        out.append(sub)
    return out


def sentence_count(doc: Doc) -> int:
    """How many docs `sentence_docs` makes of `doc`, without making them."""
    sentences = _splittable_sentences(doc)
    return 1 if sentences is None else len(sentences)
