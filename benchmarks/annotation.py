"""Annotation at scale: documents per second of `annotate --engine local` and `--engine ray` with 1
and 2 workers, the fixed overhead of a run, and peak memory against input size.

    python benchmarks/annotation.py MODEL [--docs 1000] [--shards 8] [--memory-mb 20 200]
        [--teacher-docs 300 [--teacher-shard-size 50]]

MODEL is a GLiNER folder (labels: disease, chemical, gene, species, cell type). The texts are the
PubMedQA abstracts (assets/text/pubmedqa_pqal.json), cut into `--shards` JSON-lines shards.
Every run is a fresh `python -m spacy_gliner_biomed annotate` process, so its wall time includes
loading the model and (for ray) starting a local Ray cluster; the overhead is the wall time of a
run on one tiny shard. The memory rows annotate one JSON-lines shard of the given size (the
abstracts repeated) with the tiny random checkpoint of the test suite at threshold 0.99, so that a
large input is read in minutes: peak RSS says whether memory follows the input. The teacher rows
run the recipe's teacher step (`synthesize configs/teacher_model.cfg`, MODEL as the teacher with
the shipped 112 biomedical types) on `--teacher-docs` PubMedQA abstracts, locally (2 torch threads)
and on 2 Ray workers, and check that both wrote the same documents and spans.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["disease", "chemical", "gene", "species", "cell type"]


def abstracts(limit: int):
    data = json.loads(_pubmedqa().read_text())
    texts = [" ".join(v["CONTEXTS"]) for v in data.values()]
    return texts[:limit] if limit else texts


def write_shards(folder: Path, texts, n_shards: int) -> None:
    folder.mkdir(parents=True)
    for s in range(n_shards):
        part = texts[s::n_shards]
        (folder / f"part-{s:03d}.jsonl").write_text("".join(json.dumps({"id": f"{s}-{i}", "text": t}) + "\n" for i, t in enumerate(part)))


def run(model: str, inputs: Path, out: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "spacy_gliner_biomed", "annotate", model, "--input", str(inputs / "*"), "--output", str(out),
           "--labels", *LABELS, "--no-progress", *extra]
    # a fresh wrapper per run, so RUSAGE_CHILDREN is this run's peak (the annotate process; Ray's
    # workers are not its children, so for ray this is the driver's peak)
    wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    manifest = json.loads((out / "manifest.json").read_text())
    docs = sum(s["docs"] for s in manifest["shards"].values())
    busy = sum(s["seconds"] for s in manifest["shards"].values())
    rss = int(done.stderr.strip().splitlines()[-1])
    return {"docs": docs, "seconds": seconds, "shard_seconds": busy, "peak_rss_mb": rss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--memory-mb", type=int, nargs="*", default=[20, 200])
    parser.add_argument("--tiny-model", default=None, help="a small checkpoint for the memory rows (default: built)")
    parser.add_argument("--skip-engines", action="store_true", help="only the memory rows")
    parser.add_argument("--teacher-docs", type=int, default=0, help="teacher-step rows on this many abstracts (0: none)")
    parser.add_argument("--teacher-shard-size", type=int, default=50)
    args = parser.parse_args()
    texts = abstracts(args.docs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    try:
        write_shards(tmp / "in", texts, args.shards)
        write_shards(tmp / "one", texts[:4], 1)
        rows = []
        setups = [] if args.skip_engines else [
            ("local, 1 thread", ["--engine", "local", "--threads", "1"]),
            ("local, 2 threads", ["--engine", "local", "--threads", "2"]),
            ("ray, 1 worker x 1 CPU", ["--engine", "ray", "--num-workers", "1"]),
            ("ray, 2 workers x 1 CPU", ["--engine", "ray", "--num-workers", "2"]),
        ]
        for name, extra in setups:
            overhead = run(args.model, tmp / "one", tmp / f"o-{len(rows)}", *extra)
            full = run(args.model, tmp / "in", tmp / f"f-{len(rows)}", *extra)
            rows.append((name, overhead, full))
            print(name, overhead, full, file=sys.stderr)
        if rows:
            print(f"\n{len(texts)} PubMedQA abstracts in {args.shards} shards, 5 labels; fresh process per run\n")
            print("| engine | docs/s (whole run) | docs/s (after start-up) | start-up s | peak RSS (MB) |")
            print("|---|---:|---:|---:|---:|")
        for name, overhead, full in rows:
            after = full["docs"] / max(full["seconds"] - overhead["seconds"], 1e-9)
            print(f"| {name} | {full['docs'] / full['seconds']:.1f} | {after:.1f} | {overhead['seconds']:.1f} | {full['peak_rss_mb']:.0f} |")
        if args.memory_mb:
            tiny = args.tiny_model or str(_tiny_model(tmp / "tiny"))
            print("\n| input shard | docs | local docs/s | peak RSS (MB) |\n|---:|---:|---:|---:|")
            for mb in args.memory_mb:
                folder = tmp / f"mem-{mb}"
                folder.mkdir()
                target, n = mb * 1024 * 1024, 0
                with open(folder / "big.jsonl", "w") as f:
                    while f.tell() < target:
                        f.write(json.dumps({"id": str(n), "text": texts[n % len(texts)]}) + "\n")
                        n += 1
                # threshold 0.99: the random checkpoint finds few entities, so the rows time the reading
                # and the model, not the writing of millions of random spans
                result = run(tiny, folder, tmp / f"mem-out-{mb}", "--threads", "1", "--batch-size", "64", "--threshold", "0.99")
                print(f"| {mb} MB | {result['docs']} | {result['docs'] / result['seconds']:.0f} | {result['peak_rss_mb']:.0f} |")
        if args.teacher_docs:
            teacher_rows(args.model, args.teacher_docs, args.teacher_shard_size, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def teacher_rows(model: str, docs: int, shard_size: int, tmp: Path) -> None:
    cmd = [sys.executable, "-m", "spacy_gliner_biomed", "synthesize", str(ROOT / "configs" / "teacher_model.cfg"),
           "--texts", f"pubmedqa:{_pubmedqa()}", "--no-held-out", "--max-docs", str(docs), "--shard-size", str(shard_size),
           "--no-progress", "--paths.teacher_model", model]
    rows = []
    for name, extra in [("local, 2 threads", ["--engine", "local"]), ("ray, 2 workers x 1 CPU", ["--engine", "ray", "--num-workers", "2"])]:
        out = tmp / f"teacher-{len(rows)}"
        start = time.perf_counter()
        done = subprocess.run(cmd + ["--out", str(out)] + extra, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        rows.append((name, time.perf_counter() - start, out))
    sys.path.insert(0, str(ROOT / "tests"))
    from test_synthetic import shard_contents

    same = shard_contents(rows[0][2]) == shard_contents(rows[1][2])
    print(f"\nTeacher step: model teacher, 112 types, {docs} PubMedQA abstracts in shards of {shard_size}; same output: {same}\n")
    print("| engine | whole run s | docs/s |\n|---|---:|---:|")
    for name, seconds, _ in rows:
        print(f"| {name} | {seconds:.0f} | {docs / seconds:.2f} |")


def _pubmedqa() -> Path:
    """The PubMedQA abstracts: the project's asset, or before `spacy project run assets` the mirror it copies from."""
    path = ROOT / "assets" / "text" / "pubmedqa_pqal.json"
    return path if path.is_file() else ROOT.parent / "shared" / "data" / "text" / "pubmedqa_pqal.json"


def _tiny_model(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import make_reference_checkpoint

    return make_reference_checkpoint(folder / "uni", folder / "backbones", "uni")


if __name__ == "__main__":
    main()
