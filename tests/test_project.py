"""project.yml's assets and scripts/assets.py, on a tiny fake project (no network: file:// URLs)."""
import hashlib
import importlib.util
import io
import json
import re
import tarfile
from pathlib import Path

import pytest
import srsly

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("assets_script", ROOT / "scripts" / "assets.py")
assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assets)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def run(tmp_path: Path, asset_list, shared: Path) -> int:
    srsly.write_yaml(tmp_path / "project.yml", {"assets": asset_list})
    return assets.main(["--shared", str(shared), "--out", str(tmp_path / "assets"), "--project",
                        str(tmp_path / "project.yml")])


@pytest.fixture
def shared(tmp_path):
    folder = tmp_path / "shared" / "bio" / "toy"
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_bytes(b"p53\tB-GENE\n")
    return tmp_path / "shared"


def test_copy_present_and_md5_mismatch(tmp_path, shared, capsys):
    asset = {"dest": "assets/bio/toy/train.tsv", "url": "file:///nonexistent/train.tsv",
             "checksum": md5(b"p53\tB-GENE\n")}
    assert run(tmp_path, [asset], shared) == 0
    assert (tmp_path / "assets" / "bio" / "toy" / "train.tsv").read_bytes() == b"p53\tB-GENE\n"
    assert "bio/toy: 1 files: 1 copied" in capsys.readouterr().out
    assert run(tmp_path, [asset], shared) == 0
    assert "1 present" in capsys.readouterr().out
    # a mirror file with another md5 is an error naming the file, and leaves nothing behind
    assert run(tmp_path, [dict(asset, dest="assets/bio/toy/x.tsv", checksum=md5(b"x"))], shared) == 1  # nowhere
    (shared / "bio" / "toy" / "x.tsv").write_bytes(b"not x")
    assert run(tmp_path, [dict(asset, dest="assets/bio/toy/x.tsv", checksum=md5(b"x"))], shared) == 1
    err = capsys.readouterr().err
    assert "bio/toy/x.tsv: not in" in err and "bio/toy/x.tsv: md5 mismatch (copied" in err
    assert sorted(p.name for p in (tmp_path / "assets" / "bio" / "toy").iterdir()) == ["train.tsv"]


def test_download_when_not_in_the_mirror(tmp_path, shared, capsys):
    origin = tmp_path / "origin.tsv"
    origin.write_bytes(b"good")
    asset = {"dest": "assets/bio/toy/dev.tsv", "url": origin.as_uri(), "checksum": md5(b"good")}
    assert run(tmp_path, [asset], shared) == 0
    assert (tmp_path / "assets" / "bio" / "toy" / "dev.tsv").read_bytes() == b"good"
    assert "1 downloaded" in capsys.readouterr().out
    origin.write_bytes(b"bad")
    (tmp_path / "assets" / "bio" / "toy" / "dev.tsv").unlink()
    assert run(tmp_path, [asset], shared) == 1
    assert "bio/toy/dev.tsv: md5 mismatch (downloaded" in capsys.readouterr().err
    assert not list((tmp_path / "assets" / "bio" / "toy").iterdir())  # the bad download is removed


def test_folder_asset_by_manifest(tmp_path, shared, monkeypatch, capsys):
    files = {"1.txt": b"one", "1.ann": b"T1\tGENE 0 3\tone\n"}
    manifest = md5("".join(f"{md5(files[n])}  {n}\n" for n in sorted(files)).encode())
    asset = {"dest": "assets/bio/toy/standoff/train", "manifest_md5": manifest,
             "git": {"repo": "https://github.com/x/toy", "branch": "master", "path": "standoff/train"}}
    # not in the mirror: the GitHub tarball (here a local one) is downloaded and the folder extracted
    tarball = tmp_path / "toy.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in {**{f"standoff/train/{n}": d for n, d in files.items()}, "README": b"r"}.items():
            info = tarfile.TarInfo(f"toy-master/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert assets._archive_url(asset["git"]) == "https://github.com/x/toy/archive/refs/heads/master.tar.gz"
    monkeypatch.setattr(assets, "_archive_url", lambda git: tarball.as_uri())
    assert run(tmp_path, [asset], shared) == 0
    train = tmp_path / "assets" / "bio" / "toy" / "standoff" / "train"
    assert {p.name: p.read_bytes() for p in train.iterdir()} == files
    assert "2 downloaded" in capsys.readouterr().out
    # in the mirror: copied; a changed file fails the manifest
    (train / "1.txt").write_bytes(b"changed")
    (shared / "bio" / "toy" / "standoff").mkdir()
    train.rename(shared / "bio" / "toy" / "standoff" / "train")
    assert run(tmp_path, [asset], shared) == 1
    assert "bio/toy/standoff/train: md5 mismatch (copied" in capsys.readouterr().err


def test_project_assets_cover_what_convert_reads():
    from spacy_gliner_biomed.corpora import dataset_sources

    project = srsly.read_yaml(ROOT / "project.yml")
    dests = {a["dest"] for a in project["assets"]}
    names = "conll2003 mit-movie mit-restaurant ncbi-disease bc5cdr bc2gm jnlpba linnaeus bionlp13cg".split()
    names += [f"crossner_{d}" for d in ("ai", "literature", "music", "politics", "science")]
    names += "FabNER TweetNER7 HarveyNER broad_twitter_corpus WikiANN-en".split()  # optional training corpora
    corpora = {f"assets/{s.path}" for n in names for s in dataset_sources(n).values()}
    # and the vocabularies and unlabeled text the synthetic-pretraining stage reads
    synthetic = {"assets/vocab/CTD_diseases.tsv.gz", "assets/vocab/mesh_terms.tsv", "assets/vocab/mesh_tree_numbers.tsv",
                 "assets/text/pubmedqa_pqal.json", "assets/text/ebmnlp/dev.txt"}
    assert dests == corpora | synthetic
    for a in project["assets"]:
        assert len(a.get("checksum") or a.get("manifest_md5")) == 32 and a["description"]
        assert a.get("url", "https://").startswith("https://") and ("url" in a) != ("git" in a)


def test_recipe_is_two_stage_and_keeps_test_text_out():
    project = srsly.read_yaml(ROOT / "project.yml")
    assert project["workflows"]["all"] == ["assets", "convert", "synthesize", "curate", "pretrain", "train", "evaluate", "package"]
    commands = {c["name"]: c for c in project["commands"]}
    # pretraining reads what curation wrote, curation what the teacher wrote
    assert "--out curated/${vars.teacher}" in " ".join(commands["curate"]["script"])
    assert "synthetic/${vars.teacher}/shard-*.spacy" in " ".join(commands["curate"]["script"])
    assert "--train-files curated/${vars.teacher}/shard-*.spacy" in " ".join(commands["pretrain"]["script"])
    synthesize = " ".join(commands["synthesize"]["script"])
    assert "--held-out corpus" in synthesize and "${vars.synthetic_texts}" in synthesize
    assert "--engine ${vars.teacher_engine} --num-workers ${vars.teacher_workers}" in synthesize  # vars move it to Ray
    assert project["vars"]["teacher_engine"] == "local"
    texts = project["vars"]["synthetic_texts"].split()
    assert not any("test" in t for t in texts)  # never a test split's text
    zero_shot = set(project["vars"]["eval_bio"].split())
    assert not zero_shot & set(project["vars"]["train_bio"].split())
    train = " ".join(commands["train"]["script"])
    assert "--init-checkpoint training/${vars.kind}-pretrain/gliner" in train
    # the lexicon teacher's gazetteer never reads a zero-shot corpus's gold
    config = (ROOT / "configs" / "teacher_lexicon.cfg").read_text()
    gold = re.search(r"gold_corpora = (\[.*\])", config).group(1)
    assert not zero_shot & set(json.loads(gold))
    assert zero_shot == set(json.loads(re.search(r"zero_shot = (\[.*\])", config).group(1)))


def test_link_workflow_builds_kbs_from_training_mentions_only():
    project = srsly.read_yaml(ROOT / "project.yml")
    assert project["workflows"]["link"] == ["build-kbs", "add-linker", "evaluate-link"]
    commands = {c["name"]: c for c in project["commands"]}
    build = " ".join(commands["build-kbs"]["script"])
    mentions = re.findall(r"corpus/[\w-]+/(\w+)\.spacy", build)
    assert mentions and set(mentions) == {"train"}  # a test split's gold never becomes an alias
    assert "training/${vars.kind}/model-last training/${vars.kind}-linked" in " ".join(commands["add-linker"]["script"])
    assert "--link" in " ".join(commands["evaluate-link"]["script"])
