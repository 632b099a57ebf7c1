"""`synthesize CONFIG --texts SPEC... --out DIR`: annotate raw text with the teacher a config names.

CONFIG is a config file with a `[teacher]` block (`@misc = "spacy_gliner_biomed.LexiconTeacher.v1"`,
...; see configs/teacher_*.cfg); dotted overrides after the options (`--paths.vocab assets/vocab`,
`--teacher.name x`) change it as in `spacy train`. Every dev and test split under `--held-out`
(folders are searched for `*/dev.spacy` and `*/test.spacy`) is kept out of the output.
"""
import argparse
from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import Errors, GlinerError
from .pipelines import check_folder

HELD_OUT_SPLITS = ("dev.spacy", "test.spacy")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("synthesize", help="Annotate raw text with a teacher into .spacy shards")
    p.add_argument("config", help="teacher config (a [teacher] block)")
    p.add_argument("--texts", nargs="+", required=True, help="FORMAT:PATH, a path or glob, or corpus:DATASET")
    p.add_argument("--data", default="../shared/data", help="data folder for corpus:DATASET texts")
    p.add_argument("--out", required=True, help="output folder (shards + manifest.json; a rerun resumes)")
    p.add_argument("--held-out", nargs="*", default=None, help="dev/test .spacy files or folders whose text must not be annotated")
    p.add_argument("--no-held-out", action="store_true", help="run without a held-out check (say so explicitly)")
    p.add_argument("--shard-size", type=int, default=500)
    p.add_argument("--max-docs", type=int, default=0, help="stop after this many documents (0: all)")
    p.add_argument("--no-progress", action="store_true")


def held_out_files(paths: List[str]) -> List[Path]:
    files: List[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for name in HELD_OUT_SPLITS for p in path.glob(f"*/{name}"))
            files.extend(found or sorted(p for name in HELD_OUT_SPLITS for p in path.glob(name)))
        elif path.is_file():
            files.append(path)
        else:
            raise GlinerError(Errors.E026.format(what="Held-out path", path=given, problem="does not exist"))
    return files


def load_teacher(config_path: str, overrides: List[str]) -> Tuple[object, str]:
    """The teacher a config's [teacher] block builds, and the config text (with overrides) that
    fingerprints the run."""
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config, registry

    from .. import teachers  # noqa: F401  (registers the teachers where entry points are not installed)

    try:
        parsed = parse_config_overrides(overrides)
    except SystemExit:
        raise GlinerError(Errors.E162.format(args=overrides)) from None
    config = load_config(config_path, overrides=parsed, interpolate=False)
    if "teacher" not in config:
        raise GlinerError(Errors.E163.format(path=config_path))
    resolved = registry.resolve(config.interpolate())
    return resolved["teacher"], config.to_str()


def run(args: argparse.Namespace, extra: Optional[List[str]] = None) -> int:
    from ..synthetic import synthesize
    from ..text import HeldOutText, iter_texts
    from ..corpora.docbin import read_docbin

    if not Path(args.config).is_file():
        raise GlinerError(Errors.E026.format(what="Teacher config", path=args.config, problem="does not exist"))
    if args.held_out is None and not args.no_held_out:
        raise GlinerError(Errors.E164)
    files = held_out_files(args.held_out or [])
    teacher, config_text = load_teacher(args.config, list(extra or []))
    held_out = HeldOutText.from_docs(doc for f in files for doc in read_docbin(f)) if files else None
    settings = {"config": config_text, "texts": args.texts, "held_out": [str(f) for f in files]}
    texts = iter_texts(args.texts, data_dir=args.data)
    report = synthesize(
        texts, teacher, Path(args.out), held_out=held_out, settings=settings,
        shard_size=args.shard_size, max_docs=args.max_docs, progress=not args.no_progress,
    )
    print(report)
    return 0
