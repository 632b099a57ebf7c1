"""Atomic output: every file or folder the package writes appears whole or not at all.

Written beside its destination, then renamed into place, so an interrupted run (a killed
`spacy train` saving `model-last`, a crash while writing a report) leaves the previous complete
version, never half a file. `tempfile` creates owner-only entries; they get the permissions a
plain `open()` / `mkdir()` would have given (0o666 / 0o777 minus the umask), so outputs stay
readable to the group and to a served model's user.
"""
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Union[str, Path], data: Union[bytes, str]) -> Path:
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def staging_dir(path: Union[str, Path]) -> Path:
    """An empty folder beside `path` to assemble it in, with a plain folder's permissions."""
    path = Path(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    os.chmod(staging, 0o777 & ~_umask())
    return staging


@contextmanager
def replacing_folder(path: Union[str, Path]) -> Iterator[Path]:
    """Build a folder in a staging folder beside `path`; when the block ends without an error it
    replaces `path` (an existing one is removed first), else the staging folder is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(path)
    try:
        yield staging
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
