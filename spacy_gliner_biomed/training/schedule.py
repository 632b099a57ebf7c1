"""Sizing a training run: from the number of examples to steps, warm-up and evaluation frequency.

spaCy's `warmup_linear.v1` schedule needs its total number of steps in the config; the recipe,
the benchmarks and the README all size runs through this one function.
"""
from typing import Dict

WARMUP_FRACTION = 0.1  # linear warm-up over the first 10% of the steps, as the reference trainer


def schedule_overrides(
    n_examples: int, batch_size: int, epochs: int, evaluations: int = 4, max_steps: int = 0
) -> Dict[str, int]:
    """`spacy train` overrides for one run: steps = epochs x examples / batch size (at least 1),
    or `max_steps` when given (as many epochs as they take), warm-up 10% of them, dev scoring
    `evaluations` times over the run (0: only before the first step, so that a timed run is all
    training)."""
    steps = max_steps or max(1, epochs * n_examples // batch_size)
    eval_frequency = max(1, steps // evaluations) if evaluations > 0 else 10 * steps
    return {
        "training.max_epochs": 0 if max_steps else epochs,
        "training.max_steps": max_steps,
        "training.optimizer.learn_rate.total_steps": steps,
        "training.optimizer.learn_rate.warmup_steps": max(1, int(steps * WARMUP_FRACTION)),
        "training.eval_frequency": eval_frequency,
    }


def as_cli_args(overrides: Dict[str, object]) -> list:
    """The overrides as `spacy train` command-line arguments (`--training.max_epochs 1 ...`)."""
    return [arg for key, value in overrides.items() for arg in (f"--{key}", str(value))]
