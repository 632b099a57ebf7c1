"""One raw (unlabelled) document on its way to synthetic annotation, and when two texts are the same.

Ids say where a document can be found again: `PMID:<n>` when its PubMed id is known (the only ids
that identify a document across files and sources, so the only ones deduplication and the
held-out check compare), else `<file stem>:<ordinal>` (0-based, in file order). `source` is the
file, or `file:line`, for messages.
"""
from dataclasses import dataclass
from typing import Optional

from ..corpora.convert import squash

PMID_PREFIX = "PMID:"


@dataclass(frozen=True)
class RawText:
    doc_id: str
    text: str
    source: str

    @property
    def pmid(self) -> Optional[str]:
        """The PubMed id (digits) if the doc_id is one, else None."""
        return self.doc_id[len(PMID_PREFIX) :] if self.doc_id.startswith(PMID_PREFIX) else None


def pmid_id(pmid: str) -> str:
    """The doc_id of a PubMed id: "PMID:123" (leading zeros dropped, as PubMed does)."""
    return f"{PMID_PREFIX}{int(pmid)}"


def is_pmid(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) > 0


def normalize(text: str) -> str:
    """The form in which two texts are compared: casefolded, without any whitespace.

    Removing (not just collapsing) whitespace makes a tokenized copy ("( 5 )", EBM-NLP, IOB files)
    equal to its raw text ("(5)"), the same rule as the gold corpora's leakage checks.
    """
    return squash(text).casefold()
