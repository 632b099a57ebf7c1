"""A teacher from its config: the `[teacher]` block of a config file, with dotted overrides.

The config text (overrides applied, not interpolated) is what fingerprints a teacher run, and what
a Ray worker builds its own teacher from (`teacher_from_config` pickles as a name and a string,
where a built teacher may hold a model or an HTTP client).
"""
from typing import List, Tuple

from ..errors import Errors, GlinerError
from .base import Teacher


def teacher_config_text(config_path: str, overrides: List[str]) -> str:
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    try:
        parsed = parse_config_overrides(overrides)
    except SystemExit:
        raise GlinerError(Errors.E162.format(args=overrides)) from None
    config = load_config(config_path, overrides=parsed, interpolate=False)
    if "teacher" not in config:
        raise GlinerError(Errors.E163.format(path=config_path))
    return config.to_str()


def teacher_from_config(config_text: str) -> Teacher:
    from spacy.util import registry
    from thinc.api import Config

    from . import combined, lexicon, llm, model  # noqa: F401  (registers the teachers where entry points are not installed)

    return registry.resolve(Config().from_str(config_text))["teacher"]


def load_teacher(config_path: str, overrides: List[str]) -> Tuple[Teacher, str]:
    """The teacher a config file builds, and its config text."""
    text = teacher_config_text(config_path, overrides)
    return teacher_from_config(text), text
