"""`convert`: gold corpora to `.spacy` files with natural-language labels."""
import argparse

from ..corpora import DATASETS, DEFAULT_LABEL_MAP, READERS, convert_dataset, convert_file
from ..errors import Errors, GlinerError
from ..keys import SPLITS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "convert",
        help="gold corpora -> .spacy files",
        description=(
            "convert DATASET [DATASET ...] --data ../shared/data --out corpus writes OUT/DATASET/SPLIT.spacy; "
            "convert --format FORMAT --input PATH --dataset NAME --split SPLIT --out FILE.spacy converts one file."
        ),
    )
    p.add_argument("datasets", nargs="*", metavar="DATASET", help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--data", default="../shared/data", help="folder of the datasets (default: ../shared/data)")
    p.add_argument("--out", default=None, help="output folder (default: corpus), or the .spacy file with --format")
    p.add_argument("--label-map", default=None, help=f"JSON {{dataset: {{type: label}}}} (default: {DEFAULT_LABEL_MAP})")
    p.add_argument("--format", choices=sorted(READERS), default=None, help="convert one file in this format")
    p.add_argument("--input", default=None, help="with --format: the file (brat: the folder)")
    p.add_argument("--dataset", default=None, help="with --format: dataset name (label map entry, stored on docs)")
    p.add_argument("--split", choices=SPLITS, default=None, help="with --format: the split the file is")
    p.add_argument(
        "--splits", nargs="+", choices=SPLITS, default=None, metavar="SPLIT",
        help="with DATASET names: convert only these splits (default: all); overlap checks against "
        "a split not converted are skipped",
    )


def run(args: argparse.Namespace) -> int:
    if args.format is not None:
        if args.datasets or args.splits or not (args.input and args.dataset and args.split and args.out):
            raise GlinerError(Errors.E090)
        print(convert_file(args.format, args.input, args.dataset, args.split, args.out, args.label_map))
        return 0
    if not args.datasets:
        raise GlinerError(Errors.E091.format(known=", ".join(DATASETS)))
    for name in args.datasets:
        convert_dataset(name, args.data, args.out or "corpus", args.label_map, args.splits)
    return 0
