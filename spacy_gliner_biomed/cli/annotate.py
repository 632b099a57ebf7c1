"""`annotate MODEL`: entities of each line of standard input, as JSON lines."""
import argparse
import json
import sys
from typing import Iterable, List, Optional

from ..errors import Errors, GlinerError
from ..labels import validate_thresholds
from .pipelines import check_folder, load_pipeline


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("annotate", help="entities for each line of standard input, as JSON lines")
    p.add_argument("model", help="a GLiNER folder or a saved pipeline")
    p.add_argument("--labels", nargs="+", default=[], help="labels to find (default: a saved pipeline's own)")
    p.add_argument("--threshold", type=float, default=None, help="default: the pipeline's own, or 0.5")


def run(args: argparse.Namespace) -> int:
    annotate(args.model, args.labels, args.threshold, sys.stdin)
    return 0


def build(model: str, labels: List[str], threshold: Optional[float]):
    """A GLiNER folder gets the given labels and threshold (default 0.5); a saved pipeline keeps
    its own labels and threshold unless they are given (and says which labels it uses)."""
    import spacy
    from spacy.util import is_package

    from ..pipeline_component import get_component

    if threshold is not None:  # checked before a model is loaded, and before anything is printed
        validate_thresholds(threshold, None, ())
    folder = None if is_package(model) else check_folder(model, "Model")
    if folder is not None and (folder / "gliner_config.json").is_file():
        if not labels:
            raise GlinerError(Errors.E092.format(path=model, what="is a GLiNER folder"))
        nlp = spacy.blank("en")
        config = {"checkpoint": str(folder), "labels": labels, "threshold": 0.5 if threshold is None else threshold}
        nlp.add_pipe("gliner_biomed", config=config)
        return nlp
    nlp = load_pipeline(model)
    ner = get_component(nlp, "gliner_biomed")
    if threshold is not None:
        ner.threshold = threshold
    if labels:
        ner.labels = labels
    elif not ner.labels:
        raise GlinerError(Errors.E092.format(path=model, what="is a pipeline without labels"))
    else:
        print(f"Labels: {', '.join(ner.labels)} (the pipeline's own; --labels to change)", file=sys.stderr)
    return nlp


def annotate(model: str, labels: List[str], threshold: Optional[float], lines: Iterable[str]) -> None:
    nlp = build(model, labels, threshold)
    texts = (line.rstrip("\n") for line in lines)
    for doc in nlp.pipe(texts, batch_size=64):
        ents = [
            {"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)}
            for e in doc.ents
        ]
        print(json.dumps(ents, ensure_ascii=False))
