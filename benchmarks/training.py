"""Training comparison with the reference: same backbone, same 3,000 sentences, same test sets.

    python benchmarks/training.py [--data ../shared/data] [--work benchmarks/results/training] [--kind uni]

Both systems train MiniLM-L6 for one epoch, batch size 8, on 1,000 sentences with entities from
each of BC5CDR, NCBI-disease and BC2GM train (IOB files; labels chemical, disease, gene):
- `gliner`: the reference trainer, via ../shared/tools/reference_checkpoint.py (same data rule,
  its hyperparameters: lr 5e-5 encoder / 1e-4 others, linear warm-up 10%, focal alpha 0.75);
- `spacy train configs/train_<kind>.cfg` with the same hyperparameters.
Examples/s is the number of training sentences over the wall time of the training command:
`spacy train`'s whole run (loading, initializing, saving included) against the reference's
`train_model` call alone, so the comparison is conservative for us. Both models are then scored by
the same evaluator (`spacy_gliner_biomed.evaluation`, strict micro F1, threshold 0.5) on the
three IOB test sets; the reference checkpoint runs inside our component (identical scores,
tests/test_parity.py). Steps already done (a trained model, converted data) are reused.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"bc5cdr": "bio/bc5cdr/iob", "ncbi-disease": "bio/ncbi-disease/iob", "bc2gm": "bio/bc2gm/iob"}
PER_DATASET = 1000
BATCH_SIZE = 8


def build_data(data: Path, work: Path) -> None:
    from spacy_gliner_biomed.corpora import read_iob2, write_docbin

    if (work / "train.spacy").exists():
        return
    train, tests = [], {}
    for name, folder in SOURCES.items():
        docs, report = read_iob2(data / folder / "train.tsv", name, "train")
        print(report)
        train += [doc for doc in docs if doc.ents][:PER_DATASET]
        tests[name], report = read_iob2(data / folder / "test.tsv", name, "test")
        print(report)
    random.Random(0).shuffle(train)
    dev, _ = read_iob2(data / SOURCES["ncbi-disease"] / "devel.tsv", "ncbi-disease", "dev")
    write_docbin(dev[:200], work / "dev.spacy")
    for name, docs in tests.items():
        write_docbin(docs, work / f"{name}-test.spacy")
    write_docbin(train, work / "train.spacy")


def train_reference(kind: str, data: Path, work: Path) -> dict:
    out = work / f"gliner-{kind}"
    timing = work / f"gliner-{kind}.json"
    if not timing.exists():
        tool = ROOT.parent / "shared" / "tools" / "reference_checkpoint.py"
        cmd = [sys.executable, str(tool), kind, str(out), "--n", str(3 * PER_DATASET), "--data", str(data)]
        log = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        found = re.search(r"trained on (\d+) examples in (\d+) s", log)
        n, seconds = int(found.group(1)), float(found.group(2))
        timing.write_text(json.dumps({"examples": n, "seconds": seconds}))
    return {"model": out, **json.loads(timing.read_text())}


def train_ours(kind: str, work: Path) -> dict:
    out = work / f"spacy-{kind}"
    timing = work / f"spacy-{kind}.json"
    if not timing.exists():
        from spacy_gliner_biomed.training.schedule import as_cli_args, schedule_overrides

        n = 3 * PER_DATASET
        cmd = [
            sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / f"train_{kind}.cfg"), "--output", str(out),
            "--paths.train", str(work / "train.spacy"), "--paths.dev", str(work / "dev.spacy"),
            *as_cli_args(schedule_overrides(n, BATCH_SIZE, epochs=1, evaluations=0)),
        ]
        # the reference samples negative types from the batch; so does ours here
        cmd += ["--components.gliner_biomed.training.neg_types_from", "batch"]
        if kind == "uni":  # the reference trainer's model reads label vectors at <<ENT>>; so does ours here
            cmd += ["--components.gliner_biomed.model.embed_ent_token", "true"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        timing.write_text(json.dumps({"examples": n, "seconds": time.perf_counter() - start}))
    return {"model": out / "model-last", **json.loads(timing.read_text())}


def evaluate_both(reference: dict, ours: dict, work: Path) -> dict:
    import spacy

    from spacy_gliner_biomed.evaluation import evaluate

    datasets = {name: work / f"{name}-test.spacy" for name in SOURCES}
    ref_nlp = spacy.blank("en")
    ref_nlp.add_pipe("gliner_biomed", config={"checkpoint": str(reference["model"]), "labels": ["disease"]})
    results = {}
    for system, nlp in (("gliner", ref_nlp), ("spacy_gliner_biomed", spacy.load(ours["model"]))):
        report = evaluate(nlp, datasets, zero_shot=False)
        results[system] = {name: report["datasets"][name]["micro"]["strict"]["f"] for name in SOURCES}
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--work", default=str(ROOT / "benchmarks" / "results" / "training"))
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    args = ap.parse_args()
    data, work = Path(args.data), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    build_data(data, work)
    ours = train_ours(args.kind, work)
    reference = train_reference(args.kind, data, work)
    scores = evaluate_both(reference, ours, work)
    rows = [("gliner (reference trainer)", reference, scores["gliner"]),
            ("spacy train (gliner_biomed)", ours, scores["spacy_gliner_biomed"])]
    lines = [f"### Training comparison ({args.kind}-encoder, MiniLM-L6, 3,000 sentences, batch 8, 1 epoch)", "",
             "| system | train examples/s | NCBI-disease F1 | BC5CDR F1 | BC2GM F1 | mean F1 |", "|---|---|---|---|---|---|"]
    for name, timing, f in rows:
        mean = sum(f.values()) / len(f)
        lines.append(f"| {name} | {timing['examples'] / timing['seconds']:.1f} | {100 * f['ncbi-disease']:.2f} | "
                     f"{100 * f['bc5cdr']:.2f} | {100 * f['bc2gm']:.2f} | {100 * mean:.2f} |")
    speedup = (ours["examples"] / ours["seconds"]) / (reference["examples"] / reference["seconds"])
    lines += ["", f"Throughput ratio (ours / reference): {speedup:.2f}x (target >= 1.5x)."]
    table = "\n".join(lines)
    (work / f"table-{args.kind}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
