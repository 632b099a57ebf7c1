"""Entity label sets: what spaCy writes (the label) versus what the model reads (its prompt).

A label set is given as a list (`["disease", "chemical"]`, each label is its own prompt) or as a
mapping `{"DISEASE": "disease or syndrome"}` (the description is the prompt). Validation happens
here, once, so the model never sees an empty, duplicate or non-string prompt.
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import Errors, GlinerError

LabelsArg = Union[Sequence[str], Mapping[str, str]]


@dataclass(frozen=True)
class LabelSet:
    names: Tuple[str, ...]
    prompts: Tuple[str, ...]

    @classmethod
    def from_arg(cls, labels: Optional[LabelsArg]) -> "LabelSet":
        if labels is None:
            return cls((), ())
        if isinstance(labels, LabelSet):
            return labels
        if isinstance(labels, Mapping):
            names, prompts = list(labels.keys()), list(labels.values())
        elif isinstance(labels, (list, tuple)):
            # A list of [name, prompt] pairs is how the component stores a mapping in its cfg.
            if labels and all(isinstance(x, (list, tuple)) and len(x) == 2 for x in labels):
                names, prompts = [x[0] for x in labels], [x[1] for x in labels]
            else:
                names, prompts = list(labels), list(labels)
        else:
            raise GlinerError(Errors.E005.format(type=type(labels).__name__))
        for i, (name, prompt) in enumerate(zip(names, prompts)):
            for value in (name, prompt):
                if not isinstance(value, str) or not value.strip():
                    raise GlinerError(Errors.E002.format(label=value, index=i))
        seen: Dict[str, int] = {}
        for name in names:
            if name in seen:
                raise GlinerError(Errors.E003.format(label=name))
            seen[name] = 1
        by_prompt: Dict[str, List[str]] = {}
        for name, prompt in zip(names, prompts):
            by_prompt.setdefault(prompt, []).append(name)
        for prompt, owners in by_prompt.items():
            if len(owners) > 1:
                raise GlinerError(Errors.E004.format(prompt=prompt, labels=owners))
        return cls(tuple(names), tuple(prompts))

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    @property
    def has_descriptions(self) -> bool:
        return self.names != self.prompts

    def to_cfg(self) -> Union[List[str], List[List[str]]]:
        """JSON-friendly form for the component's cfg (a list, or [name, prompt] pairs)."""
        if not self.has_descriptions:
            return list(self.names)
        return [[n, p] for n, p in zip(self.names, self.prompts)]

    def to_config(self) -> Union[List[str], Dict[str, str]]:
        """The form a config file shows: a list, or {label: description}."""
        return list(self.names) if not self.has_descriptions else dict(zip(self.names, self.prompts))

    def for_doc(self, labels: LabelsArg) -> "LabelSet":
        """The label set a doc asks for (`doc.user_data["gliner_biomed.labels"]`): label names, each
        prompted with this set's description where it has one, or [name, prompt] pairs."""
        if isinstance(labels, (list, tuple)) and all(isinstance(x, str) for x in labels):
            described = dict(zip(self.names, self.prompts))
            labels = [[name, described.get(name, name)] for name in labels]
        return LabelSet.from_arg(labels)


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GlinerError(Errors.E008.format(name=name, value=value))
    return value


def validate_thresholds(threshold: float, label_thresholds: Optional[Mapping[str, float]], labels: Iterable[str]) -> Dict[str, float]:
    """Check the global and per-label thresholds; returns the per-label overrides as a plain dict."""
    _check_threshold("`threshold`", threshold)
    label_thresholds = dict(label_thresholds or {})
    known = list(labels)
    for label, value in label_thresholds.items():
        if known and label not in known:
            raise GlinerError(Errors.E007.format(label=label, labels=known))
        _check_threshold(f"label {label!r}", value)
    return label_thresholds


def _check_threshold(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise GlinerError(Errors.E006.format(what=what, value=value))
