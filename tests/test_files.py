"""Atomic outputs: whole or absent, with the permissions a plain write would give."""
import os
import stat

import pytest

from spacy_gliner_biomed.files import staging_dir, write_atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_file_and_folder_get_plain_permissions(tmp_path, umask_022):
    write_atomic(tmp_path / "report.json", "{}")
    (tmp_path / "plain.json").write_text("{}")
    assert _mode(tmp_path / "report.json") == _mode(tmp_path / "plain.json") == 0o644
    assert (tmp_path / "report.json").read_text() == "{}"
    staging = staging_dir(tmp_path / "checkpoint")
    (tmp_path / "plain").mkdir()
    assert _mode(staging) == _mode(tmp_path / "plain") == 0o755
    assert staging.parent == tmp_path and not any(staging.iterdir())


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = write_atomic(tmp_path / "model", b"complete")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"half")
    assert target.read_bytes() == b"complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
