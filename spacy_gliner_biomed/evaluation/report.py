"""The evaluation report: Markdown (percentages, 2 decimals) and JSON (fractions in [0, 1])."""
import json
from pathlib import Path
from typing import Any, Mapping, Tuple, Union

from ..files import write_atomic


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def format_markdown(report: Mapping[str, Any]) -> str:
    """A summary table (one row per dataset, then their average) and a per-label table per dataset."""
    lines = [
        f"## Evaluation of `{report['component']}` (threshold {report['threshold']})",
        "",
        "P, R, F1 in %. Strict: same start, end and label. Relaxed: same label and any overlap, each gold "
        "span matched once (GLiNER-biomed's evaluator). Micro: pooled counts; macro: mean over labels.",
        "",
        "| dataset | setting | docs | strict P | strict R | strict F1 | strict F1 macro "
        "| relaxed F1 | relaxed F1 macro | docs/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ds in report["datasets"].items():
        strict, relaxed = ds["micro"]["strict"], ds["micro"]["relaxed"]
        lines.append(
            f"| {name} | {ds['setting']} | {ds['n_docs']} | {_pct(strict['p'])} | {_pct(strict['r'])} "
            f"| {_pct(strict['f'])} | {_pct(ds['macro']['strict']['f'])} | {_pct(relaxed['f'])} "
            f"| {_pct(ds['macro']['relaxed']['f'])} | {ds['docs_per_second']:.1f} |"
        )
    average = report["average"]
    lines.append(
        f"| **average** | | | | | {_pct(average['strict_f'])} | | {_pct(average['relaxed_f'])} | | |"
    )
    for name, ds in report["datasets"].items():
        lines += [
            "",
            f"### {name} ({ds['setting']})",
            "",
            "| label | support | strict P | strict R | strict F1 | TP | FP | FN | relaxed P | relaxed R | relaxed F1 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, scores in ds["labels"].items():
            s, r = scores["strict"], scores["relaxed"]
            lines.append(
                f"| {label} | {scores['support']} | {_pct(s['p'])} | {_pct(s['r'])} | {_pct(s['f'])} "
                f"| {s['tp']} | {s['fp']} | {s['fn']} | {_pct(r['p'])} | {_pct(r['r'])} | {_pct(r['f'])} |"
            )
    return "\n".join(lines) + "\n"


def write_report(report: Mapping[str, Any], out_dir: Union[str, Path]) -> Tuple[Path, Path]:
    """Write `metrics.json` and `metrics.md` into `out_dir` (created if needed); returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "metrics.json", out_dir / "metrics.md"
    write_atomic(json_path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(md_path, format_markdown(report))
    return json_path, md_path

