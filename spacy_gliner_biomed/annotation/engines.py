"""Where the shards of a run are annotated: `local` (this process) or `ray` (Ray Data actors).

Both call `shards.annotate_shard` on the same pipeline, so they write the same bytes (given the
same torch thread count per worker: a matrix product's rounding depends on it). The ray engine
hands Ray Data one row per pending input shard; `map_batches` runs them on actors that each load
the pipeline once (`ShardAnnotator`), and the driver records every shard in the manifest as its
result arrives. A shard whose reader fails (an unreadable file) comes back as an error row and is
reported; a worker that dies is restarted by Ray and its shard retried (`max_restarts`,
`max_task_retries`), and a shard that still fails is reported, while the other shards go on.
Output folders must be on storage every worker can write (a shared file system on a cluster).
"""
import math
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from ..errors import Errors, GlinerError
from .shards import annotate_shard

ENGINES = ("local", "ray")


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
        import torch

        from .pipeline import build_pipeline

        torch.set_num_threads(threads)
        if use_gpu:  # Ray gave this actor a GPU (CUDA_VISIBLE_DEVICES): models are built on it
            import spacy

            spacy.require_gpu()
        self.nlp = build_pipeline(model, labels, threshold, quiet=True)
        apply_overrides(self.nlp, overrides)
        self.out, self.batch_size, self.spans_key = Path(out), batch_size, spans_key

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        results = [
            _annotate_or_report(self.nlp, {"input": str(i), "output": str(o)}, self.out, self.batch_size, self.spans_key)
            for i, o in zip(batch["input"], batch["output"])
        ]
        import json

        # one JSON string per shard: result rows of mixed keys (errors, counts) stay one column
        return {"result": [json.dumps(r) for r in results]}


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
    spans_key: Optional[str], num_workers: int, cpus_per_worker: int, gpus_per_worker: float,
    address: Optional[str], progress: bool = True,
) -> None:
    import json

    try:
        import ray
        import ray.data
    except ImportError as err:
        raise GlinerError(Errors.E196.format(err=err)) from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a local cluster of exactly the requested workers
            gpus = math.ceil(num_workers * gpus_per_worker) if gpus_per_worker else None
            ray.init(num_cpus=num_workers * cpus_per_worker, num_gpus=gpus, include_dashboard=False, log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.max_errored_blocks = len(pending)  # a shard that keeps failing is reported, not fatal
        context.enable_progress_bars = progress
        dataset = ray.data.from_items(pending, override_num_blocks=len(pending))
        results = dataset.map_batches(
            ShardAnnotator,
            fn_constructor_kwargs={
                "model": model, "labels": labels, "threshold": threshold, "overrides": overrides, "out": str(out),
                "batch_size": batch_size, "spans_key": spans_key, "threads": cpus_per_worker,
                "use_gpu": gpus_per_worker > 0,
            },
            batch_size=1,
            concurrency=num_workers,
            num_cpus=cpus_per_worker,
            num_gpus=gpus_per_worker or None,
            max_restarts=2,
            max_task_retries=2,
        )
        seen = set()
        for row in results.iter_rows():
            result = json.loads(row["result"])
            seen.add(result["input"])
            record(result)
        for item in pending:
            if item["input"] not in seen:
                record({**item, "error": "its worker failed after Ray's retries"})
    finally:
        if started_here:
            ray.shutdown()


def pending_shards(inputs: Iterable[str], is_done: Callable[[str], bool], output_format: str) -> List[Dict[str, str]]:
    from .shards import output_name

    return [{"input": i, "output": output_name(i, output_format)} for i in inputs if not is_done(i)]
