"""A/B of `teacher_negatives_for`: the recipe's model fine-tuned `--steps` more steps on the
recipe's stage-2 data with the rule on (["general"]) and off ([]), then evaluated zero-shot with 0
and `--distractors` biomedical distractor types; prints strict micro F1 and distractor predictions.

    python benchmarks/teacher_negatives.py --model training/uni/model-last --work /tmp/ab \
        [--steps 200] [--distractors 10] [--limit 150] [--sets crossner_politics crossner_music jnlpba]

Resumable: an arm whose model or metrics exist is not redone.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import f1  # noqa: E402

GOLD = ["conll2003", "mit-movie", "mit-restaurant", "ncbi-disease", "bc5cdr", "bc2gm"]
ARMS = {"on": '["general"]', "off": "[]"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="training/uni/model-last")
    ap.add_argument("--work", default="bench-teacher-negatives")
    ap.add_argument("--synthetic", default="synthetic/lexicon/shard-00000.spacy")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--distractors", type=int, default=10)
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--sets", nargs="+", default=["crossner_politics", "crossner_music", "jnlpba"])
    args = ap.parse_args()
    work, py = Path(args.work), sys.executable
    base = work / "base"
    if not base.is_dir():
        subprocess.run([py, "-m", "spacy_gliner_biomed", "export", args.model, str(base), "--overwrite"], check=True)
    print(f"| rule | distractors | " + " | ".join(args.sets) + " | distractor predictions |")
    print("|---|---:|" + "---:|" * len(args.sets) + "---:|")
    for arm, value in ARMS.items():
        model = work / arm / "model-last"
        if not (model / "meta.json").is_file():
            with (work / f"{arm}.log").open("w") as log:
                subprocess.run([py, "scripts/train.py", "--kind", "uni", "--corpora", *GOLD, "--train-files", args.synthetic,
                                "--per-corpus", "2000", "--max-steps", str(args.steps), "--dev", "bc2gm", "--dev-limit", "50",
                                "--init-checkpoint", str(base), "--output", str(work / arm),
                                "--components.gliner_biomed.training.teacher_negatives_for", value],
                               stdout=log, stderr=subprocess.STDOUT, check=True)
        for n in (0, args.distractors):
            out = work / f"metrics-{arm}-d{n}"
            if not (out / "metrics.json").is_file():
                subprocess.run([py, "-m", "spacy_gliner_biomed", "evaluate", str(model), *args.sets, "--corpus", "corpus",
                                "--limit", str(args.limit), "--distractors", str(n), "--out", str(out)],
                               stdout=subprocess.DEVNULL, check=True)
            sets = json.loads((out / "metrics.json").read_text())["datasets"]
            cells = [f"{f1(sets[s], 'strict'):.2f}" for s in args.sets]
            preds = sum(sets[s].get("distractor_predictions", 0) for s in args.sets)
            print(f"| {arm} | {n} | " + " | ".join(cells) + f" | {preds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
