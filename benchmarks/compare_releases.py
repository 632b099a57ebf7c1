"""Speed of this checkout's gliner_biomed against an earlier one's, back to back, by CPU time.

    git worktree add ../before COMMIT
    python benchmarks/compare_releases.py --before ../before [--rounds 3] [--uni CKPT --bi CKPT]

On a VM with noisy neighbours, wall time moves by +-20 % between runs of the same code; the CPU
time of a one-thread process moves much less. Each row (uni/bi, 5/100 labels; 400 NCBI-disease
test sentences, 100 for 100 labels) runs the earlier code (its folder first on PYTHONPATH) and this
one alternately, `--rounds` times, each the best of 3 timed passes after a warm-up; the table gives
the medians in documents per CPU-second.
"""
import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE = r"""
import sys, time, torch, spacy
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[4])
from speed import DATA, labels_n, read_sentences
ckpt, n = sys.argv[1], int(sys.argv[2])
texts = read_sentences(DATA, int(sys.argv[3]))
nlp = spacy.blank("en")
nlp.add_pipe("gliner_biomed", config={"checkpoint": ckpt, "labels": labels_n(n)})
run = lambda: [len(d.ents) for d in nlp.pipe(texts, batch_size=64)]
run()
times = []
for _ in range(3):
    start = time.process_time()
    run()
    times.append(time.process_time() - start)
print(len(texts) / min(times))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="a checkout of the earlier code")
    ap.add_argument("--uni", default=str(ROOT / "assets" / "reference" / "uni"))
    ap.add_argument("--bi", default=str(ROOT / "assets" / "reference" / "bi"))
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    rows = [("uni", 5), ("uni", 100), ("bi", 5), ("bi", 100)]
    found = {}
    for round_ in range(a.rounds):
        for kind, n_labels in rows:
            for version, path in (("before", str(Path(a.before).resolve())), ("after", None)):
                env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
                if path:
                    env["PYTHONPATH"] = path
                n_docs = 400 if n_labels <= 5 else 100
                cmd = [sys.executable, "-c", ONE, getattr(a, kind), str(n_labels), str(n_docs), str(ROOT / "benchmarks")]
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/", check=True)
                value = float(out.stdout.strip().splitlines()[-1])
                found.setdefault((kind, n_labels, version), []).append(value)
                print(round_, kind, n_labels, version, f"{value:.1f}", file=sys.stderr, flush=True)
    print("| encoder | labels | before (docs per CPU-second) | after | ratio |")
    print("|---|---|---|---|---|")
    for kind, n_labels in rows:
        before = statistics.median(found[(kind, n_labels, "before")])
        after = statistics.median(found[(kind, n_labels, "after")])
        print(f"| {kind} | {n_labels} | {before:.1f} | {after:.1f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
