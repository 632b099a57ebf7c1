"""Put the corpora that `python -m spacy_gliner_biomed convert` reads into assets/, md5-checked.

    python scripts/assets.py --shared ../shared/data --out assets [--project project.yml]

Reads the `assets` list of project.yml. An asset's path under --out is its `dest` without the
leading `assets/`; the same path under --shared (the offline mirror) is copied when it is there,
else the asset is downloaded from its public origin (`url`; for a folder asset given as
`git: {repo, branch, path}`, the GitHub tarball of that branch). A file's `checksum` is its md5;
a folder's `manifest_md5` is the md5 of `md5sum`-style lines (`<md5>  <relative path>\\n`) of
its files sorted by path (for a flat folder: `md5sum $(ls | LC_ALL=C sort) | md5sum`).
Everything is written to a temporary name, checked, then moved into place; a dest that already
matches is left alone. One progress line per dataset.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import srsly


class AssetError(Exception):
    pass


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def md5_folder(path: Path) -> str:
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    return hashlib.md5("".join(f"{md5_file(path / f)}  {f}\n" for f in files).encode()).hexdigest()


def _md5(path: Path, folder: bool) -> Optional[str]:
    if folder:
        return md5_folder(path) if path.is_dir() else None
    return md5_file(path) if path.is_file() else None


def _archive_url(git: Dict[str, str]) -> str:
    repo = git["repo"].rstrip("/").removesuffix(".git")
    return f"{repo}/archive/refs/heads/{git.get('branch', 'master')}.tar.gz"


def _download(url: str, to: Path) -> None:
    with urllib.request.urlopen(url, timeout=120) as response, open(to, "wb") as f:
        shutil.copyfileobj(response, f)


def _extract(tarball: Path, subpath: str, to: Path) -> None:
    """The files of `<top folder>/<subpath>/` of a GitHub tarball, into `to`."""
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            inner = Path(*Path(member.name).parts[1:])
            if not (member.isfile() and inner.is_relative_to(subpath)) or ".." in inner.parts:
                continue
            rel = inner.relative_to(subpath)
            (to / rel).parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(to / rel, "wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst)


def _count(path: Path) -> int:
    return sum(1 for f in path.rglob("*") if f.is_file()) if path.is_dir() else 1


def fetch(asset: Dict[str, Any], shared: Path, out: Path) -> Tuple[str, int]:
    """Copy or download one asset; returns what was done ("copied", "downloaded", "present") and its file count."""
    rel = Path(*Path(asset["dest"]).parts[1:])
    folder = "git" in asset
    expected = asset.get("manifest_md5" if folder else "checksum")
    if not expected:
        raise AssetError(f"{asset['dest']}: project.yml gives no {'manifest_md5' if folder else 'checksum'}.")
    target, source = out / rel, shared / rel
    if _md5(target, folder) == expected:
        return "present", _count(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        got = tmp / target.name
        if source.is_dir() if folder else source.is_file():
            action, where = "copied", str(source)
            (shutil.copytree if folder else shutil.copyfile)(source, got)
        else:
            action, where = "downloaded", _archive_url(asset["git"]) if folder else asset.get("url", "")
            try:
                if folder:
                    _download(where, tmp / "archive.tar.gz")
                    got.mkdir()
                    _extract(tmp / "archive.tar.gz", asset["git"]["path"], got)
                else:
                    _download(where, got)
            except (OSError, ValueError, tarfile.TarError) as err:
                raise AssetError(f"{rel}: not in {shared}, and the download from {where!r} failed: {err}") from None
        actual = _md5(got, folder)
        if actual != expected:
            raise AssetError(f"{rel}: md5 mismatch ({action} from {where}): expected {expected}, got {actual}.")
        if folder and target.exists():
            shutil.rmtree(target)
        os.replace(got, target)
        return action, _count(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default="../shared/data", help="offline mirror of the assets")
    parser.add_argument("--out", default="assets", help="where the assets go")
    parser.add_argument("--project", default="project.yml", help="the project.yml listing the assets")
    args = parser.parse_args(argv)
    shared, out = Path(args.shared), Path(args.out)
    assets: List[Dict[str, Any]] = srsly.read_yaml(args.project).get("assets") or []
    by_dataset: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for asset in assets:
        by_dataset["/".join(Path(asset["dest"]).parts[1:3])].append(asset)
    try:
        for dataset, items in by_dataset.items():
            done: Counter = Counter()
            for asset in items:
                action, files = fetch(asset, shared, out)
                done[action] += files
            print(f"{dataset}: {sum(done.values())} files: " + ", ".join(f"{n} {a}" for a, n in sorted(done.items())))
    except AssetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
