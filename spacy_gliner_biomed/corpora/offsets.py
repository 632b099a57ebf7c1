"""Raw text with character-offset mentions (PubTator, brat) -> Docs whose tokens respect the offsets.

The text is tokenized as inference would (spaCy's tokenizer on the whole text), except that a
token with a mention boundary strictly inside it is cut there; `doc.text` stays the source text.
Sentence boundaries come from spaCy's sentencizer, with any that would cut a mention removed.
"""
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors, GlinerError
from .docs import blank, finish_doc, sentencizer
from .label_map import TypeMap
from .report import ConversionReport


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    label: str
    kb_id: str
    where: str  # file:line, for errors


def check_offsets(
    text: str, start: str, end: str, mention: str, where: str, report: ConversionReport
) -> Tuple[int, int]:
    """Offsets as ints, checked against the text; the offsets win over whitespace around the
    mention column (NCBI-disease has a mention with two trailing spaces), which is counted."""
    try:
        a, b = int(start), int(end)
    except ValueError:
        raise GlinerError(Errors.E045.format(where=where, start=start, end=end)) from None
    if not 0 <= a < b <= len(text):
        raise GlinerError(Errors.E046.format(where=where, start=a, end=b, length=len(text)))
    if text[a:b] != mention:
        if text[a:b] == mention.strip():
            report.trimmed_mentions += 1
            return a, b
        raise GlinerError(Errors.E047.format(where=where, mention=mention, start=a, end=b, found=text[a:b]))
    return a, b


def tokenize_at(text: str, offsets: Iterable[int]) -> Tuple[List[str], List[bool], int]:
    """spaCy's tokenization of the whole text, with tokens cut at the given offsets.

    Returns words and spaces (`doc.text` stays `text`) and how many offsets needed a cut.
    """
    tokenizer = blank().tokenizer
    offsets = sorted(offsets)
    words: List[str] = []
    spaces: List[bool] = []
    cut = 0
    for token in tokenizer(text):
        start, end = token.idx, token.idx + len(token.text)
        inside = offsets[bisect_right(offsets, start) : bisect_left(offsets, end)]
        if not inside:
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
            continue
        cut += len(inside)
        bounds = [start, *inside, end]
        for a, b in zip(bounds, bounds[1:]):
            for piece in tokenizer(text[a:b]):
                words.append(piece.text)
                spaces.append(bool(piece.whitespace_))
        spaces[-1] = bool(token.whitespace_)
    return words, spaces, cut


def text_doc(
    vocab: Vocab,
    text: str,
    mentions: Sequence[Mention],
    types: TypeMap,
    split: str,
    doc_id: str,
    report: ConversionReport,
) -> Doc:
    words, spaces, cut = tokenize_at(text, {o for m in mentions for o in (m.start, m.end)})
    report.boundary_splits += cut
    doc = Doc(vocab, words=words, spaces=spaces)
    spans = []
    for m in mentions:
        span = doc.char_span(m.start, m.end, label=m.label, kb_id=m.kb_id)
        if span is None:
            raise GlinerError(Errors.E048.format(where=m.where))
        spans.append(span)
    sentencizer()(doc)
    for span in spans:
        for token in span[1:]:
            if token.is_sent_start:
                token.is_sent_start = False
                report.sentence_fixes += 1
    return finish_doc(doc, spans, types.dataset, split, types.labels, doc_id)
