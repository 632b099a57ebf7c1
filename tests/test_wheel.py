"""The built wheel works on its own: it carries its package data, and its command line converts and
annotates from a folder with no checkout on the path.

Why the dependencies are shared: installing spaCy, torch and transformers into a fresh virtual
environment would need the network (the machine running the tests is offline) and minutes of
time. The fresh environment therefore sees the project environment's site-packages through a `.pth`
file. A plain path line in a `.pth` file is appended to `sys.path`, but the `.pth` files *inside*
that directory are not executed, so the editable install of this project (its
`__editable__...finder` hook) stays inactive: `spacy_gliner_biomed` can only come from the wheel
installed into the fresh environment, which the test checks before using it.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import spacy

from spacy_gliner_biomed.corpora.docbin import read_docbin

from helpers import TEXTS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "spacy_gliner_biomed")
IOB2 = "Mutations\tO\nin\tO\nBRCA1\tB-GENE\nand\tO\nBRCA2\tB-GENE\ngenes\tI-GENE\n.\tO\n\nNo\tO\ngene\tO\n.\tO\n"


def _run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built (as `pip wheel` does, without build isolation: offline) from a
    copy of its sources, so no build artefacts land in the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", src, "-w", root / "dist"])
    (built,) = (root / "dist").glob("spacy_gliner_biomed-*.whl")
    return built


def test_wheel_ships_the_label_map(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped = json.loads(archive.read("spacy_gliner_biomed/data/label_map.json"))
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert shipped == json.loads((ROOT / "spacy_gliner_biomed" / "data" / "label_map.json").read_text())
    assert shipped["bc2gm"] == {"GENE": "gene"}
    assert "spacy_gliner_biomed/cli/__init__.py" in names and "spacy_gliner_biomed/__main__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/")) or "__pycache__" in n]
    assert "gliner_biomed = spacy_gliner_biomed.pipeline_component:make_gliner_biomed" in entry_points
    # the teachers' data files (type map, stop list, type list) and their registered entry points
    for data in ("mesh_type_map.tsv", "lexicon_stoplist.txt", "biomedical_types.json"):
        assert f"spacy_gliner_biomed/teachers/data/{data}" in names
    for teacher in ("LexiconTeacher", "ModelTeacher", "LLMTeacher", "CombinedTeacher"):
        assert f"spacy_gliner_biomed.{teacher}.v1 = spacy_gliner_biomed.teachers." in entry_points


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed and the project's dependencies visible
    (see the module docstring); returns its python."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", root / "env"])
    python = root / "env" / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel])
    return python


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def test_the_installed_wheel_converts_and_annotates_outside_the_checkout(venv, tiny_checkpoints, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = _env()
    where = _run([venv, "-c", "import spacy_gliner_biomed, spacy; print(spacy_gliner_biomed.__file__); print(spacy.__file__)"],
                 cwd=work, env=env).stdout.split()
    package = Path(where[0]).resolve()
    assert package.is_relative_to(venv.parent.parent.resolve()), package
    assert not package.is_relative_to(ROOT)
    assert Path(where[1]).resolve().is_relative_to(Path(sysconfig.get_paths()["purelib"]).resolve())

    # convert: the bc2gm entry of the label map shipped as package data (GENE -> gene)
    (work / "bc2gm.iob2").write_text(IOB2)
    cli = [venv, "-m", "spacy_gliner_biomed"]
    result = _run([*cli, "convert", "--format", "iob2", "--input", "bc2gm.iob2", "--dataset", "bc2gm", "--split", "test",
                   "--out", "x.spacy"], cwd=work, env=env)
    assert "Traceback" not in result.stderr
    docs = read_docbin(work / "x.spacy")
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == [[("BRCA1", "gene"), ("BRCA2 genes", "gene")], []]
    assert [doc.user_data["gliner_biomed.labels"] for doc in docs] == [["gene"], ["gene"]]
    assert {doc.user_data["gliner_biomed.dataset"] for doc in docs} == {"bc2gm"}

    # annotate: a GLiNER folder, labels on the command line, texts on standard input
    labels = ["disease", "chemical", "gene or gene product"]
    result = _run([*cli, "annotate", tiny_checkpoints["uni"], "--labels", *labels, "--threshold", "0.3"],
                  cwd=work, env=env, input="\n".join(TEXTS[:3]) + "\n")
    got = [json.loads(line) for line in result.stdout.splitlines()]
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": labels, "threshold": 0.3})
    expected = [[{"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)}
                 for e in doc.ents] for doc in nlp.pipe(TEXTS[:3])]
    assert sum(map(len, expected)) > 3
    assert got == expected
