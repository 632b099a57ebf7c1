"""Normalisation scores of a pipeline's `gliner_biomed_linker`, as the BioCreative tasks count them.

- **Gold mentions** (linking alone): every gold span with a concept id is linked in the KB its
  label maps to, with its abbreviation resolved as in the pipeline, every candidate ranked (the
  linker's threshold is not applied: this measures the ranking). Accuracy@1: the best candidate
  is a gold id; recall@5: one of the first five is. A composite mention (`D1|D2`,
  NCBI's `D1+D2`) names several concepts and one link names one: it counts as correct when the
  link is any of them. Mentions without a concept (`-1`) are not scored (counted).
- **End to end** (NER + linking): per abstract, the set of (label, concept id) the pipeline
  finds against the gold set (composite ids split into their parts, `-1` left out), pooled over
  abstracts: micro P/R/F1 per label, BioCreative V CDR's disease-NER (DNER) measure.

Ids compare through the KB's alternative ids (MEDIC gives OMIM ids of MeSH diseases), so an
OMIM gold id and the MeSH concept the KB files it under are one concept.
"""
import sys
import time
from typing import Any, Dict, List, Sequence, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from ..corpora.docs import predicted_doc
from ..errors import Errors, GlinerError
from ..keys import GOLD_KEY, LABELS_KEY
from .metrics import Counts
from .run import DatasetsArg, _as_datasets, _check_split, _dataset_labels

ANCHORS = {  # published normalisation F1, for the README table beside ours
    ("ncbi-disease", "disease"): {"TaggerOne": 80.7, "DNorm": 78.2},
    ("bc5cdr", "chemical"): {"TaggerOne": 89.5},
}


def gold_ids(kb_id: str) -> List[str]:
    """The concept ids of a gold annotation: `D1|D2` and `D1+D2` are composite, `-1` is none."""
    parts = [p.strip() for chunk in kb_id.split("|") for p in chunk.split("+")]
    return [p for p in parts if p and p != "-1"]


def _long_forms(nlp: Language, doc: Doc) -> Dict[Tuple[int, int], str]:
    """Short form (token offsets) -> long form text, by the pipeline's own abbreviation detector."""
    from ..linking.component import abbreviation_pairs

    if "abbreviation_detector" not in nlp.pipe_names:
        return {}
    doc = nlp.get_pipe("abbreviation_detector")(doc)
    return {short: doc[long[0] : long[1]].text for short, long in abbreviation_pairs(doc)}


def evaluate_linking(
    nlp: Language,
    datasets: DatasetsArg,
    *,
    linker: str = "gliner_biomed_linker",
    allow_train: bool = False,
    end_to_end: bool = True,
    batch_size: int = 32,
    limit: int = 0,
    progress: bool = False,
) -> Dict[str, Any]:
    if linker not in nlp.pipe_names:
        raise GlinerError(Errors.E188.format(name=linker))
    component = nlp.get_pipe(linker)
    report: Dict[str, Any] = {"linker": linker, "threshold": component.threshold, "datasets": {}}
    for ds in _as_datasets(datasets, nlp.vocab):
        _check_split(ds, allow_train)
        docs = ds.docs[:limit] if limit else ds.docs
        if not any(s.kb_id_ for d in docs for s in d.spans.get(GOLD_KEY, d.ents)):
            raise GlinerError(Errors.E187.format(dataset=ds.name))
        labels = _dataset_labels(ds).names
        result: Dict[str, Any] = {"n_docs": len(docs), "gold_mentions": _gold_mentions(nlp, component, docs, labels)}
        if end_to_end:
            result["end_to_end"] = _end_to_end(nlp, component, docs, labels, batch_size, progress, ds.name)
        report["datasets"][ds.name] = result
    return report


def _gold_mentions(nlp: Language, component, docs: Sequence[Doc], labels: Sequence[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    # abbreviations are found once per doc, for every label
    long_forms = [_long_forms(nlp, predicted_doc(nlp.vocab, d)) if component.resolve_abbreviations else {} for d in docs]
    for label in labels:
        kb_name = component.kb_for(label)
        if kb_name is None:
            out[label] = {"kb": None, "skipped": "no KB mapped"}
            continue
        kb = component.kb(kb_name)
        texts, golds, no_id = [], [], 0
        for doc, doc_long_forms in zip(docs, long_forms):
            for span in doc.spans.get(GOLD_KEY, doc.ents):
                if span.label_ != label:
                    continue
                ids = gold_ids(span.kb_id_)
                if not ids:
                    no_id += 1
                    continue
                texts.append(doc_long_forms.get((span.start, span.end), span.text))
                golds.append({kb.canonical_id(i) for i in ids})
        start = time.perf_counter()
        ranked = component.link_texts(kb_name, texts, threshold=0.0)
        seconds = time.perf_counter() - start
        at1 = sum(bool(r) and kb.canonical_id(r[0][0]) in g for r, g in zip(ranked, golds))
        at5 = sum(any(kb.canonical_id(c) in g for c, _ in r[:5]) for r, g in zip(ranked, golds))
        n = len(golds)
        out[label] = {
            "kb": kb_name, "mentions": n, "without_id": no_id, "accuracy_at_1": at1 / n if n else 0.0,
            "recall_at_5": at5 / n if n else 0.0, "no_candidate": sum(not r for r in ranked),
            "mentions_per_second": n / seconds if seconds > 0 else 0.0,
        }
    return out


def _end_to_end(nlp, component, docs, labels, batch_size, progress, name) -> Dict[str, Any]:
    from tqdm import tqdm

    fresh = [predicted_doc(nlp.vocab, d) for d in docs]
    for doc in fresh:
        doc.user_data[LABELS_KEY] = list(labels)
    start = time.perf_counter()
    predicted = list(tqdm(nlp.pipe(fresh, batch_size=batch_size), total=len(fresh), desc=f"{name} (link)", unit="doc",
                          disable=not progress, file=sys.stderr))
    seconds = time.perf_counter() - start
    out = score_concepts(component, docs, predicted, labels)
    out["docs_per_second"] = len(docs) / seconds if seconds > 0 else 0.0
    return out


def score_concepts(
    component, gold_docs: Sequence[Doc], predicted: Sequence[Doc], labels: Sequence[str], min_score: float = 0.0
) -> Dict[str, Any]:
    """Per-abstract concept sets of predicted vs gold docs, pooled: {label: P/R/F1 and counts}.
    `min_score` drops links whose best candidate scored less (a higher linker threshold, without
    running the pipeline again)."""
    counts = {label: Counts() for label in labels}

    def canonical(label: str, concept_id: str) -> str:
        kb_name = component.kb_for(label)
        return component.kb(kb_name).canonical_id(concept_id) if kb_name else concept_id

    for gold_doc, doc in zip(gold_docs, predicted):
        gold: Set[Tuple[str, str]] = {
            (span.label_, canonical(span.label_, i))
            for span in gold_doc.spans.get(GOLD_KEY, gold_doc.ents) for i in gold_ids(span.kb_id_)
        }
        found = {
            (e.label_, canonical(e.label_, e.kb_id_))
            for e in doc.ents if e.kb_id_ and e.label_ in counts and e._.kb_ents and e._.kb_ents[0][1] >= min_score
        }
        for label in labels:
            g = {c for c in gold if c[0] == label}
            f = {c for c in found if c[0] == label}
            counts[label] += Counts(len(g & f), len(f - g), len(g - f))
    return {label: c.to_dict() for label, c in counts.items()}


def format_linking_markdown(report: Dict[str, Any]) -> str:
    lines = [
        f"## Entity linking (`{report['linker']}`, candidate threshold {report['threshold']})",
        "",
        "Gold mentions: accuracy@1 and recall@5 of the linker alone (all candidates ranked, no threshold). End to end: NER + linking, per "
        "abstract the set of concept ids found vs gold, micro P/R/F1 (BioCreative V CDR's DNER measure). In %.",
        "",
        "| dataset | label | KB | mentions | acc@1 | recall@5 | end-to-end P | R | F1 | published F1 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, ds in report["datasets"].items():
        for label, g in ds["gold_mentions"].items():
            e = ds.get("end_to_end", {}).get(label)
            anchors = ", ".join(f"{k} {v}" for k, v in ANCHORS.get((name, label), {}).items())
            if g.get("kb") is None:
                lines.append(f"| {name} | {label} | none | | | | | | | {anchors} |")
                continue
            e2e = f"{100 * e['p']:.1f} | {100 * e['r']:.1f} | {100 * e['f']:.1f}" if e else " | | "
            lines.append(
                f"| {name} | {label} | {g['kb']} | {g['mentions']} | {100 * g['accuracy_at_1']:.1f} "
                f"| {100 * g['recall_at_5']:.1f} | {e2e} | {anchors} |"
            )
    return "\n".join(lines) + "\n"
