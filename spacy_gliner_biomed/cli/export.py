"""`export PIPELINE OUT`: a pipeline's gliner_biomed model as a GLiNER folder."""
import argparse
from pathlib import Path

from ..errors import Errors, GlinerError
from .pipelines import load_pipeline


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a pipeline's model as a GLiNER folder")
    p.add_argument("pipeline", help="a saved pipeline (folder or package)")
    p.add_argument("out", help="the GLiNER folder to write")
    p.add_argument("--component", default="gliner_biomed")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")


def run(args: argparse.Namespace) -> int:
    if Path(args.out).is_file():
        raise GlinerError(Errors.E026.format(what="Output folder", path=args.out, problem="is a file, not a folder"))
    from ..pipeline_component import get_component

    ner = get_component(load_pipeline(args.pipeline), args.component)
    print(ner.export_gliner(args.out, overwrite=args.overwrite, overwrite_flag="--overwrite"))
    return 0
