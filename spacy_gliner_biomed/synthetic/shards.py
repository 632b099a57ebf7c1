"""Resumable sharded output: `.spacy` shards written whole, recorded in a manifest only once
complete, so a killed run restarted with the same command redoes only the missing shards, with
no document lost or written twice.

The input order is deterministic (same inputs, same de-duplication), so shard i always holds the
same documents. A teacher run first *stages* each shard's input texts (`texts/shard-i.jsonl`,
recorded in the manifest), then annotates staged shards, in this process or on Ray workers, in
any order: a restart skips the documents of the staged shards without reading them again, and
annotates the staged shards that have no output yet. A folder written with other inputs or
settings is refused rather than mixed.
"""
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..corpora.docbin import write_docbin
from ..errors import Errors, GlinerError
from ..files import write_atomic
from ..text import RawText
from ..text.readers import read_json_objects

MANIFEST = "manifest.json"
STAGED_TEXTS = "texts"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.spacy"


def fingerprint(settings: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


class ShardedOutput:
    def __init__(self, folder: Path, settings: Dict[str, Any], shard_size: int):
        self.folder = Path(folder)
        self.shard_size = shard_size
        self.settings = settings
        self.key = fingerprint({**settings, "shard_size": shard_size})
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / MANIFEST
        self.manifest: Dict[str, Any] = {
            "fingerprint": self.key, "settings": settings, "shard_size": shard_size, "shards": [], "staged": [], "complete": False,
        }
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise GlinerError(Errors.E159.format(path=path, err=err)) from None
            if old.get("fingerprint") != self.key:
                raise GlinerError(Errors.E160.format(folder=self.folder, old=old.get("settings"), new=settings))
            self.manifest = old
            # a folder from before staging: its shards were written in order, their texts unstaged
            old.setdefault("staged", [{"file": None, "inputs": s["inputs"]} for s in old["shards"]])
        elif any(self.folder.glob("shard-*.spacy")):
            raise GlinerError(Errors.E160.format(folder=self.folder, old="(no manifest)", new=settings))

    @property
    def complete(self) -> bool:
        return bool(self.manifest["complete"])

    @property
    def shards(self) -> List[Dict[str, Any]]:
        return self.manifest["shards"]

    @property
    def docs_done(self) -> int:
        """Input documents (kept or dropped by the teacher) covered by finished shards."""
        return sum(s["inputs"] for s in self.shards)

    def write(self, docs: List, inputs: int, counts: Optional[Dict[str, int]] = None) -> Path:
        """Write the next shard: `docs` made from `inputs` input documents."""
        path = self.folder / shard_name(len(self.shards))
        write_docbin(docs, path)
        self.record({"file": path.name, "docs": len(docs), "inputs": inputs, "counts": counts or {}})
        return path

    def record(self, shard: Dict[str, Any]) -> None:
        """Record a shard written whole (by this process or by a worker), kept in shard order."""
        self.manifest["shards"] = sorted([s for s in self.shards if s["file"] != shard["file"]] + [shard], key=lambda s: s["file"])
        self._save()

    # Staging: a teacher run's input texts, shard by shard.
    @property
    def staged(self) -> List[Dict[str, Any]]:
        return self.manifest["staged"]

    @property
    def docs_staged(self) -> int:
        """Input documents of the staged shards (a restart skips them in the input stream)."""
        return sum(s["inputs"] for s in self.staged)

    def stage(self, texts: Sequence[RawText]) -> Dict[str, Any]:
        """Write the next shard's input texts whole; return its work item (input texts, output shard)."""
        index = len(self.staged)
        name = f"{STAGED_TEXTS}/shard-{index:05d}.jsonl"
        (self.folder / STAGED_TEXTS).mkdir(exist_ok=True)
        lines = (json.dumps({"id": t.doc_id, "text": t.text, "source": t.source}, ensure_ascii=False) for t in texts)
        write_atomic(self.folder / name, "".join(line + "\n" for line in lines))
        self.staged.append({"file": name, "inputs": len(texts)})
        self._save()
        return self.work_item(index)

    def work_item(self, index: int) -> Dict[str, Any]:
        return {"input": str((self.folder / self.staged[index]["file"]).resolve()), "output": shard_name(index)}

    def pending(self) -> List[Dict[str, Any]]:
        """Work items of the staged shards with no output shard yet."""
        done = {s["file"] for s in self.shards}
        return [self.work_item(i) for i, s in enumerate(self.staged) if s["file"] and shard_name(i) not in done]

    def finish(self, report: Dict[str, Any]) -> None:
        self.manifest["complete"] = True
        self.manifest["report"] = report
        self._save()

    def files(self) -> List[Path]:
        return [self.folder / s["file"] for s in self.shards]

    def _save(self) -> None:
        write_atomic(self.folder / MANIFEST, json.dumps(self.manifest, indent=2))


def read_staged(path: str) -> List[RawText]:
    """A staged shard's input texts, in order."""
    return [RawText(record["id"], record["text"], record["source"]) for _, record in read_json_objects(path)]
