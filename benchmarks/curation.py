"""Curation ablation (Hybrid Superfiltering): pretraining on the IFD top 50 % of positives vs a
random 50 % vs the plain-loss top 50 % vs all synthetic data, each followed by the same gold
fine-tuning; zero-shot strict / relaxed micro F1, mean and spread over seeds, and time.

    python benchmarks/curation.py --synthetic 'synthetic/lexicon/shard-*.spacy' --work bench-curation \
        [--pool-sentences 1200] [--weak-steps 150] [--finetune-steps 100] [--seeds 0 1 2] [--eval-limit 150] [--epoch-seeds 1]

The pool is the first `--pool-sentences` sentences of the synthetic shards. The weak model is
the student's architecture with its backbone cut to 2 layers, trained `--weak-steps` steps on
all the synthetic shards. Equal steps: every run pretrains `--pretrain-steps` steps (default one
epoch of the 50 % sets); equal epochs: all data for as many epochs as the 50 % sets get.
Fine-tuning: the recipe's gold corpora, `--finetune-steps` steps, no synthetic mix, so that only
the pretraining set differs; `--finetune-steps 0` evaluates the pretrained models themselves.
Runs are resumable: a finished step (its time is in `times.json`) or a run whose metrics exist is
not redone, and one pretrained model serves every `--finetune-steps` (metrics in `metrics-ftN`).
"""
import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import BIO, CROSSNER, f1  # noqa: E402

GOLD = ["conll2003", "mit-movie", "mit-restaurant", "ncbi-disease", "bc5cdr", "bc2gm"]
BATCH_SIZE = 8
CONDITIONS = ["ifd", "random", "all", "loss", "all-epoch"]
NAMES = {
    "ifd": "IFD top 50 %", "loss": "plain-loss top 50 %", "random": "random 50 %",
    "all": "all data, equal steps", "all-epoch": "all data, equal epochs",
}


def run(cmd: List[str], log: Path) -> float:
    """Run a command, its output appended to `log`; returns its wall time."""
    start = time.perf_counter()
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    if code:
        sys.exit(f"Failed ({code}): {' '.join(cmd)}; see {log}")
    return time.perf_counter() - start


def count_docs(path: Path) -> int:
    from spacy_gliner_biomed.corpora import read_docbin

    return len(read_docbin(path))


def make_pool(shards: List[str], n: int, out: Path) -> Path:
    from spacy_gliner_biomed.corpora import write_docbin
    from spacy_gliner_biomed.curation.run import example_docs

    if out.is_file():
        return out
    docs = []
    for shard in shards:
        docs += example_docs(Path(shard))
        if len(docs) >= n:
            break
    if len(docs) < n:
        sys.exit(f"The shards have {len(docs)} sentences, fewer than --pool-sentences {n}")
    return write_docbin(docs[:n], out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", default="synthetic/lexicon/shard-*.spacy")
    ap.add_argument("--work", default="bench-curation")
    ap.add_argument("--pool-sentences", type=int, default=1200)
    ap.add_argument("--weak-steps", type=int, default=150)
    ap.add_argument("--weak-layers", type=int, default=2)
    ap.add_argument("--pretrain-steps", type=int, default=0, help="pretraining steps of the 50 %% sets (0: one epoch of them)")
    ap.add_argument("--finetune-steps", type=int, default=100, help="0: no fine-tuning, the pretrained model is evaluated")
    ap.add_argument("--per-corpus", type=int, default=300, help="gold docs per corpus read for fine-tuning")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--eval-limit", type=int, default=150)
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--report-only", action="store_true", help="print the table of the runs finished so far")
    ap.add_argument("--epoch-seeds", type=int, default=None, help="run the equal-epochs condition for the first N seeds only")
    args = ap.parse_args()
    import glob

    shards = sorted(glob.glob(args.synthetic))
    if not shards:
        sys.exit(f"No synthetic shards match {args.synthetic!r}: run `spacy project run synthesize` first")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log.txt"
    py = sys.executable
    times: Dict[str, float] = json.loads((work / "times.json").read_text()) if (work / "times.json").exists() else {}

    def timed(key: str, cmd: List[str]) -> None:
        if key not in times:
            times[key] = round(run(cmd, log), 1)
            (work / "times.json").write_text(json.dumps(times, indent=2))

    pool = make_pool(shards, args.pool_sentences, work / "pool" / "pool.spacy")
    weak = work / "weak"
    timed("weak model: train", [py, "scripts/train.py", "--train-files", *shards, "--dev", "bc2gm", "--dev-limit", "50",
                                "--max-steps", str(args.weak_steps), "--output", str(weak),
                                "--components.gliner_biomed.model.backbone_layers", str(args.weak_layers)])
    sets = {"all": pool, "all-epoch": pool}
    for method in ("ifd", "loss"):
        out = work / "sets" / method
        timed(f"curate: {method}", [py, "-m", "spacy_gliner_biomed", "curate", str(pool), "--out", str(out), "--score", method,
                                    "--fraction", str(args.fraction), "--weak-model", str(weak / "model-last"),
                                    "--scores", str(work / "sets" / "scores"), "--no-progress"])
        sets[method] = out
    n_curated = sum(count_docs(p) for p in sorted((work / "sets" / "ifd").glob("shard-*.spacy")))
    n_pool = count_docs(pool)
    equal_steps = args.pretrain_steps or math.ceil(n_curated / BATCH_SIZE)
    epoch_steps = math.ceil(equal_steps * n_pool / n_curated)  # as many epochs of all data as the 50 % sets get
    results: Dict[str, Dict[int, dict]] = {c: {} for c in CONDITIONS}
    for seed in args.seeds:
        if not args.report_only:
            timed(f"curate: random s{seed}", [py, "-m", "spacy_gliner_biomed", "curate", str(pool), "--out", str(work / "sets" / f"random-s{seed}"),
                                              "--score", "random", "--fraction", str(args.fraction), "--seed", str(seed), "--no-progress"])
    # condition-major, the main comparison first, so an interrupted benchmark has whole rows
    for cond in CONDITIONS:
        for seed in args.seeds:
            if cond == "all-epoch" and args.epoch_seeds is not None and seed not in args.seeds[: args.epoch_seeds]:
                continue
            data = work / "sets" / f"random-s{seed}" if cond == "random" else sets[cond]
            files = [str(data)] if data.is_file() else [str(p) for p in sorted(data.glob("shard-*.spacy"))]
            steps = epoch_steps if cond == "all-epoch" else equal_steps
            runs = work / "runs" / f"{cond}-s{seed}"
            # the pretrained model is shared by every fine-tuning length; its metrics are not
            metrics_dir = runs / (f"metrics-ft{args.finetune_steps}" if args.finetune_steps else "metrics")
            metrics = metrics_dir / "metrics.json"
            if args.report_only and not metrics.is_file():
                continue
            if not metrics.is_file():
                timed(f"pretrain: {cond} s{seed}", [py, "scripts/train.py", "--train-files", *files, "--dev", "bc2gm", "--dev-limit", "50",
                                                    "--max-steps", str(steps), "--output", str(runs / "pretrain"), "--system.seed", str(seed)])
                final = runs / "pretrain" / "model-last"
                if args.finetune_steps:
                    run([py, "-m", "spacy_gliner_biomed", "export", str(final), str(runs / "gliner"), "--overwrite"], log)
                    timed(f"finetune {args.finetune_steps}: {cond} s{seed}", [
                        py, "scripts/train.py", "--corpora", *GOLD, "--per-corpus", str(args.per_corpus),
                        "--max-steps", str(args.finetune_steps), "--dev", "bc2gm", "--dev-limit", "50",
                        "--init-checkpoint", str(runs / "gliner"), "--output", str(runs / f"finetune-{args.finetune_steps}"),
                        "--system.seed", str(seed)])
                    final = runs / f"finetune-{args.finetune_steps}" / "model-last"
                run([py, "-m", "spacy_gliner_biomed", "evaluate", str(final), *BIO, *CROSSNER,
                     "--corpus", "corpus", "--limit", str(args.eval_limit), "--out", str(metrics_dir)], log)
            results[cond][seed] = json.loads(metrics.read_text())["datasets"]
    print(table(results, times, equal_steps, epoch_steps, args))
    return 0


def _cell(values: List[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f}" if values else "-"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def table(results: Dict[str, Dict[int, dict]], times: Dict[str, float], equal_steps: int, epoch_steps: int, args) -> str:
    """Conditions as rows; per set strict F1 (mean ± sd over seeds), relaxed F1 of the means, time."""
    cols = BIO + ["bio mean", "CrossNER mean"]
    lines = [
        f"Pool: {args.pool_sentences} synthetic sentences; pretraining {equal_steps} steps (equal steps) or {epoch_steps} "
        f"(all data, as many epochs); "
        + (f"fine-tuning {args.finetune_steps} steps on gold" if args.finetune_steps else "no fine-tuning (the pretrained model)")
        + f"; zero-shot on the first {args.eval_limit} "
        f"test docs of each set; seeds {args.seeds}. Strict micro F1, mean ± sd over seeds (relaxed in brackets).",
        "",
        "| pretraining data | steps | " + " | ".join(cols) + " | pretrain s (median) | fine-tune s (median) |",
        "|---|---:|" + "---:|" * len(cols) + "---:|---:|",
    ]
    for cond in CONDITIONS:
        per_seed = results[cond]
        if not per_seed:
            continue
        cells = []
        for col in cols:
            group = BIO if col == "bio mean" else CROSSNER if col == "CrossNER mean" else [col]
            strict = [statistics.mean(f1(d[s], "strict") for s in group) for d in per_seed.values()]
            relaxed = [statistics.mean(f1(d[s], "relaxed") for s in group) for d in per_seed.values()]
            cells.append(f"{_cell(strict)} ({statistics.mean(relaxed):.2f})")
        seconds = [times.get(f"pretrain: {cond} s{s}") for s in per_seed]
        secs = statistics.median([t for t in seconds if t is not None]) if any(t is not None for t in seconds) else float("nan")
        steps = epoch_steps if cond == "all-epoch" else equal_steps
        ft = [times.get(f"finetune {args.finetune_steps}: {cond} s{s}") for s in per_seed]
        ft_secs = statistics.median([t for t in ft if t is not None]) if any(t is not None for t in ft) else float("nan")
        lines.append(f"| {NAMES[cond]} | {steps} | " + " | ".join(cells) + f" | {secs:.0f} | {ft_secs:.0f} |")
    cost = [f"{k} {v:.0f} s" for k, v in times.items() if k.startswith(("weak", "curate: ifd", "curate: loss"))]
    lines += ["", "Weak model and scoring: " + ", ".join(cost) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
