"""`evaluate PIPELINE DATASET...`: strict and relaxed P/R/F1, printed as Markdown, written as JSON too."""
import argparse
import sys
from pathlib import Path

from ..errors import Errors, GlinerError
from ..evaluation import evaluate, format_markdown, write_report
from .pipelines import load_pipeline


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="strict and relaxed P/R/F1 of a pipeline on .spacy datasets",
        description="Score a saved pipeline's gliner_biomed component on .spacy datasets; prints Markdown.",
    )
    p.add_argument("pipeline", help="a saved pipeline (folder or package, as spacy.load takes)")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help=".spacy files with gold spans, or dataset names with --corpus")
    p.add_argument("--corpus", default=None,
                   help="a `convert` output folder: a DATASET that is not a file means CORPUS/DATASET/test.spacy")
    p.add_argument("--component", default="gliner_biomed")
    p.add_argument("--threshold", type=float, default=None, help="default: the pipeline's own")
    p.add_argument("--labels", nargs="+", default=None, help="default: each dataset's own labels")
    p.add_argument("--supervised", action="store_true", help="allow datasets the model was trained on")
    p.add_argument("--allow-train", action="store_true", help="allow docs from the 'train' split")
    p.add_argument("--out", default=None, help="folder for metrics.json and metrics.md")
    p.add_argument("--batch-size", type=int, default=64, help="docs per nlp.pipe batch")
    p.add_argument("--distractors", type=int, default=0,
                   help="prompt this many more types beside each dataset's own (from the shipped biomedical type "
                        "list, in its order, skipping the dataset's); their predictions are not scored")
    p.add_argument("--limit", type=int, default=0, help="score the first N docs of each dataset only (0: all)")
    p.add_argument("--runtime", default=None, help="torch or onnxruntime (default: the pipeline's own)")
    p.add_argument("--precision", default=None, help="fp32 or int8 (default: the pipeline's own)")
    p.add_argument("--link", action="store_true",
                   help="score entity linking instead (gold mentions: acc@1, recall@5; end to end: per-abstract concept F1)")
    p.add_argument("--linker", default="gliner_biomed_linker", help="the linker component (with --link)")
    p.add_argument("--gold-mentions-only", action="store_true", help="with --link: skip the end-to-end run")


def run(args: argparse.Namespace) -> int:
    datasets = args.datasets
    if args.corpus is not None:
        datasets = [d if Path(d).is_file() else str(Path(args.corpus) / d / "test.spacy") for d in datasets]
    for path in datasets:
        if not Path(path).is_file():
            raise GlinerError(Errors.E064.format(path=path))
    if args.link:
        return _run_linking(args, datasets)
    distractors = []
    if args.distractors:
        from ..teachers.types import load_type_list

        if args.distractors < 0:
            raise GlinerError(Errors.E165.format(n=args.distractors))
        # more than asked, so that N remain after a dataset's own types are skipped
        distractors = list(load_type_list())[: args.distractors + 20]
    nlp = load_pipeline(args.pipeline)
    if args.runtime is not None or args.precision is not None:
        from ..pipeline_component import get_component

        ner = get_component(nlp, args.component)
        ner.runtime = args.runtime or ner.runtime  # a fast copy is made at the first prediction only
        ner.precision = args.precision or ner.precision
    report = evaluate(
        nlp,
        datasets,
        component=args.component,
        labels=args.labels,
        zero_shot=not args.supervised,
        allow_train=args.allow_train,
        threshold=args.threshold,
        batch_size=args.batch_size,
        progress=True,
        distractors=distractors,
        n_distractors=args.distractors,
        limit=args.limit,
    )
    print(format_markdown(report), end="")
    if args.out is not None:
        for path in write_report(report, args.out):
            print(f"Wrote {path}", file=sys.stderr)
    return 0


def _run_linking(args: argparse.Namespace, datasets) -> int:
    import json

    from ..evaluation.linking import evaluate_linking, format_linking_markdown
    from ..files import write_atomic

    report = evaluate_linking(
        load_pipeline(args.pipeline), datasets, linker=args.linker, allow_train=args.allow_train,
        end_to_end=not args.gold_mentions_only, batch_size=args.batch_size, limit=args.limit, progress=True,
    )
    markdown = format_linking_markdown(report)
    print(markdown, end="")
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "linking.json", json.dumps(report, indent=2) + "\n")
        write_atomic(out / "linking.md", markdown)
        print(f"Wrote {out / 'linking.json'} and {out / 'linking.md'}", file=sys.stderr)
    return 0
