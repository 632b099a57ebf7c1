"""Raw (unlabelled) biomedical text in, for synthetic pretraining: readers of PubMed XML, PubTator,
plain text, JSON lines, PubMedQA, EBM-NLP and the training text of the gold corpora; one
deduplicating filter with a report; and the index of held-out (dev/test) text that synthetic data
must never contain.

    held_out = HeldOutText.from_datasets(["ncbi-disease", "linnaeus"], data_dir)
    report = TextReport()
    for raw in deduplicate(iter_texts(["pubmed-xml:baseline/*.xml.gz", "corpus:bc5cdr"]), report, held_out):
        ...
    print(report)
"""
from .dedup import TextReport, deduplicate
from .documents import RawText, normalize
from .leakage import HeldOutText
from .readers import (
    TEXT_FORMATS,
    infer_format,
    iter_texts,
    read_corpus_text,
    read_ebmnlp,
    read_jsonl,
    read_plain_text,
    read_pubmed_xml,
    read_pubmedqa,
    read_pubtator_text,
)

__all__ = [
    "HeldOutText", "RawText", "TEXT_FORMATS", "TextReport", "deduplicate", "infer_format", "iter_texts",
    "normalize", "read_corpus_text", "read_ebmnlp", "read_jsonl", "read_plain_text", "read_pubmed_xml",
    "read_pubmedqa", "read_pubtator_text",
]
