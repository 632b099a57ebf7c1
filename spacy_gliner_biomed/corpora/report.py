"""What one file's conversion did, so that repairs and drops are counted and printed, never silent."""
from dataclasses import dataclass
from typing import Sequence

from spacy.tokens import Doc

from ..keys import GOLD_KEY


@dataclass
class ConversionReport:
    source: str
    dataset: str
    split: str
    docs: int = 0
    entities: int = 0
    left_out_of_ents: int = 0  # overlapping spans kept in doc.spans[GOLD_KEY] only
    boundary_splits: int = 0  # entity offsets that fell inside a spaCy token
    iob_repairs: int = 0  # I-X/E-X with no open X entity, read as a start
    sentence_fixes: int = 0  # sentence starts removed because they fell inside an entity
    trimmed_mentions: int = 0  # mention texts in the file with whitespace around them
    skipped_lines: int = 0  # -DOCSTART-, PubTator relations, brat relations/events/notes
    duplicates: int = 0  # repeated documents (same id, same content) in one file
    dropped_dev_docs: int = 0  # docs also in the dataset's dev split
    dropped_test_docs: int = 0  # docs also in the dataset's test split

    def tally(self, docs: Sequence[Doc]) -> None:
        """Count the docs as they will be written (after any drops)."""
        self.docs = len(docs)
        self.entities = sum(len(doc.spans[GOLD_KEY]) for doc in docs)
        self.left_out_of_ents = sum(len(doc.spans[GOLD_KEY]) - len(doc.ents) for doc in docs)

    def __str__(self) -> str:
        parts = [f"{self.docs} docs", f"{self.entities} entities"]
        extras = [
            (self.left_out_of_ents, "overlapping spans left out of doc.ents"),
            (self.boundary_splits, "entity boundaries split inside a token"),
            (self.iob_repairs, "I- tags without B- read as B-"),
            (self.sentence_fixes, "sentence starts inside entities removed"),
            (self.trimmed_mentions, "mention texts with extra whitespace in the file"),
            (self.duplicates, "duplicate docs dropped"),
            (self.dropped_dev_docs, "docs also in dev dropped"),
            (self.dropped_test_docs, "docs also in test dropped"),
            (self.skipped_lines, "non-mention lines skipped"),
        ]
        parts += [f"{n} {what}" for n, what in extras if n]
        return f"{self.dataset}/{self.split} ({self.source}): " + ", ".join(parts)
