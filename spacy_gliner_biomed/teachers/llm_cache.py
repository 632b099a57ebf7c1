"""The LLM teacher's answer cache: one JSON file per request, so no request is ever made twice.

A request is named by the SHA-256 of its canonical JSON (model, messages, response_format, seed,
temperature, max_tokens: everything that decides the answer, and nothing else: never the API key,
the server address or the timeout). Its file, `<cache_dir>/<key[:2]>/<key>.json`, holds the
request and the raw answer text:

    {"version": 1, "key": "...", "request": {...}, "content": "<the model's message content>"}

Files are written atomically (`files.write_atomic`), so an interrupted run leaves whole answers
only, and a rerun, or a run in another process over the same folder, reads them instead of asking.
Only answers are cached, malformed ones included (at temperature 0 and a fixed seed the same
request gives the same answer); a request that got no answer (server down, timeout) is not, and
is asked again next time. Delete the folder, or one file, to ask again.
"""
import json
from hashlib import sha256
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ..errors import Errors, GlinerError
from ..files import write_atomic

CACHE_VERSION = 1


def request_key(request: Mapping[str, Any]) -> str:
    """The cache key of a chat-completions request (a dict of its JSON body)."""
    payload = json.dumps(
        {"version": CACHE_VERSION, "request": request}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return sha256(payload.encode("utf-8")).hexdigest()


class AnswerCache:
    """Answers on disk under `root`; with `root=None` nothing is read or written."""

    def __init__(self, root: Optional[Union[str, Path]]):
        self.root = None if root is None else Path(root)
        if self.root is not None:
            if self.root.exists() and not self.root.is_dir():
                raise GlinerError(Errors.E130.format(path=self.root, problem="exists and is not a folder"))
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise GlinerError(Errors.E130.format(path=self.root, problem=f"cannot be created ({err})"))

    def path(self, key: str) -> Optional[Path]:
        return None if self.root is None else self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[str]:
        """The cached answer text, or None. A damaged file (which atomic writes never leave, but
        a disk or a person may) counts as absent and is overwritten by the next answer."""
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("content"), str):
            return None
        return entry["content"]

    def put(self, key: str, request: Mapping[str, Any], content: str) -> None:
        path = self.path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"version": CACHE_VERSION, "key": key, "request": request, "content": content}
        write_atomic(path, json.dumps(entry, ensure_ascii=False, indent=1))
