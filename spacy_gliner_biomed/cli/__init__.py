"""Command line: `python -m spacy_gliner_biomed COMMAND ...`, one module per command.

    export PIPELINE OUT [--component gliner_biomed] [--overwrite]
        Write a pipeline's gliner_biomed model as a GLiNER folder (loads in `gliner`).
    annotate MODEL [--labels disease chemical ...] [--threshold 0.5] < texts.txt
        MODEL is a GLiNER folder or a saved pipeline; prints one JSON line of entities per input line.
    convert DATASET... --data ../shared/data --out corpus
        Corpora (IOB2, PubTator, brat, GLiNER JSON) to .spacy files with natural-language labels.
    evaluate PIPELINE DATASET... [--corpus corpus] [--out DIR] [--link]
        Strict and relaxed P/R/F1 per dataset and label, as Markdown and JSON; --link: normalisation.
    synthesize CONFIG --texts SPEC... --out DIR --held-out corpus [--paths.x y ...]
        Raw text annotated by a teacher (lexicon, model, LLM, combined) into resumable .spacy shards.
    curate SHARDS... --weak-model MODEL --out DIR [--score ifd|loss|random] [--fraction 0.5]
        Weak-to-strong selection of synthetic examples (Hybrid Superfiltering), with a report.
    build-kb NAME --out DIR [--medic F] [--mesh F --tree-prefix D] [--jsonl F] [--mentions F --mention-labels L]
        A knowledge base and candidate index (scispaCy's format) for entity linking, offline.
    add-linker PIPELINE OUT --kb NAME=DIR... --label-kb LABEL=NAME...
        Add scispaCy's abbreviation detector and the label-routed linker; save with the KBs inside.

Bad input ends a command with one line on stderr naming what was wrong, and exit status 1.
"""
import argparse
import sys
from typing import List, Optional

from ..errors import GlinerError
from . import add_linker, annotate, build_kb, convert, curate, evaluate, export, synthesize

COMMANDS = {
    "export": export, "annotate": annotate, "convert": convert, "evaluate": evaluate, "synthesize": synthesize,
    "curate": curate, "build-kb": build_kb, "add-linker": add_linker,
}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spacy_gliner_biomed", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "synthesize":  # only synthesize takes config overrides
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "synthesize":
            return synthesize.run(args, extra)
        return COMMANDS[args.command].run(args)
    except GlinerError as err:
        print(err, file=sys.stderr)
        return 1
