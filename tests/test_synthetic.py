"""Synthetic-annotation runs: held-out text kept out, shards written whole, resume after a kill
without a lost or duplicated document, settings fingerprinted; the `synthesize` command."""
import gzip
import importlib.util
import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from spacy_gliner_biomed.cli import main
from spacy_gliner_biomed.corpora import read_docbin, write_docbin
from spacy_gliner_biomed.corpora.docs import finish_doc, sentence_doc
from spacy_gliner_biomed.corpora.readers import count_examples, create_mixed_corpus
from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import GOLD_KEY, ID_KEY, NEGATIVES_KEY
from spacy_gliner_biomed.synthetic import synthesize
from spacy_gliner_biomed.teachers.base import FAILED_KEY
from spacy_gliner_biomed.teachers.lexicon import LexiconTeacher
from spacy_gliner_biomed.text import HeldOutText, RawText

TEST_SENTENCE = "Mutations in the CFTR gene cause cystic fibrosis in children."


def raw_texts(n):
    texts = [RawText(f"PMID:{i}", f"Aspirin reduces fever number {i}. Insulin was measured in mice {i}.", "t") for i in range(n)]
    texts.insert(3, RawText("PMID:2", "A duplicate id.", "t"))  # same PMID as an earlier doc
    texts.insert(5, RawText("x:1", texts[1].text.upper(), "t"))  # same text up to case
    texts.insert(7, RawText("x:2", f"Background. {TEST_SENTENCE.replace('CFTR gene', 'CFTR  gene')} More text.", "t"))
    return texts


def lexicon_teacher():
    return LexiconTeacher({"aspirin": {"chemical", "drug"}, "fever": {"sign or symptom"}, "Insulin": {"hormone"}, "mice": {"mammal"}})


def held_out():
    vocab = spacy.blank("en").vocab
    return HeldOutText.from_docs([sentence_doc(vocab, TEST_SENTENCE.split())])


class CountingTeacher:
    """Wraps a teacher; fails every doc whose id is in `fail`, raises after `crash_after` docs."""

    def __init__(self, teacher, fail=(), crash_after=None):
        self.teacher, self.name, self.labels = teacher, teacher.name, teacher.labels
        self.fail, self.crash_after, self.seen = set(fail), crash_after, []

    def __call__(self, docs):
        for doc in self.teacher(docs):
            if self.crash_after is not None and len(self.seen) >= self.crash_after:
                raise KeyboardInterrupt
            self.seen.append(doc.user_data[ID_KEY])
            if doc.user_data[ID_KEY] in self.fail:
                doc.user_data[FAILED_KEY] = "malformed answer"
            yield doc


def written_ids(folder):
    return [doc.user_data[ID_KEY] for path in sorted(Path(folder).glob("shard-*.spacy")) for doc in read_docbin(path)]


def test_run_filters_annotates_and_writes_shards(tmp_path):
    teacher = CountingTeacher(lexicon_teacher(), fail={"PMID:4"})
    report = synthesize(raw_texts(10), teacher, tmp_path / "out", held_out=held_out(), settings={"t": 1}, shard_size=4, progress=False)
    assert report.texts == {"read": 13, "empty": 0, "duplicate_id": 1, "duplicate_text": 1, "leaked": 1, "kept": 10}
    assert report.annotated == 10 and report.failed == 1 and report.written == 9
    assert written_ids(tmp_path / "out") == [f"PMID:{i}" for i in range(10) if i != 4]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [s["docs"] for s in manifest["shards"]] == [4, 3, 2] and manifest["complete"]
    doc = read_docbin(tmp_path / "out" / "shard-00000.spacy")[0]
    assert [(s.text, s.label_) for s in doc.spans[GOLD_KEY]] == [
        ("Aspirin", "chemical"), ("Aspirin", "drug"), ("fever", "sign or symptom"), ("Insulin", "hormone"), ("mice", "mammal")]
    assert NEGATIVES_KEY not in doc.user_data and len(list(doc.sents)) == 2
    assert report.sentences == 18 and report.spans_per_label["drug"] == 9
    # the shards are training data: the reader takes them, split into sentences, counted without reading
    files = [str(p) for p in sorted((tmp_path / "out").glob("shard-*.spacy"))]
    assert count_examples(files, split_sentences=True) == 18
    examples = list(create_mixed_corpus(files, split_sentences=True)(spacy.blank("en")))
    assert len(examples) == 18


def test_interrupted_run_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "out"
    crashing = CountingTeacher(lexicon_teacher(), crash_after=9)
    with pytest.raises(KeyboardInterrupt):
        synthesize(raw_texts(12), crashing, out, held_out=held_out(), settings={"t": 1}, shard_size=4, progress=False)
    assert len(written_ids(out)) == 8  # two whole shards; the third never appeared
    assert not list(out.glob("*.tmp")) and not json.loads((out / "manifest.json").read_text())["complete"]
    again = CountingTeacher(lexicon_teacher())
    report = synthesize(raw_texts(12), again, out, held_out=held_out(), settings={"t": 1}, shard_size=4, progress=False)
    assert again.seen == [f"PMID:{i}" for i in range(8, 12)]  # only the missing shard is annotated
    assert written_ids(out) == [f"PMID:{i}" for i in range(12)] and report.resumed_from == 8
    done = CountingTeacher(lexicon_teacher())
    synthesize(raw_texts(12), done, out, held_out=held_out(), settings={"t": 1}, shard_size=4, progress=False)
    assert done.seen == []  # a complete run costs nothing twice
    with pytest.raises(GlinerError, match="other inputs or settings"):
        synthesize(raw_texts(12), done, out, held_out=held_out(), settings={"t": 2}, shard_size=4, progress=False)
    with pytest.raises(GlinerError, match="shard_size must be >= 1"):
        synthesize(raw_texts(1), done, tmp_path / "x", held_out=None, settings={}, shard_size=0)


def test_max_docs_limits_the_run(tmp_path):
    report = synthesize(raw_texts(10), lexicon_teacher(), tmp_path / "o", held_out=None, settings={}, shard_size=3, max_docs=5, progress=False)
    assert report.written == 5 and written_ids(tmp_path / "o") == ["PMID:0", "PMID:1", "PMID:2", "PMID:3", "PMID:4"]


@pytest.mark.slow
def test_synthesize_command(tmp_path, capsys):
    vocab = spacy.blank("en").vocab
    test_doc = sentence_doc(vocab, TEST_SENTENCE.split())
    finish_doc(test_doc, [Span(test_doc, 3, 4, "gene")], "toy", "test", ["gene"], "t1")
    write_docbin([test_doc], tmp_path / "corpus" / "toy" / "test.spacy")
    trees = tmp_path / "vocab" / "mesh_tree_numbers.tsv"
    trees.parent.mkdir()
    trees.write_text("mesh_id\tmesh_name\tmesh_tree_number\nD1\tAspirin\tD02.455\nD2\tFever\tC23.888.119\n")
    config = tmp_path / "teacher.cfg"
    config.write_text(
        "[paths]\nvocab = null\n\n[teacher]\n@misc = \"spacy_gliner_biomed.LexiconTeacher.v1\"\n"
        "mesh_tree_numbers = ${paths.vocab}/mesh_tree_numbers.tsv\n"
    )
    texts = tmp_path / "texts.txt"
    texts.write_text(f"Aspirin for fever.\n\nBackground: {TEST_SENTENCE}\nFever again, with aspirin.\n")
    args = ["synthesize", str(config), "--texts", f"text:{texts}", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args + ["--paths.vocab", str(trees.parent)]) == 1
    assert "needs --held-out" in capsys.readouterr().err
    assert main(args + ["--held-out", str(tmp_path / "corpus"), "--paths.vocab", str(trees.parent)]) == 0
    out = capsys.readouterr().out
    assert "'leaked': 1" in out and "wrote 2 docs" in out
    docs = read_docbin(tmp_path / "out" / "shard-00000.spacy")
    assert [[(s.text, s.label_) for s in d.spans[GOLD_KEY]] for d in docs] == [
        [("Aspirin", "chemical"), ("fever", "sign or symptom")], [("Fever", "sign or symptom"), ("aspirin", "chemical")]]
    assert main(args + ["--held-out", str(tmp_path / "corpus")]) == 1  # paths.vocab unset: the vocabulary is missing
    assert "does not exist" in capsys.readouterr().err
    if importlib.util.find_spec("ray") is not None:  # the same command on two Ray workers writes the same shards
        on_ray = [a if a != str(tmp_path / "out") else str(tmp_path / "ray") for a in args]
        assert main(on_ray + ["--held-out", str(tmp_path / "corpus"), "--engine", "ray", "--num-workers", "2",
                              "--paths.vocab", str(trees.parent)]) == 0
        assert shard_contents(tmp_path / "ray") == shard_contents(tmp_path / "out")


ROOT = Path(__file__).resolve().parents[1]


def test_shipped_teacher_configs_build(tmp_path, tiny_checkpoints):
    from spacy_gliner_biomed.teachers.config import load_teacher

    llm, text = load_teacher(str(ROOT / "configs" / "teacher_llm.cfg"), ["--paths.llm_cache", str(tmp_path / "cache")])
    assert llm.name == "llm" and "disease" in llm.labels and len(llm.labels) == 10
    assert "llm_url" in text  # the config text (which fingerprints a run) keeps the overrides
    model, _ = load_teacher(str(ROOT / "configs" / "teacher_model.cfg"), ["--paths.teacher_model", str(tiny_checkpoints["uni"])])
    assert model.name == "model" and len(model.labels) >= 90
    vocab = tmp_path / "vocab"
    vocab.mkdir()
    (vocab / "mesh_tree_numbers.tsv").write_text("mesh_id\tmesh_name\tmesh_tree_number\nD1\tAspirin\tD02.455\n")
    (vocab / "mesh_terms.tsv").write_text("mesh_id\tmesh_name\nD1\tAspirin\n")
    with gzip.open(vocab / "CTD_diseases.tsv.gz", "wt") as f:
        f.write("\t".join(["Fever", "MESH:D005334", "", "", "", "C23.888.119.344", "", "Pyrexia", ""]) + "\n")
    corpus = tmp_path / "corpus"
    nlp = spacy.blank("en")
    gold = nlp("BRCA1 again.")
    finish_doc(gold, [Span(gold, 0, 1, "gene")], "bc2gm", "train", ["gene"], "1")
    for name in ("ncbi-disease", "bc5cdr", "bc2gm"):
        write_docbin([gold], corpus / name / "train.spacy")
    overrides = ["--paths.vocab", str(vocab), "--paths.corpus", str(corpus), "--paths.teacher_model", str(tiny_checkpoints["uni"])]
    lexicon, _ = load_teacher(str(ROOT / "configs" / "teacher_lexicon.cfg"), overrides[:4])
    assert set(lexicon.labels) == {"chemical", "sign or symptom", "gene"}
    combined, _ = load_teacher(str(ROOT / "configs" / "teacher_lexicon_model.cfg"), overrides)
    assert [t.name for t in combined.teachers] == ["lexicon", "model"]
    doc = next(combined([nlp("Aspirin for pyrexia in BRCA1 carriers.")]))
    lexicon_spans = {("Aspirin", "chemical"), ("pyrexia", "sign or symptom"), ("BRCA1", "gene")}
    assert lexicon_spans <= {(s.text, s.label_) for s in doc.spans[GOLD_KEY]}
    with pytest.raises(GlinerError, match=r"\['bc2gm'\] are zero-shot"):
        load_teacher(str(ROOT / "configs" / "teacher_lexicon.cfg"), overrides[:4] + ["--teacher.zero_shot", '["bc2gm"]'])


def shard_contents(folder):
    """What a teacher run wrote, decoded (a DocBin's bytes order its strings by hash, per process)."""
    docs = [doc for path in sorted(Path(folder).glob("shard-*.spacy")) for doc in read_docbin(path)]
    shards = [{k: s[k] for k in ("file", "docs", "inputs", "counts")} for s in json.loads((Path(folder) / "manifest.json").read_text())["shards"]]
    return shards, [
        (doc.user_data[ID_KEY], doc.text, [t.is_sent_start for t in doc],
         [(s.start_char, s.end_char, s.label_) for s in doc.spans[GOLD_KEY]], [(e.start, e.end) for e in doc.ents])
        for doc in docs
    ]


class DyingTeacher:
    """The lexicon teacher, in a worker that dies (the process exits) on `doc_id`: the first time
    only (a marker file remembers), or every time."""

    def __init__(self, doc_id, marker, always=False):
        self.teacher = lexicon_teacher()
        self.name, self.labels = self.teacher.name, self.teacher.labels
        self.doc_id, self.marker, self.always = doc_id, Path(marker), always

    def __call__(self, docs):
        import os

        for doc in self.teacher(docs):
            if doc.user_data[ID_KEY] == self.doc_id and (self.always or not self.marker.exists()):
                self.marker.touch()
                os._exit(1)
            yield doc


@pytest.fixture()
def ray_workers():
    pytest.importorskip("ray.data")
    import sys

    import ray.cloudpickle

    from spacy_gliner_biomed.engines import RayWorkers

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test teachers travel to the workers
    yield RayWorkers(num_workers=2)
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.mark.slow
def test_teacher_on_ray_writes_what_the_local_engine_writes(tmp_path, ray_workers):
    kwargs = dict(held_out=held_out(), settings={"t": 1}, shard_size=3, progress=False)
    local = synthesize(raw_texts(14), lexicon_teacher(), tmp_path / "local", **kwargs)
    on_ray = synthesize(raw_texts(14), lexicon_teacher, tmp_path / "ray", ray=ray_workers, **kwargs)
    assert shard_contents(tmp_path / "ray") == shard_contents(tmp_path / "local")
    assert len(shard_contents(tmp_path / "local")[0]) == 5 and str(on_ray) == str(local)
    assert sorted(p.name for p in (tmp_path / "ray" / "texts").iterdir()) == [f"shard-{i:05d}.jsonl" for i in range(5)]
    # a run killed locally (two shards written, the third staged) is finished on Ray
    with pytest.raises(KeyboardInterrupt):
        synthesize(raw_texts(14), CountingTeacher(lexicon_teacher(), crash_after=7), tmp_path / "mixed", **kwargs)
    assert [s["file"] for s in json.loads((tmp_path / "mixed" / "manifest.json").read_text())["shards"]] == [
        "shard-00000.spacy", "shard-00001.spacy"]
    synthesize(raw_texts(14), lexicon_teacher, tmp_path / "mixed", ray=ray_workers, **kwargs)
    assert shard_contents(tmp_path / "mixed") == shard_contents(tmp_path / "local")


@pytest.mark.slow
def test_teacher_worker_that_dies_is_retried_then_reported(tmp_path, ray_workers):
    kwargs = dict(held_out=held_out(), settings={"t": 1}, shard_size=3, progress=False)
    synthesize(raw_texts(14), lexicon_teacher(), tmp_path / "local", **kwargs)
    once = DyingTeacher("PMID:7", tmp_path / "died-once")
    synthesize(raw_texts(14), once, tmp_path / "retried", ray=ray_workers, **kwargs)
    assert (tmp_path / "died-once").exists()  # it died, and Ray's retry wrote its shard
    assert shard_contents(tmp_path / "retried") == shard_contents(tmp_path / "local")
    always = DyingTeacher("PMID:7", tmp_path / "died", always=True)
    with pytest.raises(GlinerError, match=r"E200.*1 shard\(s\) failed(.|\n)*texts/shard-00002.jsonl: its worker failed"):
        synthesize(raw_texts(14), always, tmp_path / "reported", ray=ray_workers, **kwargs)
    manifest = json.loads((tmp_path / "reported" / "manifest.json").read_text())
    assert not manifest["complete"] and "shard-00002.spacy" not in [s["file"] for s in manifest["shards"]]
    assert len(manifest["shards"]) == 4  # the other shards were written
    synthesize(raw_texts(14), lexicon_teacher(), tmp_path / "reported", **kwargs)  # the rerun does the missing one
    assert shard_contents(tmp_path / "reported") == shard_contents(tmp_path / "local")
