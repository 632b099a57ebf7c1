"""Gold NER corpora as spaCy Docs, in the one shape the rest of the package reads (`docs.py`).

One module per format (`iob2`, `pubtator`, `brat`, `gliner_json`; `offsets` for raw text with
character offsets), the label map, the `.spacy` reader and writer, the public datasets and their
leakage-checked conversion, and the registered spaCy corpus readers.
"""
from .convert import convert_dataset, convert_file, drop_overlap
from .datasets import DATASETS, dataset_sources
from .docbin import read_docbin, write_docbin
from .docs import predicted_doc, sentence_docs
from .formats import READERS
from .gliner_json import docs_to_gliner_json, read_gliner_json
from .iob2 import read_iob2
from .brat import read_brat
from .label_map import DEFAULT_LABEL_MAP, get_type_map, load_label_map
from .pubtator import read_pubtator
from .readers import count_examples, create_mixed_corpus
from .report import ConversionReport

__all__ = [
    "ConversionReport", "DATASETS", "DEFAULT_LABEL_MAP", "READERS", "convert_dataset", "convert_file",
    "count_examples", "create_mixed_corpus", "dataset_sources", "docs_to_gliner_json", "drop_overlap",
    "get_type_map", "load_label_map", "predicted_doc", "read_brat", "read_docbin", "read_gliner_json",
    "read_iob2", "read_pubtator", "sentence_docs", "write_docbin",
]
