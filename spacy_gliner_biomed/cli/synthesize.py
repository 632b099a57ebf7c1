"""`synthesize CONFIG --texts SPEC... --out DIR`: annotate raw text with the teacher a config names.

CONFIG is a config file with a `[teacher]` block (`@misc = "spacy_gliner_biomed.LexiconTeacher.v1"`,
...; see configs/teacher_*.cfg); dotted overrides after the options (`--paths.vocab assets/vocab`,
`--teacher.name x`) change it as in `spacy train`. Every dev and test split under `--held-out`
(folders are searched for `*/dev.spacy` and `*/test.spacy`) is kept out of the output.
"""
import argparse
from functools import partial
from pathlib import Path
from typing import List, Optional

from ..engines import add_worker_arguments
from ..errors import Errors, GlinerError

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
    add_worker_arguments(p)


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


def run(args: argparse.Namespace, extra: Optional[List[str]] = None) -> int:
    from ..synthetic import synthesize
    from ..text import HeldOutText, iter_texts
    from ..corpora.docbin import read_docbin
    from ..engines import require_ray, workers_from_args
    from ..teachers.config import teacher_config_text, teacher_from_config

    if not Path(args.config).is_file():
        raise GlinerError(Errors.E026.format(what="Teacher config", path=args.config, problem="does not exist"))
    if args.held_out is None and not args.no_held_out:
        raise GlinerError(Errors.E164)
    files = held_out_files(args.held_out or [])
    workers = workers_from_args(args)
    if args.engine == "ray":
        require_ray()
    config_text = teacher_config_text(args.config, list(extra or []))
    held_out = HeldOutText.from_docs(doc for f in files for doc in read_docbin(f)) if files else None
    settings = {"config": config_text, "texts": args.texts, "held_out": [str(f) for f in files]}
    texts = iter_texts(args.texts, data_dir=args.data)
    # locally the teacher is built now, so a config error shows before any text is read; on Ray
    # each actor builds its own from the config text
    teacher = partial(teacher_from_config, config_text) if args.engine == "ray" else teacher_from_config(config_text)
    report = synthesize(
        texts, teacher, Path(args.out), held_out=held_out, settings=settings,
        shard_size=args.shard_size, max_docs=args.max_docs, progress=not args.no_progress,
        ray=workers if args.engine == "ray" else None,
    )
    print(report)
    return 0
