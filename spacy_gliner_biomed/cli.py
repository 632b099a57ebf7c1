"""Command line: `python -m spacy_gliner_biomed COMMAND ...`.

    export PIPELINE OUT [--component gliner_biomed] [--overwrite]
        Write a pipeline's gliner_biomed model as a GLiNER folder (loads in `gliner`).
    annotate MODEL --labels disease chemical ... [--threshold 0.5] < texts.txt
        MODEL is a GLiNER folder or a saved pipeline; prints one JSON line of entities per input line.
    convert DATASET... --data ../shared/data --out corpus
        Corpora (IOB2, PubTator, brat, GLiNER JSON) to .spacy files with natural-language labels.
    evaluate PIPELINE DATASET.spacy... [--out DIR]
        Strict and relaxed P/R/F1 per dataset and label, as Markdown and JSON.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .corpora import add_convert_parser, run_convert
from .errors import GlinerError
from .evaluation import add_evaluate_parser, run_evaluate
from .labels import validate_thresholds


def export(pipeline: str, out: str, component: str = "gliner_biomed", overwrite: bool = False) -> Path:
    import spacy

    nlp = spacy.load(pipeline)
    return nlp.get_pipe(component).export_gliner(out, overwrite=overwrite)


def annotate(model: str, labels: List[str], threshold: Optional[float], lines) -> None:
    """A GLiNER folder gets the given labels and threshold (default 0.5); a saved pipeline keeps
    its own labels and threshold unless they are given."""
    import spacy

    if (Path(model) / "gliner_config.json").is_file():
        nlp = spacy.blank("en")
        config = {"checkpoint": model, "labels": labels, "threshold": 0.5 if threshold is None else threshold}
        nlp.add_pipe("gliner_biomed", config=config)
    else:
        nlp = spacy.load(model)
        ner = nlp.get_pipe("gliner_biomed")
        if labels:
            ner.labels = labels
        if threshold is not None:
            validate_thresholds(threshold, None, ner.labels)
            ner.cfg["threshold"] = threshold
    texts = (line.rstrip("\n") for line in lines)
    for doc in nlp.pipe(texts, batch_size=64):
        ents = [{"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)}
                for e in doc.ents]
        print(json.dumps(ents, ensure_ascii=False))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spacy_gliner_biomed", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("export", help="write a pipeline's model as a GLiNER folder")
    p.add_argument("pipeline")
    p.add_argument("out")
    p.add_argument("--component", default="gliner_biomed")
    p.add_argument("--overwrite", action="store_true")
    p = commands.add_parser("annotate", help="entities for each line of standard input, as JSON lines")
    p.add_argument("model")
    p.add_argument("--labels", nargs="+", default=[])
    p.add_argument("--threshold", type=float, default=None, help="default: the pipeline's own, or 0.5")
    add_convert_parser(commands)
    add_evaluate_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "convert":
        return run_convert(args)
    if args.command == "evaluate":
        return run_evaluate(args)
    try:
        if args.command == "export":
            print(export(args.pipeline, args.out, args.component, args.overwrite))
        else:
            annotate(args.model, args.labels, args.threshold, sys.stdin)
    except GlinerError as err:
        print(err, file=sys.stderr)
        return 1
    return 0
