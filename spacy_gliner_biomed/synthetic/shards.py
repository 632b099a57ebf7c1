"""Resumable sharded output: `.spacy` shards written whole, recorded in a manifest only once
complete, so a killed run restarted with the same command redoes only the missing shards, with
no document lost or written twice.

The input order is deterministic (same inputs, same de-duplication), so shard i always holds the
same documents: a restart skips the documents of the finished shards without annotating them.
A folder written with other inputs or settings is refused rather than mixed.
"""
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..corpora.docbin import write_docbin
from ..errors import Errors, GlinerError
from ..files import write_atomic

MANIFEST = "manifest.json"


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
        self.manifest: Dict[str, Any] = {"fingerprint": self.key, "settings": settings, "shard_size": shard_size, "shards": [], "complete": False}
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise GlinerError(Errors.E159.format(path=path, err=err)) from None
            if old.get("fingerprint") != self.key:
                raise GlinerError(Errors.E160.format(folder=self.folder, old=old.get("settings"), new=settings))
            self.manifest = old
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
        path = self.folder / f"shard-{len(self.shards):05d}.spacy"
        write_docbin(docs, path)
        self.shards.append({"file": path.name, "docs": len(docs), "inputs": inputs, "counts": counts or {}})
        self._save()
        return path

    def finish(self, report: Dict[str, Any]) -> None:
        self.manifest["complete"] = True
        self.manifest["report"] = report
        self._save()

    def files(self) -> List[Path]:
        return [self.folder / s["file"] for s in self.shards]

    def _save(self) -> None:
        write_atomic(self.folder / MANIFEST, json.dumps(self.manifest, indent=2))
