"""Inference speed on CPU: gliner_biomed vs the `gliner` package vs `gliner-spacy` vs the bare encoder.

    python benchmarks/speed.py --uni CKPT_UNI --bi CKPT_BI [--n 400] [--threads 2] [--repeat 3]

Same checkpoint, same 400 sentences (NCBI-disease test), 5 labels (and 100 for the bi-encoder and
the 100-label rows). gliner_biomed runs four ways: torch fp32 (the default), ONNX Runtime fp32,
torch int8 and ONNX Runtime int8 (`runtime` / `precision` settings). Every measurement runs in its own process so peak RSS is that system's own.
The "floor" is the bare transformer forward over the same sub-token inputs (prompt included for
the uni-encoder), batches of 8 sorted by sub-token length (the fastest batching measured on this
2-core machine, and the component's default), no GLiNER head at all. Prints a Markdown table.
Each row is the best of `--repeat` timed passes after a warm-up pass (on a shared machine the
slowest passes measure the neighbours). Reference checkpoints:
`python ../shared/tools/reference_checkpoint.py {uni,bi} OUT`.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bio" / "ncbi-disease" / "iob" / "test.tsv"
LABELS_5 = ["disease", "chemical", "gene", "species", "cell type"]
# gliner_biomed's inference paths (`runtime`, `precision`; layers/inference.py)
FAST_PATHS = {
    "gliner_biomed": ("torch", "fp32"),
    "gliner_biomed onnx": ("onnxruntime", "fp32"),
    "gliner_biomed int8": ("torch", "int8"),
    "gliner_biomed onnx int8": ("onnxruntime", "int8"),
}


def labels_n(n: int):
    extra = [f"type {i}" for i in range(n)]
    return (LABELS_5 + extra)[:n]


def read_sentences(path: Path, n: int):
    sents, words = [], []
    for line in path.read_text(encoding="utf8").splitlines() + [""]:
        if line.strip():
            words.append(line.split("\t")[0])
        elif words:
            sents.append(" ".join(words))
            words = []
    return sents[:n]


def run_one(system: str, ckpt: str, n_labels: int, texts, threads: int, repeat: int = 3) -> dict:
    import torch

    torch.set_num_threads(threads)
    labels = labels_n(n_labels)
    if system in FAST_PATHS:
        import spacy

        runtime, precision = FAST_PATHS[system]
        nlp = spacy.blank("en")
        config = {"checkpoint": ckpt, "labels": labels, "runtime": runtime, "precision": precision}
        nlp.add_pipe("gliner_biomed", config=config)
        run = lambda: [len(d.ents) for d in nlp.pipe(texts, batch_size=64)]
    elif system == "gliner":
        from gliner import GLiNER

        model = GLiNER.from_pretrained(ckpt)
        run = lambda: [len(x) for x in model.inference(texts, labels, batch_size=8)]
    elif system == "gliner-spacy":
        import spacy
        from gliner import GLiNER

        nlp = spacy.blank("en")
        nlp.add_pipe("gliner_spacy", config={"gliner_model": ckpt, "labels": labels})
        run = lambda: [len(d.ents) for d in nlp.pipe(texts)]
    elif system == "floor":
        import spacy

        nlp = spacy.blank("en")
        ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": ckpt, "labels": labels})
        ckp = ner.checkpoint
        feat, encoder = ckp.featurizer, ckp.model.token_rep_layer
        prompts = tuple(labels)
        docs = [[t.text for t in doc if not t.is_space] for doc in nlp.pipe(texts)]
        docs.sort(key=lambda words: len(feat.encode([words], [prompts]).input_ids[0]))
        batches = [feat.encode(docs[b : b + 8], [prompts] * len(docs[b : b + 8])) for b in range(0, len(docs), 8)]

        def run():
            with torch.inference_mode():
                for batch in batches:
                    encoder.bert_layer(batch.input_ids, batch.attention_mask)
    else:
        raise ValueError(system)
    run()  # warm-up (first-call allocations, label cache of nobody)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"docs_per_s": len(texts) / min(times), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uni", required=True)
    ap.add_argument("--bi", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per row; the best counts")
    ap.add_argument("--systems", default="gliner_biomed,gliner_biomed onnx,gliner_biomed int8,gliner_biomed onnx int8,gliner,gliner-spacy,floor")
    ap.add_argument("--labels", default="5,100")
    ap.add_argument("--kinds", default="uni,bi")
    ap.add_argument("--_one", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    texts = read_sentences(DATA, a.n)
    if a._one:
        system, kind, n_labels = a._one
        print(json.dumps(run_one(system, getattr(a, kind), int(n_labels), texts, a.threads, a.repeat)))
        return
    rows = []
    for kind in a.kinds.split(","):
        for n_labels in [int(x) for x in a.labels.split(",")]:
            for system in a.systems.split(","):
                cmd = [sys.executable, __file__, "--uni", a.uni, "--bi", a.bi, "--n", str(a.n),
                       "--threads", str(a.threads), "--repeat", str(a.repeat), "--_one", system, kind, str(n_labels)]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode != 0:
                    print(out.stderr[-2000:], file=sys.stderr)
                    continue
                result = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((kind, n_labels, system, result))
                print(f"{kind} {n_labels} {system}: {result}", file=sys.stderr)
    print(f"\n{len(texts)} NCBI-disease test sentences, {a.threads} threads, docs/s (best of {a.repeat}; higher is better)\n")
    print("| encoder | labels | system | docs/s | vs gliner | vs floor | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for kind, n_labels, system, r in rows:
        base = {(k, n, s): x["docs_per_s"] for k, n, s, x in rows}
        ref = base.get((kind, n_labels, "gliner"))
        floor = base.get((kind, n_labels, "floor"))
        vs_ref = f"{r['docs_per_s'] / ref:.2f}x" if ref else "-"
        vs_floor = f"{r['docs_per_s'] / floor:.2f}x" if floor else "-"
        print(f"| {kind} | {n_labels} | {system} | {r['docs_per_s']:.1f} | {vs_ref} | {vs_floor} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
