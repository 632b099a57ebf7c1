"""One input shard annotated into one output shard, and the manifest of a run's finished shards.

An output shard is written to a hidden temporary file beside its destination and renamed into
place only when its last document is written; only then is it recorded in `manifest.json` (also
written atomically). A run killed at any moment leaves finished shards recorded, perhaps one
renamed but unrecorded shard (done again, overwritten), and temporary files (removed on the next
start): restarted with the same command it does exactly the missing shards, so no document is
lost or written twice. Documents stream from the reader through `nlp.pipe` to the file, so memory
does not grow with the shard's size.
"""
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ..errors import Errors, GlinerError
from ..files import write_atomic
from .records import doc_record

MANIFEST = "manifest.json"
FORMATS = ("jsonl", "parquet")


def output_name(input_path: str, output_format: str) -> str:
    """A stable, unique output name per input file: its stem and a hash of its absolute path."""
    path = Path(input_path)
    stem = path.name[:-3] if path.name.endswith(".gz") else path.name
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:10]
    return f"{Path(stem).stem}-{digest}.{output_format}"


class RunManifest:
    """`manifest.json` of an output folder: the settings it was written with and its finished shards."""

    def __init__(self, folder: Path, settings: Dict[str, Any]):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data: Dict[str, Any] = {"settings": settings, "shards": {}, "failed": {}}
        if self.path.exists():
            try:
                old = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise GlinerError(Errors.E159.format(path=self.path, err=err)) from None
            if old.get("settings") != settings:
                raise GlinerError(Errors.E195.format(folder=self.folder, old=old.get("settings"), new=settings))
            self.data = old
        elif any(p.suffix.lstrip(".") in FORMATS for p in self.folder.iterdir()):
            raise GlinerError(Errors.E195.format(folder=self.folder, old="(no manifest)", new=settings))
        for stale in self.folder.glob(".*.tmp"):  # a shard a killed run was writing
            stale.unlink()

    def is_done(self, input_path: str) -> bool:
        entry = self.data["shards"].get(input_path)
        return entry is not None and (self.folder / entry["output"]).is_file() and entry["size"] == _size(input_path)

    def record(self, result: Dict[str, Any]) -> None:
        key = result["input"]
        if result.get("error"):
            self.data["failed"][key] = result["error"]
        else:
            self.data["failed"].pop(key, None)
            self.data["shards"][key] = {k: v for k, v in result.items() if k not in ("input", "error")}
        write_atomic(self.path, json.dumps(self.data, indent=1, ensure_ascii=False))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def annotate_shard(
    nlp, input_path: str, output_path: Path, batch_size: int = 64, spans_key: Optional[str] = None
) -> Dict[str, Any]:
    """Annotate every document of `input_path` (any text format the readers know) into
    `output_path` (JSON lines, or Parquet by its suffix); return the shard's counts."""
    from ..text.readers import TEXT_FORMATS, infer_format

    start = time.perf_counter()
    source = Path(input_path)
    texts = TEXT_FORMATS[infer_format(source)](source)
    tmp = output_path.parent / f".{output_path.name}.tmp"
    counts = {"docs": 0, "empty_docs": 0, "entities": 0}

    def records() -> Iterator[Dict[str, Any]]:
        pairs = ((raw.text, raw.doc_id) for raw in texts)
        for doc, doc_id in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            record = doc_record(doc, doc_id, spans_key)
            counts["docs"] += 1
            counts["empty_docs"] += not doc.text.strip()
            counts["entities"] += len(record["entities"])
            yield record

    try:
        if output_path.suffix == ".parquet":
            _write_parquet(records(), tmp, batch_size)
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for record in records():
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, output_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {
        "input": input_path, "output": output_path.name, "size": _size(input_path), **counts,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _write_parquet(records: Iterator[Dict[str, Any]], path: Path, rows_per_group: int) -> None:
    """Parquet, one row group per `rows_per_group` documents, so memory stays one group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    entity = pa.struct([
        ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("label", pa.string()),
        ("score", pa.float64()), ("kb_id", pa.string()), ("kb_ents", pa.list_(pa.struct([("id", pa.string()), ("score", pa.float64())]))),
    ])
    schema = pa.schema([("id", pa.string()), ("entities", pa.list_(entity))])
    with pq.ParquetWriter(str(path), schema) as writer:
        group: List[Dict[str, Any]] = []
        for record in records:
            for e in record["entities"]:
                e.setdefault("score", None)
                e.setdefault("kb_id", None)
                e["kb_ents"] = [{"id": c, "score": s} for c, s in e.get("kb_ents", [])]
            group.append(record)
            if len(group) >= rows_per_group:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                group = []
        if group:
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
