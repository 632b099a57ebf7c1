"""Ray, the engine that spreads shard work over workers: `annotate --engine ray` and the teacher
step (`synthesize --engine ray`) both hand it their pending shards.

Each pending shard becomes one Ray Data row; `map_batches` runs the rows on actors that each load
their model once (a class with `__init__` and `__call__`, Ray Data's stateful transform), and the
driver records every shard as its result arrives. An actor returns one JSON string per shard (so
result rows of mixed keys, errors or counts, stay one column). A shard whose work fails inside
the actor comes back as an error row; a worker that dies is restarted by Ray and its shard
retried (`max_restarts`, `max_task_retries`); a shard that still fails is reported, while the
other shards go on. Outputs must be on storage every worker can write (a shared file system on a
cluster); the driver passes absolute paths.
"""
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from .errors import Errors, GlinerError

ENGINES = ("local", "ray")
# Ray restarts a dead actor and retries its task this many times before the shard is reported.
RAY_RETRIES = 2


@dataclass(frozen=True)
class RayWorkers:
    """How many actors, and what each gets (CPUs are also its torch threads)."""

    num_workers: int = 2
    cpus_per_worker: int = 1
    gpus_per_worker: float = 0.0
    address: Optional[str] = None  # an existing cluster ("auto", "ray://..."); None: start a local one

    def check(self) -> None:
        checks = [
            ("--num-workers", self.num_workers >= 1, "an integer >= 1", self.num_workers),
            ("--cpus-per-worker", self.cpus_per_worker >= 1, "an integer >= 1", self.cpus_per_worker),
            ("--gpus-per-worker", self.gpus_per_worker >= 0, "a number >= 0", self.gpus_per_worker),
        ]
        for what, ok, expected, value in checks:
            if not ok:
                raise GlinerError(Errors.E186.format(what=what, expected=expected, value=value))


def add_worker_arguments(parser) -> None:
    """The command-line options of `RayWorkers`, the same on every command that takes `--engine`."""
    parser.add_argument("--engine", default="local", help="local (this process, the default) or ray")
    parser.add_argument("--num-workers", type=int, default=2, help="ray: actors, each with its own model")
    parser.add_argument("--cpus-per-worker", type=int, default=1, help="ray: CPUs (and torch threads) per actor")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0, help="ray: GPUs per actor (e.g. 1, or 0.5 to share)")
    parser.add_argument("--address", default=None, help="ray: an existing cluster (e.g. auto); default: start a local one")


def workers_from_args(args) -> RayWorkers:
    if args.engine not in ENGINES:
        raise GlinerError(Errors.E186.format(what="--engine", expected=f"one of {list(ENGINES)}", value=args.engine))
    workers = RayWorkers(args.num_workers, args.cpus_per_worker, args.gpus_per_worker, args.address)
    workers.check()
    return workers


def require_ray() -> None:
    """Fail at once, before any model is loaded, when the `ray` extra is missing."""
    try:
        import ray.data  # noqa: F401
    except ImportError as err:
        raise GlinerError(Errors.E196.format(err=err)) from None


def prepare_worker(threads: int, use_gpu: bool) -> None:
    """In an actor, before its model is built: its torch threads, and its GPU when Ray gave it one
    (CUDA_VISIBLE_DEVICES), so that spaCy builds the model there."""
    import torch

    torch.set_num_threads(threads)
    if use_gpu:
        import spacy

        spacy.require_gpu()


def map_shards_on_ray(
    actor: type, actor_kwargs: Dict[str, Any], pending: List[Dict[str, Any]],
    record: Callable[[Dict[str, Any]], None], workers: RayWorkers, progress: bool = True,
) -> None:
    """Run `actor(**actor_kwargs)` on each row of `pending` (dicts with an "input" key) over
    `workers` actors; `record` gets each result dict, or `{**row, "error": ...}` for a shard that
    failed after Ray's retries. `actor_kwargs` get `threads` and `use_gpu` added."""
    require_ray()
    import ray
    import ray.data

    if not pending:
        return
    started_here = not ray.is_initialized()
    if started_here:
        if workers.address:
            ray.init(address=workers.address, log_to_driver=False)
        else:  # a new local cluster of exactly the requested workers ("local": never one `ray start` left running)
            gpus = math.ceil(workers.num_workers * workers.gpus_per_worker) if workers.gpus_per_worker else None
            ray.init(address="local", num_cpus=workers.num_workers * workers.cpus_per_worker, num_gpus=gpus,
                     include_dashboard=False, log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.max_errored_blocks = len(pending)  # a shard that keeps failing is reported, not fatal
        context.enable_progress_bars = progress
        dataset = ray.data.from_items(pending, override_num_blocks=len(pending))
        results = dataset.map_batches(
            actor,
            fn_constructor_kwargs={
                **actor_kwargs, "threads": workers.cpus_per_worker, "use_gpu": workers.gpus_per_worker > 0,
            },
            batch_size=1,
            # one shard in flight per actor: shards are long, and an actor that dies takes only its own down
            compute=ray.data.ActorPoolStrategy(size=workers.num_workers, max_tasks_in_flight_per_actor=1),
            num_cpus=workers.cpus_per_worker,
            num_gpus=workers.gpus_per_worker or None,
            max_restarts=RAY_RETRIES,
            max_task_retries=RAY_RETRIES,
        )
        seen = set()
        for row in results.iter_rows():
            result = json.loads(row["result"])
            seen.add(result["input"])
            record(result)
        for item in pending:
            if item["input"] not in seen:
                record({**item, "error": f"its worker failed after {RAY_RETRIES} retries"})
    finally:
        if started_here:
            ray.shutdown()


def result_rows(results: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """An actor's return value: one JSON string per shard."""
    return {"result": [json.dumps(r) for r in results]}
