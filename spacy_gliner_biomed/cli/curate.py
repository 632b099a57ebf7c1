"""`curate SHARDS... --weak-model MODEL --out DIR`: Hybrid Superfiltering of synthetic data.

Every sentence of the synthetic shards is scored by the weak model (IFD, or its plain loss; see
docs/curation.md); the top `--fraction` of the positives (sentences with an entity) is kept with
every negative. Writes DIR/shard-*.spacy, DIR/report.{json,md} and DIR/scores.png. Scores are
kept per input shard in --scores (default DIR.scores), so a rerun rescores nothing finished and
other selections (another fraction or method) reuse them.
"""
import argparse
import glob
from pathlib import Path

from ..errors import Errors, GlinerError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("curate", help="Weak-to-strong selection of synthetic data (Hybrid Superfiltering)")
    p.add_argument("shards", nargs="+", help="synthetic .spacy shards (globs allowed)")
    p.add_argument("--out", required=True, help="output folder (shards, report, histogram; a rerun resumes)")
    p.add_argument("--weak-model", default=None, help="GLiNER folder or gliner_biomed pipeline that scores (not needed for --score random)")
    p.add_argument("--score", default="ifd", help="ifd (default), loss (the weak model's plain loss), or random")
    p.add_argument("--fraction", type=float, default=0.5, help="share of positive examples kept, in (0, 1]")
    p.add_argument("--seed", type=int, default=0, help="seed of the random draws (the random score)")
    p.add_argument("--scores", default=None, help="folder of per-shard scores (default: OUT.scores)")
    p.add_argument("--max-types", type=int, default=25, help="most labels an example is scored with")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward of the weak model")
    p.add_argument("--shard-size", type=int, default=5000, help="examples per output shard")
    p.add_argument("--no-progress", action="store_true")


def expand(patterns) -> list:
    files = []
    for pattern in patterns:
        matched = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not matched:
            raise GlinerError(Errors.E174.format(pattern=pattern))
        files += [Path(p) for p in matched]
    for path in files:
        if not path.is_file():
            raise GlinerError(Errors.E026.format(what="Synthetic shard", path=path, problem="does not exist"))
    return files


def run(args: argparse.Namespace) -> int:
    from ..curation import curate
    from ..curation.selection import check_selection

    check_selection(args.score, args.fraction)
    report = curate(
        expand(args.shards), Path(args.out), method=args.score, fraction=args.fraction, seed=args.seed,
        weak_model=args.weak_model, scores_dir=Path(args.scores) if args.scores else None, max_types=args.max_types,
        batch_size=args.batch_size, shard_size=args.shard_size, progress=not args.no_progress,
    )
    print(
        f"Kept {report['positives_kept']} of {report['positives']} positive and {report['negatives_kept']} of "
        f"{report['negatives']} negative examples ({args.score}, fraction {args.fraction}) -> {args.out}; "
        f"weak-model scoring {report['scoring_seconds']} s"
    )
    return 0
