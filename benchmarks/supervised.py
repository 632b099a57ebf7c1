"""Supervised results (the BioSelectTune setting): train on a dataset's train split, strict F1 on its test split.

    python benchmarks/supervised.py [--datasets ncbi-disease bc5cdr bc2gm] [--epochs 1] [--ner-epochs 5]

For each dataset (the IOB files of ../shared/data, Crichton et al. splits as used by BioBERT):
- gliner_biomed: `spacy train configs/train_uni.cfg` (MiniLM-L6), `--epochs` epochs;
- spaCy's `ner` (CNN tok2vec, `spacy init config -p ner -o efficiency`), `--ner-epochs` epochs,
  the baseline a spaCy user would try first.
Both are scored by spaCy's scorer (`ents_f`: exact span and label) on the test split; training time
is the wall time of each `spacy train` run. Finished runs are reused.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
IOB = {"ncbi-disease": "bio/ncbi-disease/iob", "bc5cdr": "bio/bc5cdr/iob", "bc2gm": "bio/bc2gm/iob"}
BATCH_SIZE = 8


def convert(name: str, data: Path, work: Path) -> dict:
    from spacy_gliner_biomed.corpora import read_iob2, write_docbin

    paths = {split: work / name / f"{split}.spacy" for split in ("train", "dev", "test")}
    if not all(p.exists() for p in paths.values()):
        for split, file in (("train", "train"), ("dev", "devel"), ("test", "test")):
            docs, report = read_iob2(data / IOB[name] / f"{file}.tsv", name, split)
            print(report)
            write_docbin(docs if split != "dev" else docs[:500], paths[split])
    return paths


def spacy_train(system: str, config: Path, out: Path, paths: dict, extra: list) -> float:
    timing = out.with_suffix(".json")
    if not timing.exists():
        cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(out),
               "--paths.train", str(paths["train"]), "--paths.dev", str(paths["dev"]), *extra]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        timing.write_text(json.dumps({"seconds": time.perf_counter() - start}))
    return json.loads(timing.read_text())["seconds"]


def strict_f1(model: Path, test: Path) -> dict:
    """Micro F1 over all types (key ""), and per type when the dataset has several."""
    import spacy
    from spacy.training import Corpus

    nlp = spacy.load(model)
    scores = nlp.evaluate(list(Corpus(str(test))(nlp)))
    per_type = {label: s["f"] for label, s in (scores["ents_per_type"] or {}).items()}
    return {"": scores["ents_f"], **(per_type if len(per_type) > 1 else {})}


def ner_config(work: Path) -> Path:
    path = work / "ner_cnn.cfg"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "spacy", "init", "config", str(path), "-p", "ner", "-o", "efficiency", "-F"],
                       check=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--work", default=str(ROOT / "benchmarks" / "results" / "supervised"))
    ap.add_argument("--datasets", nargs="+", default=list(IOB), choices=list(IOB))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--ner-epochs", type=int, default=5)
    args = ap.parse_args()
    data, work = Path(args.data), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.datasets:
        paths = convert(name, data, work)
        from spacy_gliner_biomed.corpora import count_examples
        from spacy_gliner_biomed.training.schedule import as_cli_args, schedule_overrides

        n_train = count_examples(str(paths["train"]), split_sentences=True)  # IOB: one sentence a doc
        ours = work / f"{name}-gliner_biomed"
        ours_s = spacy_train("gliner_biomed", ROOT / "configs" / "train_uni.cfg", ours, paths,
                             as_cli_args(schedule_overrides(n_train, BATCH_SIZE, args.epochs, evaluations=0)))
        ner = work / f"{name}-ner"
        ner_s = spacy_train("ner", ner_config(work), ner, paths, [
            "--training.max_epochs", str(args.ner_epochs), "--training.max_steps", "0", "--training.patience", "0"])
        rows.append((name, n_train, strict_f1(ours / "model-last", paths["test"]), ours_s,
                     strict_f1(ner / "model-best", paths["test"]), ner_s))
    lines = ["| dataset | train sentences | gliner_biomed F1 | time | spaCy ner (CNN) F1 | time |", "|---|---|---|---|---|---|"]
    for name, n, f_ours, s_ours, f_ner, s_ner in rows:
        lines.append(f"| {name} | {n} | {100 * f_ours['']:.2f} | {s_ours / 60:.1f} min | {100 * f_ner['']:.2f} | {s_ner / 60:.1f} min |")
        for label in sorted(set(f_ours) - {""}):
            lines.append(f"| {name}: {label} | | {100 * f_ours[label]:.2f} | | {100 * f_ner.get(label, 0.0):.2f} | |")
    table = "\n".join(lines)
    (work / "table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
