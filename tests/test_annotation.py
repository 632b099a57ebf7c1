"""annotate --input/--output: sharded, resumable, lossless; local and Ray engines write the same."""
import gzip
import json
import subprocess
import sys

import pytest
import spacy

from spacy_gliner_biomed.cli import main

from helpers import LABELS, TEXTS

ARGS = ["--labels", *LABELS, "--threshold", "0.3", "--no-progress", "--threads", "1"]


@pytest.fixture
def shards(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps({"id": f"a{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    (folder / "b.txt").write_text("\n".join(reversed(TEXTS)) + "\n")
    xml = "<PubmedArticleSet>" + "".join(
        f"<PubmedArticle><MedlineCitation><PMID>{100 + i}</PMID><Article><ArticleTitle>{t}</ArticleTitle>"
        f"</Article></MedlineCitation></PubmedArticle>" for i, t in enumerate(TEXTS[:3])
    ) + "</PubmedArticleSet>"
    with gzip.open(folder / "c.xml.gz", "wt") as f:
        f.write(xml)
    return folder


def _records(folder):
    return {p.name: [json.loads(line) for line in p.read_text().splitlines()] for p in sorted(folder.glob("*.jsonl"))}


def _expected(checkpoint, texts_by_id):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": LABELS, "threshold": 0.3})
    out = []
    for doc_id, doc in zip(texts_by_id, nlp.pipe(texts_by_id.values())):
        ents = [{"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)} for e in doc.ents]
        out.append({"id": doc_id, "entities": ents})
    return out


def test_local_engine_writes_one_shard_per_input_and_resumes(tiny_checkpoints, shards, tmp_path, capsys):
    ckpt = str(tiny_checkpoints["uni"])
    out = tmp_path / "out"
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(out), *ARGS]) == 0
    records = _records(out)
    assert len(records) == 3
    by_stem = {name.split("-")[0]: recs for name, recs in records.items()}
    assert by_stem["a"] == _expected(ckpt, {f"a{i}": t for i, t in enumerate(TEXTS)})
    assert by_stem["b"] == _expected(ckpt, {f"b:{i}": t for i, t in enumerate(reversed(TEXTS))})
    assert [r["id"] for r in by_stem["c"]] == ["PMID:100", "PMID:101", "PMID:102"]
    assert sum(len(r["entities"]) for recs in records.values() for r in recs) > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["shards"]) == 3 and manifest["failed"] == {}
    assert sum(s["docs"] for s in manifest["shards"].values()) == len(TEXTS) * 2 + 3
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(out), *ARGS]) == 0
    assert "3 of 3 input shard(s) already done; annotating 0" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # other settings into the same folder: refused, not mixed
    with pytest.raises(Exception, match="E195"):
        from spacy_gliner_biomed.annotation.pipeline import build_pipeline, pipeline_settings
        from spacy_gliner_biomed.annotation.shards import RunManifest

        nlp = build_pipeline(ckpt, LABELS, 0.9, quiet=True)
        RunManifest(out, pipeline_settings(ckpt, nlp, "jsonl"))


def test_unreadable_shard_is_skipped_named_and_redone_later(tiny_checkpoints, shards, tmp_path, capsys):
    ckpt = str(tiny_checkpoints["uni"])
    bad = shards / "d.xml.gz"
    bad.write_bytes(gzip.compress(b"<PubmedArticleSet><PubmedArticle>")[:-8])  # truncated
    out = tmp_path / "out"
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(out), *ARGS]) == 1
    err = capsys.readouterr().err
    assert f"Skipped {bad}" in err and "3 shard(s)" in err
    assert len(_records(out)) == 3 and str(bad) in json.loads((out / "manifest.json").read_text())["failed"]
    bad.unlink()
    (shards / "d.txt").write_text("Aspirin and ibuprofen.\n")
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(out), *ARGS]) == 0
    assert len(_records(out)) == 4  # the three finished shards kept, the new one added


def test_parquet_holds_the_same_records(tiny_checkpoints, shards, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    ckpt = str(tiny_checkpoints["uni"])
    assert main(["annotate", ckpt, "--input", str(shards / "a.jsonl"), "--output", str(tmp_path / "j"), *ARGS]) == 0
    assert main(["annotate", ckpt, "--input", str(shards / "a.jsonl"), "--output", str(tmp_path / "p"), "--format", "parquet", *ARGS]) == 0
    (jsonl,) = _records(tmp_path / "j").values()
    (path,) = (tmp_path / "p").glob("*.parquet")
    rows = pq.read_table(path).to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in jsonl]
    for row, rec in zip(rows, jsonl):
        assert [(e["start"], e["end"], e["label"], e["score"]) for e in row["entities"]] == [
            (e["start"], e["end"], e["label"], e["score"]) for e in rec["entities"]
        ]


@pytest.mark.parametrize(
    "extra,code",
    [(["--engine", "spark"], "E186"), (["--format", "csv"], "E186"), (["--batch-size", "0"], "E186")],
)
def test_bad_arguments(tiny_checkpoints, shards, tmp_path, capsys, extra, code):
    argv = ["annotate", str(tiny_checkpoints["uni"]), "--input", str(shards / "*"), "--output", str(tmp_path / "o"), *ARGS, *extra]
    assert main(argv) == 1 and code in capsys.readouterr().err


def test_no_inputs(tiny_checkpoints, tmp_path, capsys):
    argv = ["annotate", str(tiny_checkpoints["uni"]), "--input", str(tmp_path / "none*.xml"), "--output", str(tmp_path / "o"), *ARGS]
    assert main(argv) == 1 and "E197" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_run_resumes_without_loss_or_duplicates(tiny_checkpoints, shards, tmp_path):
    """The run is killed (SIGKILL) halfway through writing its second shard; the same command
    again writes exactly what an uninterrupted run writes."""
    ckpt = str(tiny_checkpoints["uni"])
    crash = f"""
import os, signal, sys
import spacy_gliner_biomed.annotation.engines as engines
real, calls = engines.annotate_shard, []
def dying(nlp, input_path, output_path, *args, **kwargs):
    calls.append(input_path)
    if len(calls) == 2:  # half a shard on disk, then the process is killed
        (output_path.parent / ("." + output_path.name + ".tmp")).write_text('{{"id": "half"')
        os.kill(os.getpid(), signal.SIGKILL)
    return real(nlp, input_path, output_path, *args, **kwargs)
engines.annotate_shard = dying
from spacy_gliner_biomed.cli import main
sys.exit(main(sys.argv[1:]))
"""
    argv = ["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "killed"), *ARGS]
    killed = subprocess.run([sys.executable, "-c", crash, *argv], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert len(manifest["shards"]) == 1
    assert main(argv) == 0
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "whole"), *ARGS]) == 0
    assert _records(tmp_path / "killed") == _records(tmp_path / "whole")
    assert not list((tmp_path / "killed").glob(".*.tmp"))


@pytest.mark.slow
def test_ray_engine_writes_what_the_local_engine_writes(tiny_checkpoints, shards, tmp_path):
    pytest.importorskip("ray.data")
    ckpt = str(tiny_checkpoints["uni"])
    local = ["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "local"), *ARGS]
    assert main(local) == 0
    on_ray = ["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "ray"), *ARGS,
              "--engine", "ray", "--num-workers", "2"]
    out = subprocess.run([sys.executable, "-m", "spacy_gliner_biomed", *on_ray], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    local_files = {p.name: p.read_bytes() for p in (tmp_path / "local").glob("*.jsonl")}
    assert local_files and {p.name: p.read_bytes() for p in (tmp_path / "ray").glob("*.jsonl")} == local_files


@pytest.mark.slow
def test_ray_engine_without_ray_names_the_extra(tiny_checkpoints, shards, tmp_path):
    script = f"""
import sys
sys.modules["ray"] = None
from spacy_gliner_biomed.cli import main
sys.exit(main(["annotate", {str(tiny_checkpoints['uni'])!r}, "--input", {str(shards / '*')!r}, "--output", {str(tmp_path / 'o')!r},
               "--labels", "disease", "--engine", "ray"]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "E196" in out.stderr and "spacy-gliner-biomed[ray]" in out.stderr


@pytest.fixture
def ray_head(tmp_path):
    """An existing one-node Ray cluster (`ray start --head`), stopped at the end."""
    pytest.importorskip("ray.data")
    import os
    import shutil
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    ray = shutil.which("ray", path=os.path.dirname(sys.executable))
    head = subprocess.Popen(
        [ray, "start", "--head", "--block", "--port", str(port), "--node-ip-address", "127.0.0.1", "--num-cpus", "2",
         "--include-dashboard", "false", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        probe = subprocess.run([ray, "status", "--address", address], capture_output=True, env=env)
        if probe.returncode == 0:
            break
        time.sleep(2)
    else:
        head.kill()
        pytest.fail("ray start --head did not come up")
    yield address, env
    head.terminate()  # the head stops the node's processes on SIGTERM
    head.wait(timeout=120)


@pytest.mark.slow
def test_ray_engine_on_an_existing_cluster(tiny_checkpoints, shards, tmp_path, ray_head):
    address, env = ray_head
    ckpt = str(tiny_checkpoints["uni"])
    assert main(["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "local"), *ARGS]) == 0
    on_cluster = ["annotate", ckpt, "--input", str(shards / "*"), "--output", str(tmp_path / "cluster"), *ARGS,
                  "--engine", "ray", "--num-workers", "2", "--address", address]
    out = subprocess.run([sys.executable, "-m", "spacy_gliner_biomed", *on_cluster], capture_output=True, text=True,
                         timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    local_files = {p.name: p.read_bytes() for p in (tmp_path / "local").glob("*.jsonl")}
    assert local_files and {p.name: p.read_bytes() for p in (tmp_path / "cluster").glob("*.jsonl")} == local_files
