"""`annotate MODEL`: entities of raw text, from standard input or from shards, locally or on Ray.

    annotate MODEL [--labels ...] < texts.txt                 one JSON list of entities per input line
    annotate MODEL --input 'pubmed/*.xml.gz' --output DIR [--engine local|ray] [--num-workers 2] ...

With `--input`, every matching file (PubMed XML, PubTator, JSON lines, plain text; see
`text/readers.py`) becomes one output shard in DIR (`<name>-<hash>.jsonl`, or `.parquet` with
`--format parquet`): one record per document, with its id, and its entities' character offsets,
labels, scores and, with a linker in the pipeline, kb ids. DIR/manifest.json records finished
shards: rerun the same command after an interruption and only the missing shards are done. A
folder written by another pipeline or other settings is refused. Unreadable inputs are skipped,
named, and make the exit status 1; the other shards are written.
"""
import argparse
import glob
import json
import sys
from pathlib import Path
from typing import Iterable, List, Optional

from ..engines import add_worker_arguments
from ..errors import Errors, GlinerError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("annotate", help="entities of raw text: standard input, or shards on one machine or Ray")
    p.add_argument("model", help="a GLiNER folder or a saved pipeline")
    p.add_argument("--labels", nargs="+", default=[], help="labels to find (default: a saved pipeline's own)")
    p.add_argument("--threshold", type=float, default=None, help="default: the pipeline's own, or 0.5")
    p.add_argument("--input", nargs="+", default=None, metavar="GLOB", help="input shards (globs allowed); without: stdin")
    p.add_argument("--output", default=None, help="output folder (one shard per input shard, and manifest.json)")
    p.add_argument("--format", default="jsonl", help="jsonl (default) or parquet")
    p.add_argument("--batch-size", type=int, default=64, help="documents per nlp.pipe batch")
    p.add_argument("--threads", type=int, default=None, help="local: torch threads (default: torch's)")
    p.add_argument("--runtime", default=None, help="torch or onnxruntime (default: the pipeline's own)")
    p.add_argument("--precision", default=None, help="fp32 or int8 (default: the pipeline's own)")
    p.add_argument("--no-progress", action="store_true")
    add_worker_arguments(p)


def run(args: argparse.Namespace) -> int:
    if args.input is None:
        annotate(args.model, args.labels, args.threshold, sys.stdin)
        return 0
    return annotate_shards(args)


def annotate(model: str, labels: List[str], threshold: Optional[float], lines: Iterable[str]) -> None:
    from ..annotation.pipeline import build_pipeline
    from ..annotation.records import entity_records

    nlp = build_pipeline(model, labels, threshold)
    texts = (line.rstrip("\n") for line in lines)
    for doc in nlp.pipe(texts, batch_size=64):
        print(json.dumps(entity_records(doc), ensure_ascii=False))


def _inputs(patterns: List[str]) -> List[str]:
    files: List[str] = []
    for pattern in patterns:
        matched = sorted(glob.glob(pattern, recursive=True)) if any(c in pattern for c in "*?[") else [pattern]
        files += [p for p in matched if Path(p).is_file()]
    if not files:
        raise GlinerError(Errors.E197.format(patterns=patterns))
    return list(dict.fromkeys(files))


def _check(args: argparse.Namespace) -> None:
    from ..annotation.shards import FORMATS

    checks = [
        ("--output", args.output is not None, "a folder (with --input)", args.output),
        ("--format", args.format in FORMATS, f"one of {list(FORMATS)}", args.format),
        ("--batch-size", args.batch_size >= 1, "an integer >= 1", args.batch_size),
    ]
    for what, ok, expected, value in checks:
        if not ok:
            raise GlinerError(Errors.E186.format(what=what, expected=expected, value=value))


def annotate_shards(args: argparse.Namespace) -> int:
    from ..annotation.engines import apply_overrides, pending_shards, run_local, run_ray
    from ..annotation.pipeline import build_pipeline, pipeline_settings
    from ..annotation.shards import RunManifest
    from ..engines import require_ray, workers_from_args

    _check(args)
    workers = workers_from_args(args)
    inputs = _inputs(args.input)
    if args.engine == "ray":
        require_ray()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    overrides = {k: v for k, v in (("runtime", args.runtime), ("precision", args.precision)) if v is not None}
    nlp = build_pipeline(args.model, args.labels, args.threshold)
    apply_overrides(nlp, overrides)
    spans_key = nlp.get_pipe("gliner_biomed").cfg.get("spans_key")
    out = Path(args.output)
    manifest = RunManifest(out, pipeline_settings(args.model, nlp, args.format))
    pending = pending_shards(inputs, manifest.is_done, args.format)
    print(f"{len(inputs) - len(pending)} of {len(inputs)} input shard(s) already done; annotating {len(pending)} ({args.engine})",
          file=sys.stderr)
    if args.engine == "ray":
        del nlp  # each actor loads its own
        run_ray(args.model, args.labels, args.threshold, overrides, pending, out, manifest.record, args.batch_size,
                spans_key, workers, not args.no_progress)
    else:
        run_local(nlp, pending, out, manifest.record, args.batch_size, spans_key, not args.no_progress)
    failed = {i: manifest.data["failed"][i] for i in inputs if i in manifest.data["failed"]}
    done = [manifest.data["shards"][i] for i in inputs if i in manifest.data["shards"]]
    print(f"{len(done)} shard(s), {sum(d['docs'] for d in done)} documents, {sum(d['entities'] for d in done)} entities -> {out}",
          file=sys.stderr)
    for path, error in failed.items():
        print(f"Skipped {path}: {error}", file=sys.stderr)
    return 1 if failed else 0
