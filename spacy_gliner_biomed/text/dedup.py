"""The one filter between the readers and synthetic annotation: empty, repeated and held-out
documents are dropped here, and counted, so that the printed report says what became of every
document read.
"""
from dataclasses import dataclass
from hashlib import blake2b
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Set

from .documents import RawText, normalize

if TYPE_CHECKING:
    from .leakage import HeldOutText


@dataclass
class TextReport:
    """What `deduplicate` did; every document read is counted in exactly one of the other fields."""

    read: int = 0
    empty: int = 0  # whitespace only
    duplicate_id: int = 0  # a PMID already seen
    duplicate_text: int = 0  # the text of a document already seen, up to case and whitespace
    leaked: int = 0  # held out: a dev/test text or PMID (`leakage.HeldOutText`)
    kept: int = 0

    def __str__(self) -> str:
        return (
            f"raw text: {self.read} read, {self.kept} kept; dropped {self.empty} empty, "
            f"{self.duplicate_id} duplicate PMIDs, {self.duplicate_text} duplicate texts, "
            f"{self.leaked} held-out (dev/test) texts"
        )


def _fingerprint(text: str) -> bytes:
    """16 bytes per text seen rather than the text: a baseline has tens of millions of abstracts."""
    return blake2b(normalize(text).encode("utf-8"), digest_size=16).digest()


def deduplicate(
    texts: Iterable[RawText], report: Optional[TextReport] = None, held_out: Optional["HeldOutText"] = None
) -> Iterator[RawText]:
    """The texts without empty ones, without a second document with a PMID or a (normalised) text
    already seen, and without held-out ones when `held_out` is given. The first occurrence wins;
    a held-out document still counts as seen, so a repeated held-out text is one leak and then
    duplicates. Checks run cheapest first; counts go to `report` as the stream is consumed.
    """
    report = report if report is not None else TextReport()
    seen_ids: Set[str] = set()
    seen_texts: Set[bytes] = set()
    for raw in texts:
        report.read += 1
        if not raw.text.strip():
            report.empty += 1
            continue
        pmid = raw.pmid
        if pmid is not None:
            if pmid in seen_ids:
                report.duplicate_id += 1
                continue
            seen_ids.add(pmid)
        fingerprint = _fingerprint(raw.text)
        if fingerprint in seen_texts:
            report.duplicate_text += 1
            continue
        seen_texts.add(fingerprint)
        if held_out is not None and held_out.holds(raw):
            report.leaked += 1
            continue
        report.kept += 1
        yield raw
