"""Gold corpora: every reader's exact output, every bad input's error, and the leakage guards."""
import json
import os
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, Span

from spacy_gliner_biomed import corpora
from spacy_gliner_biomed.cli import main as cli_main
from spacy_gliner_biomed.corpora import (
    docs_to_gliner_json,
    drop_overlap,
    read_brat,
    read_docbin,
    read_gliner_json,
    read_iob2,
    read_pubtator,
    write_docbin,
)
from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import DATASET_KEY, GOLD_KEY, ID_KEY, LABELS_KEY, NEGATIVES_KEY, SPLIT_KEY

DATA = Path(__file__).parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data")


@pytest.fixture
def label_map(tmp_path):
    path = tmp_path / "label_map.json"
    path.write_text(json.dumps({"toy": {"GENE": "gene", "Disease": "disease", "cell_type": "cell type"}}))
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def spans_of(doc):
    return [(s.start, s.end, s.label_, s.kb_id_) for s in doc.spans[GOLD_KEY]]


# ------------------------------------------------------------------------------------------ IOB2


def test_iob2_entities_repairs_and_user_data(tmp_path, label_map):
    path = write(
        tmp_path / "train.tsv",
        "-DOCSTART-\tO\n\n"
        "BRCA1\tB-GENE\nmutations\tO\ncause\tO\nbreast\tB-Disease\ncancer\tI-Disease\n\n"
        "in\tO\nT\tI-cell_type\ncells\tI-cell_type\nand\tO\np53\tB-GENE\nB-GENE\tI-GENE\n\n\n",
    )
    docs, report = read_iob2(path, "toy", "train", label_map)
    assert [d.text for d in docs] == ["BRCA1 mutations cause breast cancer", "in T cells and p53 B-GENE"]
    assert spans_of(docs[0]) == [(0, 1, "gene", ""), (3, 5, "disease", "")]
    assert spans_of(docs[1]) == [(1, 3, "cell type", ""), (4, 6, "gene", "")]
    assert [e.text for e in docs[1].ents] == ["T cells", "p53 B-GENE"]
    assert (report.docs, report.entities, report.iob_repairs, report.skipped_lines) == (2, 4, 1, 1)
    assert docs[1].user_data == {
        DATASET_KEY: "toy",
        SPLIT_KEY: "train",
        LABELS_KEY: ["cell type", "disease", "gene"],
        ID_KEY: "1",
    }
    assert [t.is_sent_start for t in docs[0]] == [True, False, False, False, False]
    assert "1 I- tags without B- read as B-" in str(report)


def test_iob2_iobes_and_adjacent_entities(tmp_path, label_map):
    path = write(
        tmp_path / "t.txt",
        "a\tS-GENE\nb\tB-GENE\nc\tE-GENE\nd\tB-GENE\ne\tB-GENE\nf\tI-Disease\ng\tE-GENE\n",
    )
    (doc,), report = read_iob2(path, "toy", "test", label_map)
    assert spans_of(doc) == [(0, 1, "gene", ""), (1, 3, "gene", ""), (3, 4, "gene", ""), (4, 5, "gene", ""),
                             (5, 6, "disease", ""), (6, 7, "gene", "")]
    assert report.iob_repairs == 2  # I-Disease after B-GENE, E-GENE after I-Disease


@pytest.mark.parametrize(
    "text,line,code,words",
    [
        ("a\tO\nb\tO\textra\n", 2, "E040", "expected 2 tab-separated columns"),
        ("a\tO\nb O\n", 2, "E040", "expected 2 tab-separated columns"),
        ("a\tO\n\nb\tB-Protein\n", 3, "E041", "unknown entity type 'Protein'"),
        ("a\tO\nb\tX-GENE\n", 2, "E044", "invalid tag 'X-GENE'"),
        ("a\tB-\n", 1, "E044", "invalid tag 'B-'"),
        ("a\tO\n\tO\n", 2, "E043", "empty token"),
    ],
)
def test_iob2_bad_input_names_file_and_line(tmp_path, label_map, text, line, code, words):
    path = write(tmp_path / "bad.tsv", text)
    with pytest.raises(GlinerError) as err:
        read_iob2(path, "toy", "train", label_map)
    message = str(err.value)
    assert message.startswith(f"[{code}] {path}:{line}: ")
    assert words in message
    if code == "E041":
        assert f"Add it to the label map file {label_map}" in message


def test_iob2_empty_file_and_unknown_dataset(tmp_path, label_map):
    for text in ("", "\n\n", "-DOCSTART-\tO\n\n"):
        path = write(tmp_path / "empty.tsv", text)
        with pytest.raises(GlinerError, match=r"\[E042\] .*empty.tsv"):
            read_iob2(path, "toy", "train", label_map)
    with pytest.raises(GlinerError, match=r"\[E053\] Dataset 'other' has no entry in the label map file"):
        read_iob2(path, "other", "train", label_map)
    with pytest.raises(GlinerError, match=r"\[E050\] Label map file .* does not exist"):
        read_iob2(path, "toy", "train", tmp_path / "missing.json")
    with pytest.raises(GlinerError, match=r"\[E055\] Unknown split 'validation'"):
        read_iob2(path, "toy", "validation", label_map)


def test_iob2_space_separated_file(tmp_path, label_map):
    (doc,), _ = read_iob2(write(tmp_path / "s.txt", "p53 B-GENE\nbinds O\n"), "toy", "dev", label_map)
    assert spans_of(doc) == [(0, 1, "gene", "")]


# -------------------------------------------------------------------------------------- PubTator

PUBTATOR = (
    "111|t|IL-2-induced arthritis in mice.\n"
    "111|a|Weak IL-2 response.\n"
    "111\t0\t4\tIL-2\tGENE\tNCBI:3558\n"
    "111\t13\t22\tarthritis\tDisease\tD001168|D001172\textra\n"
    "111\t37\t41\tIL-2\tGENE\n"
    "111\tCID\tD1\tD2\n"
    "\n"
    "222|t|Nested cell types.\n"
    "222|a|\n"
    "222\t0\t11\tNested cell\tcell_type\t-1\n"
    "222\t7\t17\tcell types\tcell_type\t-1\n"
)


def test_pubtator_offsets_kb_ids_and_boundary_splits(tmp_path, label_map):
    path = write(tmp_path / "p.txt", PUBTATOR)
    docs, report = read_pubtator(path, "toy", "dev", label_map)
    first, second = docs
    assert first.text == "IL-2-induced arthritis in mice. Weak IL-2 response."
    assert [(s.start_char, s.end_char, s.text, s.label_, s.kb_id_) for s in first.spans[GOLD_KEY]] == [
        (0, 4, "IL-2", "gene", "NCBI:3558"),
        (13, 22, "arthritis", "disease", "D001168|D001172"),
        (37, 41, "IL-2", "gene", ""),
    ]
    assert [t.text for t in first[:4]] == ["IL-2", "-", "induced", "arthritis"]  # as spaCy tokenizes it
    assert [(e.text, e.kb_id_) for e in first.ents][0] == ("IL-2", "NCBI:3558")
    assert [s.text for s in first.sents] == ["IL-2-induced arthritis in mice.", "Weak IL-2 response."]
    assert first.user_data[ID_KEY] == "111" and second.user_data[ID_KEY] == "222"
    assert second.text == "Nested cell types. "
    assert [s.text for s in second.spans[GOLD_KEY]] == ["Nested cell", "cell types"]
    assert [e.text for e in second.ents] == ["Nested cell"]
    assert (report.docs, report.entities, report.left_out_of_ents, report.skipped_lines) == (2, 5, 1, 1)
    assert report.boundary_splits == 0  # spaCy already splits "IL-2-induced" after "IL-2"


def test_pubtator_counts_boundaries_inside_tokens(tmp_path, label_map):
    text = "Cisplatin/5-FU therapy."
    mentions = "1\t0\t9\tCisplatin\tDisease\tD002945\n1\t10\t14\t5-FU\tDisease\tD005472\n"
    (doc,), report = read_pubtator(write(tmp_path / "p.txt", f"1|t|{text}\n{mentions}"), "toy", "train", label_map)
    assert [t.text for t in spacy.blank("en")(text)] == ["Cisplatin/5", "-", "FU", "therapy", "."]
    assert [t.text for t in doc] == ["Cisplatin", "/", "5", "-", "FU", "therapy", "."]
    assert doc.text == text and report.boundary_splits == 2
    assert [(e.text, e.start_char, e.end_char, e.kb_id_) for e in doc.ents] == [
        ("Cisplatin", 0, 9, "D002945"),
        ("5-FU", 10, 14, "D005472"),
    ]


def test_pubtator_entity_never_crosses_a_sentence(tmp_path, label_map):
    text = "The gene p53. Mut form was found. Next one."
    path = write(tmp_path / "p.txt", f"1|t|{text}\n1\t9\t17\tp53. Mut\tGENE\n")
    (doc,), report = read_pubtator(path, "toy", "train", label_map)
    assert doc.ents[0].text == "p53. Mut"
    assert [s.text for s in doc.sents] == ["The gene p53. Mut form was found.", "Next one."]
    assert report.sentence_fixes == 1


@pytest.mark.parametrize(
    "mention,code,words",
    [
        ("1\t40\t44\tIL-2\tGENE", "E046", "offsets 40-44 are not a non-empty range"),
        ("1\t4\t4\tIL-2\tGENE", "E046", "offsets 4-4"),
        ("1\t0\tx\tIL-2\tGENE", "E045", "are not integers"),
        ("1\t0\t4\tIL-3\tGENE", "E047", "mention text 'IL-3' does not match the text at 0-4: 'IL-2'"),
        ("1\t0\t4\tIL-2", "E040", "at least 5 tab-separated columns"),
        ("1\t0\t4\tIL-2\tProtein", "E041", "unknown entity type 'Protein'"),
        ("2\t0\t4\tIL-2\tGENE", "E057", "expected a `PMID|t|title`"),
    ],
)
def test_pubtator_bad_mentions(tmp_path, label_map, mention, code, words):
    path = write(tmp_path / "p.txt", f"1|t|IL-2 works.\n1|a|Yes.\n{mention}\n")
    with pytest.raises(GlinerError) as err:
        read_pubtator(path, "toy", "train", label_map)
    assert str(err.value).startswith(f"[{code}] {path}:3: ")
    assert words in str(err.value)


def test_pubtator_mention_text_with_trailing_spaces(tmp_path, label_map):
    path = write(tmp_path / "p.txt", "1|t|IL-2 works.\n1\t0\t4\tIL-2  \tGENE\n")
    (doc,), report = read_pubtator(path, "toy", "train", label_map)
    assert [e.text for e in doc.ents] == ["IL-2"] and report.trimmed_mentions == 1


def test_pubtator_repeated_pmid(tmp_path, label_map):
    block = "1|t|IL-2 works.\n1\t0\t4\tIL-2\tGENE\n\n"
    docs, report = read_pubtator(write(tmp_path / "p.txt", block * 2), "toy", "train", label_map)
    assert len(docs) == 1 and report.duplicates == 1
    changed = block + block.replace("GENE", "Disease")
    with pytest.raises(GlinerError, match="E058.*PMID 1 appears twice"):
        read_pubtator(write(tmp_path / "q.txt", changed), "toy", "train", label_map)
    with pytest.raises(GlinerError, match="E042"):
        read_pubtator(write(tmp_path / "e.txt", "\n"), "toy", "train", label_map)


# ------------------------------------------------------------------------------------------ brat


def test_brat(tmp_path, label_map):
    folder = tmp_path / "brat"
    folder.mkdir()
    write(folder / "9001.txt", "CD4+ T cells express\nIL2R.\n")
    ann = "T1\tcell_type 0 12\tCD4+ T cells\nT2\tGENE 21 25\tIL2R\nR1\tRel Arg1:T1 Arg2:T2\n#1\tNote\n"
    write(folder / "9001.ann", ann)
    (doc,), report = read_brat(folder, "toy", "train", label_map)
    assert doc.text == "CD4+ T cells express\nIL2R.\n"
    assert [(s.text, s.label_) for s in doc.spans[GOLD_KEY]] == [("CD4+ T cells", "cell type"), ("IL2R", "gene")]
    assert doc.user_data[ID_KEY] == "9001" and report.skipped_lines == 2
    write(folder / "9001.ann", "T1\tcell_type 0 4;5 12\tCD4+ T cells\n")
    with pytest.raises(GlinerError, match=r"\[E059\] .*9001.ann:1: discontinuous"):
        read_brat(folder, "toy", "train", label_map)
    write(folder / "9001.ann", "T1\tcell_type 0 12\tCD8+ T cells\n")
    with pytest.raises(GlinerError, match=r"\[E047\] .*9001.ann:1: mention text"):
        read_brat(folder, "toy", "train", label_map)
    (folder / "9001.ann").unlink()
    with pytest.raises(GlinerError, match=r"\[E063\] .*has no annotation file 9001.ann"):
        read_brat(folder, "toy", "train", label_map)


# ----------------------------------------------------------------------------------- GLiNER JSON

GLINER_RECORDS = [
    {
        "tokenized_text": ["Aspirin", "reduces", "colorectal", "adenoma", "risk", "."],
        "ner": [[0, 0, "chemical"], [2, 3, "disease"], [3, 3, "disease"]],
        "ner_labels": ["chemical", "disease"],
        "ner_negatives": ["gene", "species"],
    },
    {"tokenized_text": ["No", "findings", "."], "ner": [], "ner_labels": ["chemical", "disease"]},
]


def test_gliner_json_round_trip_with_negatives(tmp_path):
    path = write(tmp_path / "g.json", json.dumps(GLINER_RECORDS))
    docs, report = read_gliner_json(path, "user", "train")
    assert spans_of(docs[0]) == [(0, 1, "chemical", ""), (2, 4, "disease", ""), (3, 4, "disease", "")]
    assert [e.text for e in docs[0].ents] == ["Aspirin", "colorectal adenoma"]
    assert docs[0].user_data[NEGATIVES_KEY] == ["gene", "species"]
    assert NEGATIVES_KEY not in docs[1].user_data
    assert report.left_out_of_ents == 1
    assert docs_to_gliner_json(docs) == GLINER_RECORDS
    again, _ = read_gliner_json(write(tmp_path / "g2.json", json.dumps(docs_to_gliner_json(docs))), "user", "train")
    assert [(d.text, spans_of(d), d.user_data) for d in again] == [(d.text, spans_of(d), d.user_data) for d in docs]


def test_gliner_jsonl_aliases_and_mapping(tmp_path, label_map):
    lines = [
        {"tokenized_text": ["p53", "in", "HeLa"], "ner": [[0, 0, "GENE"], [2, 2, "cell type"]], "negatives": ["RNA"]},
        {"tokenized_text": ["x"], "ner": [], "label": ["gene"]},
    ]
    path = write(tmp_path / "g.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    docs, _ = read_gliner_json(path, "toy", "dev", label_map)
    assert spans_of(docs[0]) == [(0, 1, "gene", ""), (2, 3, "cell type", "")]
    assert docs[0].user_data[LABELS_KEY] == ["cell type", "disease", "gene"]
    assert docs[0].user_data[NEGATIVES_KEY] == ["RNA"]
    assert docs[1].user_data[LABELS_KEY] == ["gene"]
    plain, _ = read_gliner_json(path, "unmapped", "dev", label_map)
    assert plain[1].user_data[LABELS_KEY] == ["gene"] and plain[0].user_data[LABELS_KEY] == ["GENE", "cell type"]
    past_end = {"tokenized_text": ["a"], "ner": [[0, 1, "gene"]]}
    bad = write(tmp_path / "b.jsonl", json.dumps(lines[0]) + "\n" + json.dumps(past_end))
    with pytest.raises(GlinerError, match=r"\[E049\] .*b.jsonl:2: entity \[0, 1, 'gene'\]"):
        read_gliner_json(bad, "toy", "dev", label_map)
    with pytest.raises(GlinerError, match=r"\[E041\] .*g.jsonl:1: unknown entity type 'protein'"):
        read_gliner_json(write(tmp_path / "g.jsonl", json.dumps({"tokenized_text": ["a"], "ner": [[0, 0, "protein"]]})),
                         "toy", "dev", label_map)


def test_gliner_writer_skips_whitespace_tokens(label_map, tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    write(folder / "5.txt", "Title.\n\nIL-2 here.")
    write(folder / "5.ann", "T1\tGENE 8 12\tIL-2\n")
    (doc,), _ = read_brat(folder, "toy", "train", label_map)
    assert [t.text for t in doc] == ["Title", ".", "\n\n", "IL-2", "here", "."]
    (record,) = docs_to_gliner_json([doc])
    assert record["tokenized_text"] == ["Title", ".", "IL-2", "here", "."]
    assert record["ner"] == [[2, 2, "gene"]]


# ------------------------------------------------------------------------------------ .spacy files


def test_docbin_round_trip(tmp_path, label_map):
    docs, _ = read_pubtator(write(tmp_path / "p.txt", PUBTATOR), "toy", "dev", label_map)
    docs[0].user_data[NEGATIVES_KEY] = ["species"]
    out = write_docbin(docs, tmp_path / "out" / "dev.spacy")
    back = read_docbin(out)
    for a, b in zip(docs, back):
        assert b.text == a.text and b.user_data == a.user_data
        assert spans_of(b) == spans_of(a)
        assert [(e.start, e.end, e.label_, e.kb_id_) for e in b.ents] == [
            (e.start, e.end, e.label_, e.kb_id_) for e in a.ents
        ]
        assert [t.is_sent_start for t in b] == [t.is_sent_start for t in a]
    assert isinstance(back[0].user_data[LABELS_KEY], list)


def test_write_docbin_is_atomic(tmp_path, monkeypatch):
    nlp = spacy.blank("en")
    path = write_docbin([nlp("one")], tmp_path / "x.spacy")
    before = path.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_docbin([nlp("two")], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.spacy", "x.spacy.counts.json"]


def test_drop_overlap():
    nlp = spacy.blank("en")

    def doc(text, doc_id):
        d = nlp(text)
        d.user_data[ID_KEY] = doc_id
        return d

    long_text = "x" * 50 + " end."
    train = [doc("A b c.", "1"), doc("Other text.", "2"), doc("Long abstract. " + long_text, "3"), doc("Z.", "4")]
    test = [doc("A  b c .", "9"), doc(long_text, "8"), doc("Q.", "4")]
    kept, n = drop_overlap(train, test)
    assert [d.user_data[ID_KEY] for d in kept] == ["2", "3", "4"] and n == 1
    kept, n = drop_overlap(train, test, by_id=True, contained=True)
    assert [d.user_data[ID_KEY] for d in kept] == ["2"] and n == 3


def _pubtator(pmid: str, title: str, abstract: str) -> str:
    start = title.index("fever") if "fever" in title else None
    mention = f"{pmid}\t{start}\t{start + 5}\tfever\tSpecificDisease\tD005334\n" if start is not None else ""
    return f"{pmid}|t|{title}\n{pmid}|a|{abstract}\n{mention}\n"


def test_convert_drops_train_and_dev_docs_that_overlap_later_splits(tmp_path, capsys):
    """Synthetic splits with every kind of overlap `convert` must catch: the same PMID, the same
    text under another PMID with other whitespace, and, across formats (JNLPBA: brat abstracts in
    train, IOB sentences in test), an abstract that contains a test sentence."""
    data = tmp_path / "data"
    pubtator = data / "bio" / "ncbi-disease" / "pubtator"
    pubtator.mkdir(parents=True)
    test = _pubtator("100", "Yellow fever in travellers.", "A report of twelve cases seen in one clinic.")
    dev = _pubtator("200", "Dengue fever outbreaks.", "Mosquito control reduced the incidence markedly.")
    train = (
        _pubtator("100", "Another title entirely.", "Same PMID as a test abstract, other text.")  # same id as test
        + _pubtator("300", "Yellow  fever in travellers.", "A report of twelve\tcases seen in one clinic.")  # test text
        + _pubtator("200", "Yet another title.", "Same PMID as a dev abstract.")  # same id as dev
        + _pubtator("400", "Scarlet fever in children.", "Nothing here is in dev or test.")  # kept
    )
    (pubtator / "NCBItestset_corpus.txt").write_text(test)
    (pubtator / "NCBIdevelopset_corpus.txt").write_text(dev)
    (pubtator / "NCBItrainset_corpus.txt").write_text(train)
    paths = corpora.convert_dataset("ncbi-disease", data, tmp_path / "out")
    ids = {split: [d.user_data[ID_KEY] for d in read_docbin(path)] for split, path in paths.items()}
    assert ids == {"train": ["400"], "dev": ["200"], "test": ["100"]}
    out = capsys.readouterr().out
    assert "ncbi-disease/train" in out and "2 docs also in test dropped" in out and "1 docs also in dev dropped" in out

    jnlpba = data / "bio" / "jnlpba"
    (jnlpba / "standoff" / "train").mkdir(parents=True)
    (jnlpba / "iob").mkdir()
    sentence = "IL-2 gene expression requires NF-kappa B activation in T cells ."
    write(jnlpba / "iob" / "test.tsv", "\n".join(f"{w}\tO" for w in sentence.split()) + "\n")
    write(jnlpba / "iob" / "devel.tsv", "Unrelated\tO\nsentence\tO\n")
    standoff = jnlpba / "standoff" / "train"
    write(standoff / "1.txt", "Background text first. " + sentence.replace(" .", ".") + " More text follows here.")
    write(standoff / "1.ann", "")
    write(standoff / "2.txt", "A different abstract about B cells and their receptors in mice.")
    write(standoff / "2.ann", "")
    paths = corpora.convert_dataset("jnlpba", data, tmp_path / "out")
    train_docs = read_docbin(paths["train"])
    assert [d.user_data[ID_KEY] for d in train_docs] == ["2"]
    assert "1 docs also in test dropped" in capsys.readouterr().out


# ---------------------------------------------------------------------------------- spaCy readers


def test_registered_file_readers(tmp_path, label_map):
    path = write(tmp_path / "p.txt", PUBTATOR)
    nlp = spacy.blank("en")
    make = spacy.util.registry.readers.get("spacy_gliner_biomed.PubTatorCorpus.v1")
    corpus = make(path=path, dataset="toy", split="dev", label_map=label_map)
    examples = list(corpus(nlp))
    assert len(examples) == 2
    eg = examples[0]
    assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
    assert not eg.predicted.ents and eg.predicted.has_annotation("SENT_START")
    assert eg.reference.vocab is nlp.vocab and eg.reference.ents[0].kb_id_ == "NCBI:3558"
    assert len(list(corpus(nlp))) == 2  # a second epoch
    for name in ("IOB2Corpus", "BratCorpus", "GlinerJsonCorpus", "MixedCorpus"):
        assert spacy.util.registry.readers.get(f"spacy_gliner_biomed.{name}.v1")


def test_mixed_corpus_refuses_test_split(tmp_path, label_map):
    docs, _ = read_iob2(write(tmp_path / "t.tsv", "a\tB-GENE\n\nb\tO\n\nc\tO\n"), "toy", "train", label_map)
    train = write_docbin(docs, tmp_path / "train.spacy")
    for d in docs:
        d.user_data[SPLIT_KEY] = "test"
    test = write_docbin(docs, tmp_path / "test.spacy")
    make = spacy.util.registry.readers.get("spacy_gliner_biomed.MixedCorpus.v1")
    nlp = spacy.blank("en")
    with pytest.raises(GlinerError, match=r"\[E069\] .*test.spacy' holds test-split docs"):
        list(make(paths=[str(train), str(test)])(nlp))
    assert len(list(make(paths=[str(train), str(test)], allow_test=True)(nlp))) == 6
    assert len(list(make(paths=[str(train)], limit_per_path=2)(nlp))) == 2
    firsts = [eg.reference.text for eg in make(paths=[str(train)], limit_per_path=2, shuffle=False)(nlp)]
    assert firsts == ["a", "b"]


def test_mixed_corpus_splits_sentences_keeping_every_span(tmp_path):
    from spacy_gliner_biomed.corpora import sentence_docs

    nlp = spacy.blank("en")
    doc = nlp("Aspirin cures headache . BRCA1 causes breast cancer .")
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 4)
    doc.ents = [Span(doc, 0, 1, "chemical", kb_id="MESH:D001241"), Span(doc, 6, 8, "disease", kb_id="MESH:D001943")]
    doc.spans["gold"] = list(doc.ents) + [Span(doc, 4, 5, "gene")]
    doc.user_data[SPLIT_KEY] = "train"
    path = write_docbin([doc], tmp_path / "train.spacy")
    make = spacy.util.registry.readers.get("spacy_gliner_biomed.MixedCorpus.v1")
    examples = list(make(paths=str(path), shuffle=False, split_sentences=True)(nlp))
    assert [eg.reference.text.strip() for eg in examples] == ["Aspirin cures headache .", "BRCA1 causes breast cancer ."]
    got = [[(e.text, e.label_, e.kb_id_) for e in eg.reference.ents] for eg in examples]
    assert got == [[("Aspirin", "chemical", "MESH:D001241")], [("breast cancer", "disease", "MESH:D001943")]]
    assert [sorted((s.text, s.label_) for s in eg.reference.spans["gold"]) for eg in examples] == [
        [("Aspirin", "chemical")], [("BRCA1", "gene"), ("breast cancer", "disease")]]
    assert all(eg.reference.user_data[SPLIT_KEY] == "train" for eg in examples)
    assert len(list(make(paths=str(path), shuffle=False)(nlp))) == 1  # off by default
    doc.spans["gold"] = [Span(doc, 2, 6, "crossing")]  # a span across the boundary keeps the doc whole
    assert sentence_docs(doc) == [doc]


# ------------------------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_convert_single_file(tmp_path, label_map, capsys):
    src = write(tmp_path / "t.tsv", "p53\tB-GENE\n")
    out = tmp_path / "o" / "x.spacy"
    args = ["convert", "--format", "iob2", "--input", str(src), "--dataset", "toy",
            "--split", "dev", "--out", str(out), "--label-map", str(label_map)]
    assert cli_main(args) == 0
    assert "toy/dev" in capsys.readouterr().out
    assert read_docbin(out)[0].user_data[SPLIT_KEY] == "dev"
    assert cli_main(["convert", "--format", "iob2", "--input", str(src)]) == 1
    assert "E090" in capsys.readouterr().err
    assert cli_main(["convert", "nonexistent"]) == 1
    assert "E066" in capsys.readouterr().err


@pytest.mark.slow
def test_convert_splits_reads_and_writes_only_those(tmp_path, capsys):
    data = tmp_path / "data"
    folder = data / "general" / "crossner_ai"
    folder.mkdir(parents=True)
    write(folder / "test.txt", "Alan\tB-researcher\nTuring\tI-researcher\n")  # no train.txt, dev.txt
    args = ["convert", "crossner_ai", "--data", str(data), "--out", str(tmp_path / "c"), "--splits", "test"]
    assert cli_main(args) == 0
    assert sorted(p.name for p in (tmp_path / "c" / "crossner_ai").iterdir()) == ["test.spacy", "test.spacy.counts.json"]
    assert spans_of(read_docbin(tmp_path / "c" / "crossner_ai" / "test.spacy")[0]) == [(0, 2, "researcher", "")]
    # train alone: the overlap checks against test and dev are skipped, and said so
    write(folder / "train.txt", "Alan\tB-researcher\nTuring\tI-researcher\n\nLISP\tB-programming language\n")
    paths = corpora.convert_dataset("crossner_ai", data, tmp_path / "t", splits=["train"])
    assert list(paths) == ["train"] and len(read_docbin(paths["train"])) == 2
    assert "not checked for overlap with test, dev" in capsys.readouterr().out
    assert corpora.convert_dataset("Ontonotes", data, tmp_path / "o", splits=["train"]) == {}
    assert "no train split" in capsys.readouterr().out
    with pytest.raises(GlinerError, match="E055"):
        corpora.convert_dataset("crossner_ai", data, tmp_path / "x", splits=["validation"])
    with pytest.raises(SystemExit):
        cli_main(args[:-1] + ["validation"])
    assert cli_main(["convert", "--format", "iob2", "--input", "f", "--dataset",
                     "toy", "--split", "dev", "--out", "o", "--splits", "dev"]) == 1


# ------------------------------------------------------------------------------------- real data


def test_label_map_covers_every_dataset():
    data = corpora.load_label_map()
    assert set(corpora.DATASETS) <= set(data)
    assert data["ncbi-disease"]["CompositeMention"] == "disease"
    assert data["bionlp13cg"]["Gene_or_gene_product"] == "gene or gene product"


@pytest.mark.slow
@needs_data
def test_bc5cdr_train_without_dev_abstracts():
    folder = DATA / "bio" / "bc5cdr" / "pubtator"
    train, report = read_pubtator(folder / "CDR_TrainingSet.PubTator.txt", "bc5cdr", "train")
    dev, _ = read_pubtator(folder / "CDR_DevelopmentSet.PubTator.txt", "bc5cdr", "dev")
    assert len(train) == 1000 and len(dev) == 500
    kept, dropped = drop_overlap(train, dev, by_id=True)
    assert (len(kept), dropped) == (500, 500)
    assert sum(len(d.spans[GOLD_KEY]) for d in kept) == 9385  # 5203 chemicals + 4182 diseases
    assert report.left_out_of_ents == 0


@pytest.mark.slow
@needs_data
def test_convert_dataset_has_no_test_text_in_train(tmp_path, capsys):
    paths = corpora.convert_dataset("crossner_ai", DATA, tmp_path)
    assert sorted(paths) == ["dev", "test", "train"]
    out = capsys.readouterr().out
    assert "crossner_ai/train" in out and "crossner_ai/test" in out
    splits = {split: read_docbin(path) for split, path in paths.items()}
    test_texts = {d.text for d in splits["test"]}
    assert not any(d.text in test_texts for d in splits["train"] + splits["dev"])
    assert {d.user_data[SPLIT_KEY] for d in splits["train"]} == {"train"}
    assert splits["train"][0].user_data[LABELS_KEY] == sorted(corpora.load_label_map()["crossner_ai"].values())
    assert not [p for p in (tmp_path / "crossner_ai").iterdir() if p.suffix != ".spacy" and not p.name.endswith(".counts.json")]


def test_doc_built_by_hand_passes_through_writer():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["a", "b"], spaces=[True, False])
    doc.spans[GOLD_KEY] = [Span(doc, 0, 2, label="x")]
    assert docs_to_gliner_json([doc]) == [{"tokenized_text": ["a", "b"], "ner": [[0, 1, "x"]]}]
