"""Weak-to-strong curation of synthetic data (BioSelectTune's Hybrid Superfiltering): a weak model
of the student's architecture scores every teacher-annotated example, the top share of positives
is kept by IFD and every negative is kept."""
from .run import curate
from .scores import NEUTRAL_PROMPT, WeakScores, weak_scores
from .selection import METHODS, hybrid_select, n_kept, rank_positives

__all__ = ["curate", "weak_scores", "WeakScores", "NEUTRAL_PROMPT", "hybrid_select", "rank_positives", "n_kept", "METHODS"]
