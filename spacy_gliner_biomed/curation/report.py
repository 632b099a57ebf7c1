"""The curation report: kept and dropped counts per type, the score distribution (a PNG
histogram), and the examples at both ends of the ranking."""
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..files import write_atomic
from .scores import WeakScores

N_ENDS = 5  # examples shown at each end of the ranking


def method_value(scores: Optional[WeakScores], method: str) -> Optional[float]:
    """The number a method ranks by (None for the random method and unscored examples)."""
    if scores is None or method == "random":
        return None
    return scores.ifd if method == "ifd" else scores.plain


class SelectionStats:
    """Counts gathered while the selected examples are written."""

    def __init__(self, method: str, ranked: Sequence[int]):
        self.method = method
        self.ends = {i: ("top", rank) for rank, i in enumerate(ranked[:N_ENDS])}
        self.ends.update({i: ("bottom", len(ranked) - 1 - rank) for rank, i in enumerate(ranked[::-1][:N_ENDS]) if i not in self.ends})
        self.per_type: Dict[str, Dict[str, int]] = defaultdict(lambda: {"spans": 0, "spans_kept": 0, "examples": 0, "examples_kept": 0})
        self.counts = {"examples": 0, "positives": 0, "negatives": 0, "positives_kept": 0, "negatives_kept": 0}
        self.shown: List[Dict[str, Any]] = []

    def add(self, index: int, doc, spans: Sequence, kept: bool, scores: Optional[WeakScores]) -> None:
        kind = "positives" if spans else "negatives"
        self.counts["examples"] += 1
        self.counts[kind] += 1
        self.counts[kind + "_kept"] += int(kept)
        for label in {s.label_ for s in spans}:
            self.per_type[label]["examples"] += 1
            self.per_type[label]["examples_kept"] += int(kept)
        for span in spans:
            self.per_type[span.label_]["spans"] += 1
            self.per_type[span.label_]["spans_kept"] += int(kept)
        if index in self.ends:
            end, rank = self.ends[index]
            self.shown.append({
                "end": end, "rank": rank, "kept": kept, "text": doc.text,
                "entities": [[s.text, s.label_] for s in spans],
                "scores": None if scores is None else {"ifd": scores.ifd, "conditioned": scores.conditioned,
                                                       "unconditioned": scores.unconditioned, "plain": scores.plain},
            })

    def report(self, method: str, fraction: float, seed: int, values: Dict[str, List[float]]) -> Dict[str, Any]:
        return {
            "method": method, "fraction": fraction, "seed": seed, **self.counts,
            "per_type": {t: self.per_type[t] for t in sorted(self.per_type)},
            "score_summary": {k: _summary(v) for k, v in values.items()},
            "ends": sorted(self.shown, key=lambda e: e["rank"]),
        }


def _summary(values: Sequence[float]) -> Dict[str, Optional[float]]:
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return {"n": 0}
    pick = lambda q: finite[min(len(finite) - 1, int(q * len(finite)))]  # noqa: E731
    return {"n": len(finite), "min": finite[0], "p25": pick(0.25), "median": pick(0.5), "p75": pick(0.75), "max": finite[-1],
            "ifd_at_least_1": sum(v >= 1 for v in finite)}


def write_report(report: Dict[str, Any], out: Path, values: Dict[str, List[float]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "report.json", json.dumps(report, indent=2))
    write_atomic(out / "report.md", _markdown(report))
    if values.get("kept") or values.get("dropped"):
        _histogram(values, report["method"], out / "scores.png")


def _markdown(r: Dict[str, Any]) -> str:
    lines = [
        f"## Curation: {r['method']} score, top {r['fraction']:.0%} of positives kept, every negative kept",
        "",
        f"Examples {r['examples']}: positives {r['positives']} (kept {r['positives_kept']}), "
        f"negatives {r['negatives']} (kept {r['negatives_kept']}). Weak model: {r.get('weak_model')}; "
        f"scoring {r.get('scoring_seconds')} s ({r.get('examples_per_second')} positives/s).",
        "",
        "| type | spans | spans kept | examples | examples kept |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, c in r["per_type"].items():
        lines.append(f"| {label} | {c['spans']} | {c['spans_kept']} | {c['examples']} | {c['examples_kept']} |")
    lines += ["", "### Both ends of the ranking", ""]
    for e in r["ends"]:
        shown = "; ".join(f"{text} ({label})" for text, label in e["entities"])
        score = "" if e["scores"] is None else f" IFD {e['scores']['ifd']:.3f}, loss {e['scores']['plain']:.4f}"
        lines.append(f"- {e['end']} #{e['rank'] + 1}{score}, {'kept' if e['kept'] else 'dropped'}: {e['text'][:200]!r} -> {shown}")
    return "\n".join(lines) + "\n"


def _histogram(values: Dict[str, List[float]], method: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    data = [[v for v in values.get(k, []) if math.isfinite(v)] for k in ("kept", "dropped")]
    ax.hist(data, bins=50, stacked=True, label=["kept", "dropped"])
    ax.set_xlabel({"ifd": "IFD = PPL(answer | types) / PPL(answer)", "loss": "weak model's loss"}.get(method, "random draw"))
    ax.set_ylabel("positive examples")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
