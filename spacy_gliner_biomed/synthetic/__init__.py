"""Synthetic training data: raw text annotated by a teacher (`teachers/`), written as resumable
`.spacy` shards that the training readers take like gold corpora."""
from .run import SynthesisReport, synthesize
from .shards import ShardedOutput

__all__ = ["ShardedOutput", "SynthesisReport", "synthesize"]
