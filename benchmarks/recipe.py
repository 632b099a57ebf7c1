"""The recipe's zero-shot table: one row per run (a metrics folder written by `evaluate`), strict
and relaxed micro F1 per zero-shot set, the mean over the biomedical sets and over CrossNER.

    python benchmarks/recipe.py metrics/uni-v1-gold-only "gold only (v1)" metrics/uni-pretrain "pretraining only" \
        metrics/uni "pretraining + fine-tuning" [--distractors metrics/uni-distractors --base metrics/uni]

Runs are produced by `spacy project run` commands (`all`, `evaluate-pretrain`,
`evaluate-distractors`, `train-gold-only`); this script only reads their metrics.json. With
`--distractors`, a second table gives, per set, strict F1 with the dataset's own types against
with 20 more biomedical types prompted beside them (target: at most 3 points lost).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

BIO = ["jnlpba", "linnaeus", "bionlp13cg"]
CROSSNER = ["crossner_ai", "crossner_literature", "crossner_music", "crossner_politics", "crossner_science"]


def load(folder: str) -> Dict[str, dict]:
    path = Path(folder) / "metrics.json"
    if not path.is_file():
        sys.exit(f"No {path}: run the project command that writes it first")
    return json.loads(path.read_text())["datasets"]


def f1(ds: dict, mode: str) -> float:
    return 100 * ds["micro"][mode]["f"]


def mean(values: List[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def zero_shot_table(runs: List[tuple]) -> str:
    """Sets as rows, runs as columns (strict / relaxed micro F1), then the two means."""
    sets = [s for s in BIO + CROSSNER if all(s in data for _, data in runs)]
    lines = ["| zero-shot set | " + " | ".join(name for name, _ in runs) + " |", "|---|" + "---:|" * len(runs)]
    for s in sets:
        cells = [f"{f1(data[s], 'strict'):.2f} / {f1(data[s], 'relaxed'):.2f}" for _, data in runs]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    for label, group in (("**mean, biomedical**", BIO), ("**mean, CrossNER**", CROSSNER)):
        cells = []
        for _, data in runs:
            strict = mean([f1(data[s], "strict") for s in group if s in data])
            relaxed = mean([f1(data[s], "relaxed") for s in group if s in data])
            cells.append(f"**{strict:.2f}** / {relaxed:.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def distractor_table(base: Dict[str, dict], extra: Dict[str, dict]) -> str:
    lines = ["| set | own types | strict F1 | + 20 distractors | strict F1 | change |", "|---|---:|---:|---:|---:|---:|"]
    for s in BIO + CROSSNER:
        if s in base and s in extra:
            n = len(base[s]["labels"])
            a, b = f1(base[s], "strict"), f1(extra[s], "strict")
            lines.append(f"| {s} | {n} | {a:.2f} | {n + extra[s].get('distractors', 0)} | {b:.2f} | {b - a:+.2f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="pairs: METRICS_FOLDER NAME")
    ap.add_argument("--distractors", default=None, help="metrics folder of `evaluate-distractors`")
    ap.add_argument("--base", default=None, help="metrics folder of the same model with its own types only")
    args = ap.parse_args()
    if len(args.runs) % 2:
        ap.error("give runs as pairs: METRICS_FOLDER NAME")
    runs = [(args.runs[i + 1], load(args.runs[i])) for i in range(0, len(args.runs), 2)]
    print(zero_shot_table(runs))
    if args.distractors:
        print()
        print(distractor_table(load(args.base or args.runs[-2]), load(args.distractors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
