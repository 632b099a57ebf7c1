"""`gliner_biomed_linker`: scispaCy's candidate generation, each entity label to its own KB.

scispaCy's `scispacy_linker` links every entity against one knowledge base and leaves
`ent.kb_id_` empty. A biomedical pipeline has diseases for MEDIC and chemicals for MeSH, so this
component routes each entity by its label (`label_kbs`), asks that KB's scispaCy
`CandidateGenerator` (char 3-gram TF-IDF + nmslib, unchanged), scores candidates exactly as
scispaCy's linker does (best alias similarity; optional definition filter; `threshold`), keeps
`ent._.kb_ents` (the extension scispaCy's linker writes) and sets `ent.kb_id_` to the best
candidate, spaCy's convention ("" when none clears the threshold).

Abbreviations (scispaCy's `abbreviation_detector`, placed before this component):
- a short form is looked up by its long form's text (`resolve_abbreviations`), as scispaCy does;
- a short form takes its long form's entity label (`propagate_abbreviations`): "acute kidney
  injury (AKI)" labelled disease makes every "AKI" of the doc a disease, found or not by the NER.
  The NER reads text, not abbreviation definitions: the detector runs on its output, so one
  rule, applied after both, keeps them consistent.

The KB folders are copied into the pipeline by `to_disk`, so a saved pipeline links offline
with nothing but its own folder. scispaCy is imported when the first KB is loaded, not before:
spaCy imports every factory whenever it builds a pipeline.
"""
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from ..errors import Errors, GlinerError, Warnings, warn
from ..keys import SCORE_KEY
from .kb import LoadedKB, check_kb_folder, load_kb

KB_ENTS = "kb_ents"
COUNTS = ("mentions", "linked", "no_candidate", "no_kb", "abbreviation_relabelled", "abbreviation_added", "abbreviation_conflict")


@Language.factory(
    "gliner_biomed_linker",
    assigns=["doc.ents", "span._.kb_ents"],
    default_config={
        "kbs": {},
        "label_kbs": {},
        "default_kb": None,
        "threshold": 0.9,
        "k": 30,
        "max_entities_per_mention": 5,
        "resolve_abbreviations": True,
        "propagate_abbreviations": True,
        "filter_for_definitions": False,
        "no_definition_threshold": 0.95,
        "ef_search": 200,
    },
)
def make_gliner_biomed_linker(
    nlp: Language,
    name: str,
    kbs: Dict[str, str],
    label_kbs: Dict[str, str],
    default_kb: Optional[str],
    threshold: float,
    k: int,
    max_entities_per_mention: int,
    resolve_abbreviations: bool,
    propagate_abbreviations: bool,
    filter_for_definitions: bool,
    no_definition_threshold: float,
    ef_search: int,
) -> "GlinerBiomedLinker":
    return GlinerBiomedLinker(
        name, kbs, label_kbs, default_kb, threshold=threshold, k=k, max_entities_per_mention=max_entities_per_mention,
        resolve_abbreviations=resolve_abbreviations, propagate_abbreviations=propagate_abbreviations,
        filter_for_definitions=filter_for_definitions, no_definition_threshold=no_definition_threshold, ef_search=ef_search,
    )


def _check_number(what: str, value: Any, low: float, high: float, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise GlinerError(Errors.E186.format(what=what, expected=f"{kind} in [{low}, {high}]", value=value))


class GlinerBiomedLinker:
    def __init__(
        self,
        name: str,
        kbs: Dict[str, Union[str, Path]],
        label_kbs: Dict[str, str],
        default_kb: Optional[str] = None,
        *,
        threshold: float = 0.9,
        k: int = 30,
        max_entities_per_mention: int = 5,
        resolve_abbreviations: bool = True,
        propagate_abbreviations: bool = True,
        filter_for_definitions: bool = False,
        no_definition_threshold: float = 0.95,
        ef_search: int = 200,
    ) -> None:
        if not kbs:
            raise GlinerError(Errors.E184)
        for label, kb in [*label_kbs.items(), *([("(default_kb)", default_kb)] if default_kb is not None else [])]:
            if kb not in kbs:
                raise GlinerError(Errors.E183.format(label=label, kb=kb, known=sorted(kbs)))
        _check_number("threshold", threshold, 0.0, 1.0)
        _check_number("no_definition_threshold", no_definition_threshold, 0.0, 1.0)
        _check_number("k", k, 1, 10_000, integer=True)
        _check_number("max_entities_per_mention", max_entities_per_mention, 1, 10_000, integer=True)
        _check_number("ef_search", ef_search, 1, 1_000_000, integer=True)
        self.name = name
        self.kb_paths = {kb: Path(path) for kb, path in kbs.items()}
        self.label_kbs = dict(label_kbs)
        self.default_kb = default_kb
        self.threshold = float(threshold)
        self.k = k
        self.max_entities_per_mention = max_entities_per_mention
        self.resolve_abbreviations = resolve_abbreviations
        self.propagate_abbreviations = propagate_abbreviations
        self.filter_for_definitions = filter_for_definitions
        self.no_definition_threshold = float(no_definition_threshold)
        self.ef_search = ef_search
        self._kbs: Dict[str, LoadedKB] = {}
        self.counts: Dict[str, int] = dict.fromkeys(COUNTS, 0)
        self._unmapped: Dict[str, int] = {}
        if not Span.has_extension(KB_ENTS):
            Span.set_extension(KB_ENTS, default=[])

    # -- knowledge bases ---------------------------------------------------------------------
    def kb(self, name: str) -> LoadedKB:
        """A KB, loaded on first use (a pipeline is built, saved and loaded without reading them)."""
        if name not in self._kbs:
            self._kbs[name] = load_kb(self.kb_paths[name], self.ef_search)
        return self._kbs[name]

    def kb_for(self, label: str) -> Optional[str]:
        return self.label_kbs.get(label, self.default_kb)

    def initialize(self, get_examples: Optional[Callable[[], Iterable]] = None, *, nlp: Optional[Language] = None) -> None:
        for name in self.kb_paths:
            self.kb(name)

    # -- linking -----------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc], batch_size=1)))

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            yield from self._link_batch(docs)

    def link_texts(
        self, kb_name: str, texts: List[str], threshold: Optional[float] = None
    ) -> List[List[Tuple[str, float]]]:
        """Ranked (concept id, score) candidates of mention strings in one KB, as entities get them
        (`threshold`: instead of the component's own, e.g. 0 to rank every candidate)."""
        loaded = self.kb(kb_name)
        threshold = self.threshold if threshold is None else threshold
        out = []
        for candidates in loaded.generator(texts, self.k) if texts else []:
            scored = []
            for candidate in candidates:
                score = max(candidate.similarities)
                entity = loaded.kb.cui_to_entity[candidate.concept_id]
                if self.filter_for_definitions and entity.definition is None and score < self.no_definition_threshold:
                    continue
                if score >= threshold:
                    scored.append((candidate.concept_id, round(float(score), 6)))
            scored.sort(key=lambda pair: (-pair[1], pair[0]))
            out.append(scored[: self.max_entities_per_mention])
        return out

    def _link_batch(self, docs: List[Doc]) -> List[Doc]:
        queries: Dict[str, List[Tuple[int, int, str]]] = {}  # kb -> (doc index, ent index, text)
        ents_per_doc: List[List[Span]] = []
        for i, doc in enumerate(docs):
            abbreviations = abbreviation_pairs(doc)
            ents = self._propagate(doc, abbreviations) if self.propagate_abbreviations else list(doc.ents)
            ents_per_doc.append(ents)
            long_forms = {short: long for short, long in abbreviations} if self.resolve_abbreviations else {}
            for j, ent in enumerate(ents):
                self.counts["mentions"] += 1
                kb_name = self.kb_for(ent.label_)
                if kb_name is None:
                    self.counts["no_kb"] += 1
                    self._unmapped[ent.label_] = self._unmapped.get(ent.label_, 0) + 1
                    continue
                long = long_forms.get((ent.start, ent.end))
                text = doc[long[0] : long[1]].text if long is not None else ent.text
                queries.setdefault(kb_name, []).append((i, j, text))
        links: Dict[Tuple[int, int], List[Tuple[str, float]]] = {}
        for kb_name, items in queries.items():
            # a mention text (a repeated short form, a recurring disease) is looked up once per batch
            unique = list(dict.fromkeys(text for _, _, text in items))
            ranked = dict(zip(unique, self.link_texts(kb_name, unique)))
            for i, j, text in items:
                links[(i, j)] = ranked[text]
        for i, (doc, ents) in enumerate(zip(docs, ents_per_doc)):
            new_ents = []
            for j, ent in enumerate(ents):
                if (i, j) not in links:  # no KB for its label: left as it is
                    new_ents.append(ent)
                    continue
                ranked = links[(i, j)]
                self.counts["linked" if ranked else "no_candidate"] += 1
                new_ents.append(Span(doc, ent.start, ent.end, label=ent.label, kb_id=ranked[0][0] if ranked else ""))
            doc.ents = new_ents
            for j, span in enumerate(new_ents):
                span._.set(KB_ENTS, list(links.get((i, j), [])))  # each span its own list
        if self._unmapped:
            warn(Warnings.W014.format(n=len(self._unmapped), labels=sorted(self._unmapped), n_mentions=sum(self._unmapped.values()), name=self.name))
            self._unmapped = {}
        return docs

    def _propagate(self, doc: Doc, abbreviations: List[Tuple[Tuple[int, int], Tuple[int, int]]]) -> List[Span]:
        """doc.ents with each short form given its long form's label (see the module docstring)."""
        ents = {(e.start, e.end): e for e in doc.ents}
        for (s_start, s_end), (l_start, l_end) in abbreviations:
            long_ent = ents.get((l_start, l_end)) or next(
                (e for e in ents.values() if e.end == l_end and l_start <= e.start), None
            )
            if long_ent is None:
                continue
            current = ents.get((s_start, s_end))
            if current is not None and current.label == long_ent.label:
                continue
            if current is None and any(e.start < s_end and s_start < e.end for e in ents.values()):
                self.counts["abbreviation_conflict"] += 1
                continue
            short = Span(doc, s_start, s_end, label=long_ent.label)
            score = doc.user_data.get((SCORE_KEY, long_ent.start_char, long_ent.end_char, long_ent.label_))
            if score is not None:
                doc.user_data.setdefault((SCORE_KEY, short.start_char, short.end_char, short.label_), score)
            ents[(s_start, s_end)] = short
            self.counts["abbreviation_added" if current is None else "abbreviation_relabelled"] += 1
        return sorted(ents.values(), key=lambda e: e.start)

    # -- serialization: the KB folders travel inside the pipeline ------------------------------
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, source in self.kb_paths.items():
            check_kb_folder(source)
            target = path / "kbs" / name
            if target.resolve() != source.resolve():
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(source, target)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> "GlinerBiomedLinker":
        path = Path(path)
        for name in self.kb_paths:
            check_kb_folder(path / "kbs" / name)
            self.kb_paths[name] = path / "kbs" / name
        self._kbs = {}
        return self


def abbreviation_pairs(doc: Doc) -> List[Tuple[Tuple[int, int], Tuple[int, int]]]:
    """(short form, long form) token offsets from scispaCy's `doc._.abbreviations`: Spans with
    `_.long_form`, or the dicts of `make_serializable = true` (needed for `n_process > 1`)."""
    if not Doc.has_extension("abbreviations"):
        return []
    pairs = []
    for item in doc._.abbreviations:
        if isinstance(item, dict):
            pairs.append(((item["short_start"], item["short_end"]), (item["long_start"], item["long_end"])))
        elif isinstance(item, Span) and isinstance(item._.long_form, Span):
            pairs.append(((item.start, item.end), (item._.long_form.start, item._.long_form.end)))
    return pairs
