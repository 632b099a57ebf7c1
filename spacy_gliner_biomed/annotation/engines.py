"""Where the shards of an annotation run are annotated: `local` (this process) or `ray` (Ray Data
actors, see `..engines`).

Both call `shards.annotate_shard` on the same pipeline, so they write the same bytes (given the
same torch thread count per worker: a matrix product's rounding depends on it). A shard whose
reader fails (an unreadable file) comes back as an error result and is reported; the other
shards go on.
"""
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from ..engines import RayWorkers, map_shards_on_ray, prepare_worker, result_rows
from ..errors import GlinerError
from .shards import annotate_shard, output_name


def run_local(
    nlp, pending: List[Dict[str, str]], out: Path, record: Callable[[Dict[str, Any]], None],
    batch_size: int, spans_key: Optional[str], progress: bool = True,
) -> None:
    from tqdm import tqdm

    for item in tqdm(pending, desc="shards", unit="shard", disable=not progress, file=sys.stderr):
        record(_annotate_or_report(nlp, item, out, batch_size, spans_key))


def _annotate_or_report(nlp, item: Dict[str, str], out: Path, batch_size: int, spans_key: Optional[str]) -> Dict[str, Any]:
    try:
        return annotate_shard(nlp, item["input"], out / item["output"], batch_size, spans_key)
    except GlinerError as err:  # an unreadable shard: reported, the run goes on
        return {"input": item["input"], "output": item["output"], "error": str(err)}


class ShardAnnotator:
    """A Ray Data actor: loads the pipeline once, then annotates the shards it is given."""

    def __init__(self, model: str, labels: List[str], threshold: Optional[float], overrides: Dict[str, str],
                 out: str, batch_size: int, spans_key: Optional[str], threads: int, use_gpu: bool = False):
        from .pipeline import build_pipeline

        prepare_worker(threads, use_gpu)
        self.nlp = build_pipeline(model, labels, threshold, quiet=True)
        apply_overrides(self.nlp, overrides)
        self.out, self.batch_size, self.spans_key = Path(out), batch_size, spans_key

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[str]]:
        return result_rows([
            _annotate_or_report(self.nlp, {"input": str(i), "output": str(o)}, self.out, self.batch_size, self.spans_key)
            for i, o in zip(batch["input"], batch["output"])
        ])


def apply_overrides(nlp, overrides: Dict[str, str]) -> None:
    """--runtime / --precision on the gliner_biomed component."""
    if overrides:
        from ..pipeline_component import get_component

        ner = get_component(nlp, "gliner_biomed")
        ner.runtime = overrides.get("runtime", ner.runtime)
        ner.precision = overrides.get("precision", ner.precision)


def run_ray(
    model: str, labels: List[str], threshold: Optional[float], overrides: Dict[str, str],
    pending: List[Dict[str, str]], out: Path, record: Callable[[Dict[str, Any]], None], batch_size: int,
    spans_key: Optional[str], workers: RayWorkers, progress: bool = True,
) -> None:
    kwargs = {
        "model": model, "labels": labels, "threshold": threshold, "overrides": overrides,
        "out": str(Path(out).resolve()), "batch_size": batch_size, "spans_key": spans_key,
    }
    map_shards_on_ray(ShardAnnotator, kwargs, pending, record, workers, progress)


def pending_shards(inputs: Iterable[str], is_done: Callable[[str], bool], output_format: str) -> List[Dict[str, str]]:
    return [{"input": i, "output": output_name(i, output_format)} for i in inputs if not is_done(i)]
