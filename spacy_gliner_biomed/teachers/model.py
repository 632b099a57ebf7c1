"""A GLiNER model as a teacher: the way a large model (GLiNER-biomed-large, ...) annotates
unlabeled documents with open types for a small student to learn from.

    [teacher]
    @misc = "spacy_gliner_biomed.ModelTeacher.v1"
    model = "/models/gliner-biomed-large"      # a GLiNER folder, or a saved pipeline with a gliner_biomed component
    labels = null                              # the shipped type list; or a type-list file; or a list / {label: description}
    threshold = 0.5

The docs are annotated by the `gliner_biomed` component itself, run with `nlp.pipe` on the given
Doc objects (their tokens and sentence boundaries are kept; nothing is tokenized again), writing
`doc.spans` under a key of the teacher's own; each doc is then finished in the synthetic shape of
`teachers/base.py`, with `Span._.score` as the teacher's confidence.

A converted corpus doc may carry `doc.user_data["gliner_biomed.labels"]` (its dataset's types),
which the component would prompt instead of its own labels: the teacher removes it before the
doc reaches the model, and the finished doc lists the teacher's labels there instead.

Label groups: a uni-encoder reads all labels in one prompt beside the text, and a prompt of ~100
described types overruns its sub-token window (and is far beyond the 25 types a GLiNER model is
trained with per prompt). By default a uni-encoder is therefore asked its labels in groups of the
checkpoint's `max_types` (25 if unset), each group by its own component on the same shared
weights; a bi-encoder, whose score of a label does not depend on the other labels, is asked them
all at once. With one group, the teacher's spans and scores are the component's own. With
several, each group keeps every span above its threshold except partial overlaps within the
group (nested, multi-label decoding), and the union is then decoded with the teacher's
`flat_ner` / `multi_label` rule, by score.
"""
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, Span
from spacy.util import SimpleFrozenDict, registry

from ..decoding import SpanPrediction, greedy_decode
from ..errors import Errors, GlinerError
from ..keys import LABELS_KEY, SCORE_KEY
from ..labels import LabelSet, check_positive_int, validate_thresholds
from .base import finish_synthetic_doc
from .types import load_type_list

TEACHER_ID = "spacy_gliner_biomed.ModelTeacher.v1"
SPANS_KEY = "gliner_biomed.teacher"  # doc.spans[SPANS_KEY + ".<group>"], removed once a doc is finished
DEFAULT_MAX_TYPES = 25  # gliner's default `max_types`: the most labels its trainer puts in one prompt

LabelsSetting = Union[None, str, Path, Sequence[str], Mapping[str, str]]


@registry.misc(TEACHER_ID)
def create_model_teacher(
    model: str,
    labels: Optional[Union[str, Dict[str, str], List[str]]] = None,
    threshold: float = 0.5,
    label_thresholds: Dict[str, float] = SimpleFrozenDict(),
    batch_size: int = 32,
    windows_per_forward: int = 8,
    flat_ner: bool = False,
    multi_label: bool = False,
    labels_per_prompt: Optional[int] = None,
    name: str = "model",
) -> "ModelTeacher":
    """A teacher that annotates docs with a GLiNER model.

    model (str): A GLiNER folder (with gliner_config.json), or a saved pipeline (folder or
        installed package) with one gliner_biomed component.
    labels: null for the shipped biomedical type list, a type-list file (JSON, text or TSV;
        `teachers/types.py`), or the labels themselves: a list, or {label: description} (the model
        reads the description).
    threshold (float): Minimum span probability.
    label_thresholds (Dict[str, float]): Per-label overrides of `threshold`.
    batch_size (int): Docs per `nlp.pipe` batch.
    windows_per_forward (int): Word windows in one forward pass of the model.
    flat_ner (bool): Non-overlapping spans (default: nested, as GLiNER-biomed's synthetic data).
    multi_label (bool): One span may carry several labels.
    labels_per_prompt (Optional[int]): Labels asked in one prompt (null: all of them for a
        bi-encoder, the checkpoint's `max_types` for a uni-encoder).
    name (str): The teacher's name; its docs' dataset is "synthetic/<name>".
    """
    return ModelTeacher(
        model,
        labels=labels,
        threshold=threshold,
        label_thresholds=label_thresholds,
        batch_size=batch_size,
        windows_per_forward=windows_per_forward,
        flat_ner=flat_ner,
        multi_label=multi_label,
        labels_per_prompt=labels_per_prompt,
        name=name,
    )


def resolve_labels(labels: LabelsSetting, teacher: str = "model") -> LabelSet:
    """The `labels` setting as a label set: the shipped list, a type-list file, or given labels."""
    if labels is None:
        label_set = LabelSet.from_arg(load_type_list())
    elif isinstance(labels, (str, Path)):
        label_set = LabelSet.from_arg(load_type_list(labels))
    else:
        label_set = LabelSet.from_arg(labels)
    if not label_set:
        raise GlinerError(Errors.E148.format(what=f"The `labels` of teacher '{teacher}'"))
    return label_set


class ModelTeacher:
    """Annotates docs with a GLiNER model (see the module's docstring). `nlp` is the pipeline it
    runs: one `gliner_biomed` component per label group, all on the same weights."""

    def __init__(
        self,
        model: Union[str, Path],
        *,
        labels: LabelsSetting = None,
        threshold: float = 0.5,
        label_thresholds: Optional[Mapping[str, float]] = None,
        batch_size: int = 32,
        windows_per_forward: int = 8,
        flat_ner: bool = False,
        multi_label: bool = False,
        labels_per_prompt: Optional[int] = None,
        name: str = "model",
    ) -> None:
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise GlinerError(Errors.E147.format(name=name))
        self.name = name
        self.label_set = resolve_labels(labels, name)
        self.threshold = float(threshold)
        self.label_thresholds = validate_thresholds(threshold, label_thresholds, self.label_set.names)
        self.batch_size = check_positive_int("batch_size", batch_size)
        check_positive_int("windows_per_forward", windows_per_forward)
        if labels_per_prompt is not None:
            check_positive_int("labels_per_prompt", labels_per_prompt)
        self.flat_ner = bool(flat_ner)
        self.multi_label = bool(multi_label)
        self.model_path = str(model)
        source = load_gliner_component(model).model
        checkpoint = _checkpoint_of(source)
        if labels_per_prompt is None:
            labels_per_prompt = len(self.label_set) if checkpoint.is_bi_encoder else _max_types(checkpoint.config)
        names, prompts = self.label_set.names, self.label_set.prompts
        self.label_groups: Tuple[Tuple[str, ...], ...] = tuple(
            names[i : i + labels_per_prompt] for i in range(0, len(names), labels_per_prompt)
        )
        single = len(self.label_groups) == 1

        import spacy

        self.nlp = spacy.blank("xx")
        self._keys: List[str] = []
        described = dict(zip(names, prompts))
        for i, group in enumerate(self.label_groups):
            key = f"{SPANS_KEY}.{i}"
            config = {
                "labels": LabelSet.from_arg({n: described[n] for n in group}).to_config(),
                "threshold": self.threshold,
                "label_thresholds": {n: v for n, v in self.label_thresholds.items() if n in group},
                # one group: the component decodes as the teacher asks; several: it keeps all but
                # partial overlaps, and `_finish` decodes the union
                "flat_ner": self.flat_ner if single else False,
                "multi_label": self.multi_label if single else True,
                "spans_key": key,
                "windows_per_forward": windows_per_forward,
            }
            pipe = self.nlp.add_pipe("gliner_biomed", name=f"teacher_{i}", config=config)
            pipe.model = source  # the loaded weights, shared by every group's component
            self._keys.append(key)
        self._index = {n: i for i, n in enumerate(names)}

    @property
    def labels(self) -> Tuple[str, ...]:
        return self.label_set.names

    @property
    def label_descriptions(self) -> Dict[str, str]:
        return dict(zip(self.label_set.names, self.label_set.prompts))

    def __call__(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        """The same docs, in order, annotated and finished; a stream is read `batch_size` docs at
        a time."""
        prepared = (self._prepare(doc) for doc in docs)
        for doc in self.nlp.pipe(prepared, batch_size=self.batch_size):
            yield self._finish(doc)

    def _prepare(self, doc: Doc) -> Doc:
        if not isinstance(doc, Doc):
            raise GlinerError(Errors.E149.format(name=self.name, type=type(doc).__name__))
        # The component would prompt a doc's own labels (a converted corpus's types) instead of
        # its own: the teacher asks its label set of every doc.
        doc.user_data.pop(LABELS_KEY, None)
        _drop_scores(doc)  # the doc's previous annotation (a gold corpus, another teacher) is replaced
        return doc

    def _finish(self, doc: Doc) -> Doc:
        found = [span for key in self._keys for span in doc.spans[key]]
        scores = {(s.start, s.end, s.label_): s._.score for s in found}
        if len(self._keys) == 1:
            spans = found
        else:
            candidates = sorted(
                (SpanPrediction(s.start, s.end - 1, self._index[s.label_], scores[(s.start, s.end, s.label_)]) for s in found),
                key=lambda c: (c.start, c.end, c.label),
            )
            width = max((c.end - c.start + 1 for c in candidates), default=1)
            kept = greedy_decode(candidates, flat=self.flat_ner, multi_label=self.multi_label, max_width=width)
            spans = [Span(doc, c.start, c.end + 1, label=self.labels[c.label]) for c in kept]
        for key in self._keys:
            del doc.spans[key]
        _drop_scores(doc)  # those of spans a group found and the final decoding left out
        return finish_synthetic_doc(
            doc,
            spans,
            self.labels,
            self.name,
            scores={(s.start_char, s.end_char, s.label_): scores[(s.start, s.end, s.label_)] for s in spans},
        )


def _drop_scores(doc: Doc) -> None:
    stale = [k for k in doc.user_data if isinstance(k, tuple) and k and k[0] == SCORE_KEY]
    for k in stale:
        del doc.user_data[k]


def _max_types(config: Mapping) -> int:
    value = config.get("max_types")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else DEFAULT_MAX_TYPES


def _checkpoint_of(model):
    from ..layers.gliner_model import get_shim

    return get_shim(model).checkpoint


def load_gliner_component(model: Union[str, Path]):
    """A gliner_biomed component on a GLiNER folder, or the one gliner_biomed component of a saved
    pipeline (loaded without its other components: teachers and curation run only the model)."""
    import spacy
    from spacy.util import is_package

    from ..checkpoint import CONFIG_NAME
    from ..pipeline_component import get_component

    path = Path(model)
    if not path.exists() and isinstance(model, str) and is_package(model):
        nlp = _spacy_load(model)
        component = get_component(nlp, _gliner_component(model, nlp.pipe_names, nlp.config))
        component.checkpoint  # a pipeline saved without weights: E020
        return component
    if not path.exists():
        raise GlinerError(Errors.E140.format(path=model, problem="does not exist"))
    if not path.is_dir():
        raise GlinerError(Errors.E140.format(path=model, problem="is a file, not a folder"))
    if (path / CONFIG_NAME).is_file():
        return spacy.blank("xx").add_pipe("gliner_biomed", config={"checkpoint": str(path)})
    if not (path / "config.cfg").is_file():
        raise GlinerError(
            Errors.E140.format(path=model, problem=f"has neither {CONFIG_NAME} (a GLiNER folder) nor config.cfg (a saved pipeline)")
        )
    try:
        config = spacy.util.load_config(path / "config.cfg", interpolate=False)
    except Exception as err:  # confection's parse errors are of several types
        raise GlinerError(Errors.E081.format(path=model, err=(str(err).strip().splitlines() or [type(err).__name__])[0])) from err
    names = list(config["nlp"]["pipeline"])
    name = _gliner_component(model, names, config)
    nlp = _spacy_load(path, exclude=[n for n in names if n != name])
    component = get_component(nlp, name)
    component.checkpoint  # a pipeline saved without weights: E020
    return component


def _gliner_component(model, names: Sequence[str], config) -> str:
    components = config.get("components", {})
    found = [n for n in names if components.get(n, {}).get("factory") == "gliner_biomed"]
    if not found:
        raise GlinerError(Errors.E141.format(path=model, names=list(names)))
    if len(found) > 1:
        raise GlinerError(Errors.E142.format(path=model, names=found))
    return found[0]


def _spacy_load(model, exclude: Sequence[str] = ()):
    import spacy

    try:
        return spacy.load(model, exclude=list(exclude))
    except (OSError, ValueError) as err:
        if isinstance(err, GlinerError):
            raise
        raise GlinerError(Errors.E081.format(path=model, err=str(err).splitlines()[0])) from err
