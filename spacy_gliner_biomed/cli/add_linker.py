"""`add-linker PIPELINE OUT --kb NAME=DIR... --label-kb LABEL=NAME...`: compose NER and linking.

Loads a saved pipeline with `gliner_biomed`, adds scispaCy's `abbreviation_detector` and a
`gliner_biomed_linker` after it, and saves the whole pipeline to OUT with the KB folders inside,
so `spacy.load(OUT)` links offline. The same in Python:

    nlp.add_pipe("abbreviation_detector", after="gliner_biomed")
    nlp.add_pipe("gliner_biomed_linker", config={"kbs": {"medic": "kbs/medic"}, "label_kbs": {"disease": "medic"}})
"""
import argparse
import sys
from typing import Dict, List

from ..errors import Errors, GlinerError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("add-linker", help="add abbreviation detection and entity linking to a saved pipeline")
    p.add_argument("pipeline", help="a saved pipeline with a gliner_biomed component")
    p.add_argument("out", help="where to save the composed pipeline")
    p.add_argument("--kb", nargs="+", required=True, metavar="NAME=DIR", help="knowledge-base folders from build-kb")
    p.add_argument("--label-kb", nargs="+", default=[], metavar="LABEL=NAME", help="which KB links each entity label")
    p.add_argument("--default-kb", default=None, help="the KB of labels not in --label-kb (default: they stay unlinked)")
    p.add_argument("--threshold", type=float, default=0.9, help="lowest candidate score kept (0.9: best on the dev sets; scispaCy uses 0.7)")
    p.add_argument("--no-abbreviations", action="store_true", help="leave scispaCy's abbreviation detector out")
    p.add_argument("--serializable", action="store_true",
                   help="abbreviations as plain data (make_serializable), needed for nlp.pipe(n_process > 1)")


def _pairs(items: List[str], what: str) -> Dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise GlinerError(Errors.E186.format(what=what, expected="KEY=VALUE", value=item))
        out[key.strip()] = value.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from ..linking.kb import require_scispacy
    from .pipelines import load_pipeline

    require_scispacy()  # both factories are found by this package's entry points
    kbs, label_kbs = _pairs(args.kb, "--kb"), _pairs(args.label_kb, "--label-kb")
    nlp = load_pipeline(args.pipeline)
    after = "gliner_biomed" if "gliner_biomed" in nlp.pipe_names else None
    if not args.no_abbreviations and "abbreviation_detector" not in nlp.pipe_names:
        nlp.add_pipe("abbreviation_detector", after=after, config={"make_serializable": args.serializable})
        after = "abbreviation_detector"
    linker = nlp.add_pipe(
        "gliner_biomed_linker", after=after,
        config={"kbs": kbs, "label_kbs": label_kbs, "default_kb": args.default_kb, "threshold": args.threshold},
    )
    linker.initialize()
    nlp.to_disk(args.out)
    print(f"Saved {' -> '.join(nlp.pipe_names)} to {args.out}", file=sys.stderr)
    return 0
