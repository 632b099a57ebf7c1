"""A doc as the model sees it: its words, and the way back from words to the doc's tokens.

The model's words are the doc's tokens with whitespace tokens skipped (a transformer tokenizer
gives them no sub-tokens), so every predicted span is a token span. This is computed once per doc
and used for windows, training targets, annotations and export to GLiNER JSON.
"""
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from spacy.tokens import Doc, Span

# A span over words: first word, last word (inclusive, as in GLiNER), label.
WordSpan = Tuple[int, int, str]


@dataclass(frozen=True)
class DocWords:
    words: Tuple[str, ...]
    token_index: Tuple[int, ...]  # word i is token token_index[i] of the doc
    sentence_starts: Optional[Tuple[int, ...]]  # words that start a sentence, if the doc has sentences

    def __len__(self) -> int:
        return len(self.words)

    def token_span(self, first: int, last: int) -> Tuple[int, int]:
        """Token offsets (start, end exclusive) of the words first..last."""
        return self.token_index[first], self.token_index[last] + 1

    def spans(self, spans: Iterable[Span]) -> List[WordSpan]:
        """Spans as word spans; whitespace tokens at their edges are left out. A span made of
        whitespace only has no words and no place in the model's input, so it has none here."""
        word_of = {t: w for w, t in enumerate(self.token_index)}
        out = []
        for span in spans:
            inside = [word_of[i] for i in range(span.start, span.end) if i in word_of]
            if inside:
                out.append((inside[0], inside[-1], span.label_))
        return out


def doc_words(doc: Doc) -> DocWords:
    index = tuple(t.i for t in doc if not t.is_space)
    starts = None
    if doc.has_annotation("SENT_START") or doc.has_annotation("DEP"):
        starts = tuple(w for w, i in enumerate(index) if doc[i].is_sent_start)
    return DocWords(tuple(doc[i].text for i in index), index, starts)
