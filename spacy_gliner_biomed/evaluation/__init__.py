"""Evaluation of a pipeline on annotated test sets: strict and relaxed P/R/F1, per label and overall.

`metrics` (span matching and counts), `run` (datasets through a pipeline), `report` (Markdown and
JSON). `python -m spacy_gliner_biomed evaluate PIPELINE DATASET...` is the command line.
"""
from .metrics import MODES, Counts, EvalResult, score_spans
from .report import format_markdown, write_report
from .run import Dataset, evaluate, load_dataset

__all__ = ["MODES", "Counts", "Dataset", "EvalResult", "evaluate", "format_markdown", "load_dataset", "score_spans", "write_report"]
