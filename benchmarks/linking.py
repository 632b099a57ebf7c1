"""Linking threshold sweep on the dev splits, then the chosen threshold on test.

    python benchmarks/linking.py PIPELINE --corpus corpus [--thresholds 0.5 0.6 0.7 0.8] [--out metrics/link]

PIPELINE has `gliner_biomed`, `abbreviation_detector` and `gliner_biomed_linker` (`add-linker`).
The pipeline runs once per dev set with the lowest threshold; a higher threshold only drops links
whose best candidate scored less, so every threshold is scored from that one run. The threshold with the best mean end-to-end F1 on dev (NCBI-disease disease, BC5CDR
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


def dev_sweep(nlp, corpus: str, thresholds, limit: int):
    """{threshold: {(dataset, label): end-to-end F1}} from one pipeline run per dev set."""
    from spacy_gliner_biomed.corpora.docs import predicted_doc
    from spacy_gliner_biomed.evaluation.linking import score_concepts
    from spacy_gliner_biomed.evaluation.run import _dataset_labels, load_dataset
    from spacy_gliner_biomed.keys import LABELS_KEY

    linker = nlp.get_pipe("gliner_biomed_linker")
    linker.threshold = min(thresholds)
    sweep = {t: {} for t in thresholds}
    for name in DATASETS:
        ds = load_dataset(f"{corpus}/{name}/dev.spacy", nlp.vocab)
        docs = ds.docs[:limit] if limit else ds.docs
        labels = _dataset_labels(ds).names
        fresh = [predicted_doc(nlp.vocab, d) for d in docs]
        for doc in fresh:
            doc.user_data[LABELS_KEY] = list(labels)
        predicted = list(nlp.pipe(fresh, batch_size=32))
        for t in thresholds:
            scores = score_concepts(linker, docs, predicted, labels, min_score=t)
            for label in labels:
                sweep[t][(name, label)] = 100 * scores[label]["f"]
        print(f"dev {name}: done", file=sys.stderr)
    return sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--thresholds", nargs="+", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0])
    parser.add_argument("--out", default=None, help="folder for linking.json / linking.md (the test scores)")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    nlp = load_pipeline(args.pipeline)
    sweep = dev_sweep(nlp, args.corpus, args.thresholds, args.limit)
    columns = list(next(iter(sweep.values())))
    print("Dev, end-to-end concept F1 per threshold:\n")
    print("| threshold | " + " | ".join(f"{d} {label}" for d, label in columns) + " | mean |")
    print("|---:|" + "---:|" * (len(columns) + 1))
    means = {t: sum(row.values()) / len(row) for t, row in sweep.items()}
    for t, row in sweep.items():
        print(f"| {t} | " + " | ".join(f"{row[c]:.2f}" for c in columns) + f" | {means[t]:.2f} |")
    best = max(args.thresholds, key=lambda t: (means[t], -t))
    linker = nlp.get_pipe("gliner_biomed_linker")
    linker.threshold = best
    test = {name: f"{args.corpus}/{name}/test.spacy" for name in DATASETS}
    report = evaluate_linking(nlp, test, limit=args.limit)
    report["chosen_on_dev"] = {"threshold": best, "dev_mean_f": {str(t): m for t, m in means.items()}}
    markdown = format_linking_markdown(report)
    print(f"\nTest, threshold {best} (best on dev):\n\n{markdown}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "linking.json", json.dumps(report, indent=2) + "\n")
        write_atomic(out / "linking.md", markdown)


if __name__ == "__main__":
    main()
