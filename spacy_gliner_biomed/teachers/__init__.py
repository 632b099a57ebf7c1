"""Teachers: what annotates unlabeled text with open entity types for synthetic pretraining.

Each is a registered, versioned `@misc` function (so a config names it) returning a callable over
docs that writes the one synthetic shape of `base.py`:

- `spacy_gliner_biomed.LexiconTeacher.v1`: MeSH / CTD / gold-mention vocabularies (`lexicon.py`);
- `spacy_gliner_biomed.ModelTeacher.v1`: a GLiNER checkpoint or gliner_biomed pipeline (`model.py`);
- `spacy_gliner_biomed.LLMTeacher.v1`: an OpenAI-compatible chat endpoint (`llm.py`);
- `spacy_gliner_biomed.CombinedTeacher.v1`: several of them, merged by one rule (`combined.py`).

Importing this package registers them (for code that runs without the installed entry points);
the heavy parts (torch models, the `openai` client) load only when a teacher is built.
"""
from . import combined, lexicon, llm, model  # noqa: F401  (registers the teachers)
from .base import FAILED_KEY, Teacher, finish_synthetic_doc, teacher_score

__all__ = ["FAILED_KEY", "Teacher", "finish_synthetic_doc", "teacher_score"]
