"""Linking threshold sweep on the dev splits, then the chosen threshold on test.

    python benchmarks/linking.py PIPELINE --corpus corpus [--thresholds 0.5 0.6 0.7 0.8] [--out metrics/link]

PIPELINE has `gliner_biomed`, `abbreviation_detector` and `gliner_biomed_linker` (`add-linker`).
NER runs once per split; every threshold re-links the same entities, so the sweep costs one
NER pass. The threshold with the best mean end-to-end F1 on dev (NCBI-disease disease, BC5CDR
chemical and disease) is then scored on test, and only there.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spacy_gliner_biomed.cli.pipelines import load_pipeline  # noqa: E402
from spacy_gliner_biomed.evaluation.linking import evaluate_linking, format_linking_markdown  # noqa: E402
from spacy_gliner_biomed.files import write_atomic  # noqa: E402

DATASETS = ["ncbi-disease", "bc5cdr"]


def mean_f(report) -> float:
    scores = [v["f"] for ds in report["datasets"].values() for k, v in ds["end_to_end"].items() if k != "docs_per_second"]
    return sum(scores) / len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--thresholds", nargs="+", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.9])
    parser.add_argument("--out", default=None, help="folder for linking.json / linking.md (the test scores)")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    nlp = load_pipeline(args.pipeline)
    linker = nlp.get_pipe("gliner_biomed_linker")
    rows = []
    for threshold in args.thresholds:
        linker.threshold = threshold
        dev = {name: f"{args.corpus}/{name}/dev.spacy" for name in DATASETS}
        report = evaluate_linking(nlp, dev, limit=args.limit)
        rows.append((threshold, mean_f(report), report))
        print(f"dev threshold {threshold}: mean end-to-end F1 {100 * mean_f(report):.2f}", file=sys.stderr)
    print("| threshold | " + " | ".join(f"{d} {label} acc@1 / e2e F1" for d in DATASETS for label in rows[0][2]["datasets"][d]["gold_mentions"]) + " | mean e2e F1 |")
    print("|---:|" + "---:|" * (sum(len(rows[0][2]["datasets"][d]["gold_mentions"]) for d in DATASETS) + 1))
    for threshold, mean, report in rows:
        cells = [
            f"{100 * ds['gold_mentions'][label]['accuracy_at_1']:.1f} / {100 * ds['end_to_end'][label]['f']:.1f}"
            for ds in report["datasets"].values() for label in ds["gold_mentions"]
        ]
        print(f"| {threshold} | " + " | ".join(cells) + f" | {100 * mean:.2f} |")
    best = max(rows, key=lambda row: row[1])[0]
    linker.threshold = best
    test = {name: f"{args.corpus}/{name}/test.spacy" for name in DATASETS}
    report = evaluate_linking(nlp, test, limit=args.limit)
    report["chosen_on_dev"] = {"threshold": best, "sweep": {str(t): m for t, m, _ in rows}}
    markdown = format_linking_markdown(report)
    print(f"\nTest, threshold {best} (best on dev):\n\n{markdown}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "linking.json", json.dumps(report, indent=2) + "\n")
        write_atomic(out / "linking.md", markdown)


if __name__ == "__main__":
    main()
