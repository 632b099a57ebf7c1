"""Raw text in: every reader's exact output, every bad input's error, deduplication and held-out text."""
import gzip
import json
import re
from pathlib import Path

import pytest
import spacy

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import DATASET_KEY, ID_KEY, SPLIT_KEY
from spacy_gliner_biomed.text import (
    HeldOutText,
    RawText,
    TEXT_FORMATS,
    TextReport,
    deduplicate,
    infer_format,
    iter_texts,
    normalize,
    read_corpus_text,
    read_ebmnlp,
    read_jsonl,
    read_plain_text,
    read_pubmed_xml,
    read_pubmedqa,
    read_pubtator_text,
)

DATA = Path(__file__).parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data")

PUBMED_XML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "pubmed_240101.dtd">
<PubmedArticleSet>
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">111</PMID>
      <Article PubModel="Print">
        <ArticleTitle>Effects of <i>Escherichia coli</i> on CO<sub>2</sub> levels.</ArticleTitle>
        <Abstract>
          <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">We studied
            <i>E. coli</i>.</AbstractText>
          <AbstractText Label="RESULTS" NlmCategory="RESULTS">Levels rose 10<sup>3</sup>-fold.</AbstractText>
        </Abstract>
      </Article>
      <CommentsCorrectionsList><CommentsCorrections><PMID>999</PMID></CommentsCorrections></CommentsCorrectionsList>
    </MedlineCitation>
  </PubmedArticle>
  <PubmedArticle>
    <MedlineCitation><PMID>222</PMID><Article><ArticleTitle>A title only.</ArticleTitle></Article></MedlineCitation>
  </PubmedArticle>
  <PubmedArticle>
    <MedlineCitation><PMID>333</PMID><Article><ArticleTitle/></Article></MedlineCitation>
  </PubmedArticle>
</PubmedArticleSet>
"""
XML_TEXTS = [
    ("PMID:111", "Effects of Escherichia coli on CO2 levels. We studied E. coli. Levels rose 103-fold."),
    ("PMID:222", "A title only."),
    ("PMID:333", ""),  # no title, no abstract: yielded empty, skipped and counted by deduplicate
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def pairs(texts):
    return [(t.doc_id, t.text) for t in texts]


# -------------------------------------------------------------------------------------- PubMed XML


def test_pubmed_xml_plain_and_gzipped(tmp_path):
    plain = write(tmp_path / "pubmed24n0001.xml", PUBMED_XML)
    assert pairs(read_pubmed_xml(plain)) == XML_TEXTS
    assert {t.source for t in read_pubmed_xml(plain)} == {str(plain)}
    gzipped = tmp_path / "pubmed24n0001.xml.gz"
    gzipped.write_bytes(gzip.compress(PUBMED_XML.encode("utf-8")))
    assert pairs(read_pubmed_xml(gzipped)) == XML_TEXTS
    # gzip is recognised by its magic bytes, not its name
    misnamed = tmp_path / "misnamed.xml"
    misnamed.write_bytes(gzip.compress(PUBMED_XML.encode("utf-8")))
    assert pairs(read_pubmed_xml(misnamed)) == XML_TEXTS


def test_pubmed_xml_corrupt_gzip_names_the_file(tmp_path):
    data = gzip.compress(PUBMED_XML.encode("utf-8"))
    truncated = tmp_path / "truncated.xml.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(GlinerError, match=r"\[E10[45]\].*truncated\.xml\.gz") as err:
        list(read_pubmed_xml(truncated))
    assert str(truncated) in str(err.value)
    damaged = tmp_path / "damaged.xml.gz"
    damaged.write_bytes(data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:])
    with pytest.raises(GlinerError, match=re.escape(str(damaged))):
        list(read_pubmed_xml(damaged))


def test_pubmed_xml_malformed_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.xml", "<PubmedArticleSet>\n<PubmedArticle>\n<MedlineCitation>\n</PubmedArticle>\n")
    with pytest.raises(GlinerError, match=re.escape(f"[E105] {path}:4: not well-formed XML")):
        list(read_pubmed_xml(path))
    cut = write(tmp_path / "cut.xml", PUBMED_XML[: PUBMED_XML.index("<PubmedArticle>", 500)])
    texts = read_pubmed_xml(cut)
    assert next(texts).doc_id == "PMID:111"  # what was read before the damage is yielded ...
    with pytest.raises(GlinerError, match=re.escape(f"{cut}:")):  # ... and then the error, not a silent end
        list(texts)
    other = write(tmp_path / "other.xml", "<html><body/></html>")
    with pytest.raises(GlinerError, match=r"\[E107\].*<html>"):
        list(read_pubmed_xml(other))
    no_pmid = write(
        tmp_path / "nopmid.xml", "<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>"
    )
    with pytest.raises(GlinerError, match=r"\[E109\].*nopmid\.xml \(article 1\)"):
        list(read_pubmed_xml(no_pmid))
    with pytest.raises(GlinerError, match=r"\[E054\].*missing\.xml"):
        list(read_pubmed_xml(tmp_path / "missing.xml"))


# ------------------------------------------------------------------------------ line formats


def test_pubtator_text(tmp_path):
    path = write(
        tmp_path / "corpus.txt",
        "\n10192393|t|A skin tumour.\n10192393|a|Caused by beta-catenin.\n"
        "10192393\t2\t13\tskin tumour\tDisease\tD012878\n10192393\tCID\tD1\tD2\n"
        "\n555|t|Title alone.\n\n777|t|\n777|a|\n",
    )
    texts = list(read_pubtator_text(path))
    assert pairs(texts) == [
        ("PMID:10192393", "A skin tumour. Caused by beta-catenin."),
        ("PMID:555", "Title alone."),
        ("PMID:777", ""),
    ]
    assert [t.source for t in texts] == [f"{path}:2", f"{path}:7", f"{path}:9"]
    bad = write(tmp_path / "bad.txt", "1|t|One.\n2|a|Abstract of another PMID.\n")
    with pytest.raises(GlinerError, match=re.escape(f"[E112] {bad}:2:")):
        list(read_pubtator_text(bad))
    with pytest.raises(GlinerError, match=r"\[E113\].*PubTator"):
        list(read_pubtator_text(write(tmp_path / "none.txt", "just text\n")))


def test_plain_text(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("\ufeffFirst doc.\r\n\n   \nSecond\u2028doc.\n".encode("utf-8"))
    texts = list(read_plain_text(path))
    assert texts == [
        RawText("notes:0", "First doc.", f"{path}:1"),
        RawText("notes:1", "Second\u2028doc.", f"{path}:4"),  # split on \n only
    ]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nnot \xff utf-8\n")
    with pytest.raises(GlinerError, match=re.escape(f"[E106] {bad}:2: not UTF-8")):
        list(read_plain_text(bad))


def test_jsonl(tmp_path):
    lines = [
        {"pmid": "0123", "text": "By PMID."},
        {"id": "doc-a", "text": "By id."},
        {"text": "No id."},
        {"doc": 5, "body": "Other fields."},
        {"text": "   "},
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(map(json.dumps, lines[:3] + lines[4:])) + "\n\n")
    assert list(read_jsonl(path)) == [
        RawText("PMID:123", "By PMID.", f"{path}:1"),
        RawText("doc-a", "By id.", f"{path}:2"),
        RawText("docs:2", "No id.", f"{path}:3"),
        RawText("docs:3", "   ", f"{path}:4"),  # whitespace only: an empty document, not an error
    ]
    other = write(tmp_path / "other.jsonl", json.dumps(lines[3]) + "\n")
    assert pairs(read_jsonl(other, text_field="body", id_field="doc")) == [("5", "Other fields.")]
    message = f"[E061] {other}:1: field 'text' must be a non-empty string; got None"
    with pytest.raises(GlinerError, match=re.escape(message)):
        list(read_jsonl(other))
    bad = write(tmp_path / "bad.jsonl", '{"text": "ok"}\n\n{"text": "cut\n')
    with pytest.raises(GlinerError, match=re.escape(f"[E060] {bad}:3: not valid JSON")):
        list(read_jsonl(bad))
    for line, code in (('["a list"]', "E061"), ('{"text": ""}', "E061"), ('{"pmid": "x1", "text": "t"}', "E109")):
        with pytest.raises(GlinerError, match=re.escape(f"[{code}] {tmp_path / 'one.jsonl'}:1:")):
            list(read_jsonl(write(tmp_path / "one.jsonl", line + "\n")))


def test_ebmnlp_layout(tmp_path):
    path = write(
        tmp_path / "dev.txt",
        "-DOCSTART- (42)\n\nAspirin NN O I-INT\n( NN O O\n5 NN O O\n) NN O O\n. NN O O\n\nIt NN O O\nworks NN O O\n\n\n"
        "-DOCSTART- (43)\n\nNext NN O O\n",
    )
    assert list(read_ebmnlp(path)) == [
        RawText("PMID:42", "Aspirin ( 5 ) . It works", f"{path}:1"),
        RawText("PMID:43", "Next", f"{path}:13"),
    ]
    for text, line in (("token NN O O\n", 1), ("-DOCSTART- (42)\n-DOCSTART-\n", 2)):
        with pytest.raises(GlinerError, match=re.escape(f"[E111] {tmp_path / 'bad.txt'}:{line}: not EBM-NLP")):
            list(read_ebmnlp(write(tmp_path / "bad.txt", text)))


# ------------------------------------------------------------------------------- real files


@needs_data
def test_pubmedqa_real_file():
    texts = list(read_pubmedqa(DATA / "text" / "pubmedqa_pqal.json"))
    assert len(texts) == 1000
    assert all(re.fullmatch(r"PMID:[1-9]\d*", t.doc_id) for t in texts)
    assert len({t.doc_id for t in texts}) == 1000
    assert texts[0].doc_id == "PMID:21645374"
    assert texts[0].text.startswith("Programmed cell death (PCD) is the regulated death of cells within an organism.")
    assert all(t.text.strip() for t in texts)


@needs_data
def test_ebmnlp_real_dev_file():
    path = DATA / "text" / "ebmnlp" / "dev.txt"
    n_docs = sum(line.startswith("-DOCSTART- (") for line in path.read_text(encoding="utf-8").split("\n"))
    texts = list(iter_texts([str(path)]))  # .txt, but its first line says EBM-NLP
    assert len(texts) == n_docs == 960
    assert texts[0] == RawText("PMID:10037531", "Xylitol for prevention of acute otitis media .", f"{path}:1")
    assert texts[1].text.startswith("Pre-operative short-term pulmonary rehabilitation for patients of chronic")


def test_corpus_text_refuses_test_and_unknown_splits():
    with pytest.raises(GlinerError, match=r"\[E108\].*'ncbi-disease'"):
        read_corpus_text("ncbi-disease", DATA, split="test")
    with pytest.raises(GlinerError, match=r"\[E055\]"):
        read_corpus_text("ncbi-disease", DATA, split="validation")
    with pytest.raises(GlinerError, match=r"\[E110\].*'Ontonotes' has no train split"):
        read_corpus_text("Ontonotes", DATA)
    with pytest.raises(GlinerError, match=r"\[E066\]"):
        iter_texts(["corpus:no-such-corpus"], DATA)


@needs_data
@pytest.mark.slow
def test_corpus_text_of_ncbi_disease_train():
    texts = list(iter_texts(["corpus:ncbi-disease"], DATA))
    assert len(texts) == 592
    assert all(t.doc_id.startswith("PMID:") for t in texts)
    assert texts[0].doc_id == "PMID:10192393"
    assert texts[0].text.startswith("A common human skin tumour is caused by activating mutations in beta-catenin. WNT")
    assert texts[0].source.endswith("ncbi-disease/pubtator/NCBItrainset_corpus.txt")


# ------------------------------------------------------------------------------ iter_texts


def test_iter_texts_globs_formats_and_inference(tmp_path):
    (tmp_path / "in").mkdir()
    folder = tmp_path / "in"
    (folder / "a.xml.gz").write_bytes(gzip.compress(PUBMED_XML.encode("utf-8")))
    write(folder / "b.jsonl", '{"pmid": 7, "text": "Seven."}\n')
    write(folder / "c.txt", "Plain line.\n")
    write(folder / "d.txt", "\n8|t|Eight.\n8|a|Abstract.\n")
    write(folder / "e.txt", "-DOCSTART- (9)\n\nNine NN O O\n")
    write(folder / "pubmedqa_small.json", json.dumps({"10": {"CONTEXTS": ["Ten a.", "Ten b."]}}))
    write(folder / "f.PubTator", "11|t|Eleven.\n")
    assert [infer_format(p) for p in sorted(folder.iterdir())] == [
        "pubmed-xml", "jsonl", "text", "pubtator", "ebmnlp", "pubtator", "pubmedqa",
    ]
    assert pairs(iter_texts(str(folder / "*"))) == XML_TEXTS + [
        ("PMID:7", "Seven."),
        ("c:0", "Plain line."),
        ("PMID:8", "Eight. Abstract."),
        ("PMID:9", "Nine"),
        ("PMID:11", "Eleven."),
        ("PMID:10", "Ten a. Ten b."),
    ]
    # an explicit format wins over inference; specs are read in the order given
    assert pairs(iter_texts([f"text:{folder / 'd.txt'}", f"jsonl:{folder}/*.jsonl"])) == [
        ("d:0", "8|t|Eight."),
        ("d:1", "8|a|Abstract."),
        ("PMID:7", "Seven."),
    ]
    assert set(TEXT_FORMATS) == {"pubmed-xml", "pubtator", "text", "jsonl", "pubmedqa", "ebmnlp"}


def test_iter_texts_errors_come_before_any_document(tmp_path):
    good = write(tmp_path / "good.txt", "A line.\n")
    message = f"[E101] Text input '{tmp_path}/*.xml': the pattern matches no files"
    with pytest.raises(GlinerError, match=re.escape(message)):
        iter_texts([str(good), f"{tmp_path}/*.xml"])
    with pytest.raises(GlinerError, match=re.escape(f"[E100] Text input 'text:{tmp_path}/nope.txt'")):
        iter_texts([f"text:{tmp_path}/nope.txt"])
    with pytest.raises(GlinerError, match=r"\[E100\].*is not a file"):
        iter_texts([str(tmp_path)])
    with pytest.raises(GlinerError, match=r"\[E102\] Text input 'medline:x.xml': unknown format 'medline'"):
        iter_texts(["medline:x.xml"])
    with pytest.raises(GlinerError, match=r"\[E103\].*data\.dat"):
        iter_texts([str(write(tmp_path / "data.dat", "something\n"))])


# ------------------------------------------------------------------------------- dedup


def test_deduplicate_by_pmid_and_by_normalised_text():
    texts = [
        RawText("PMID:1", "Aspirin reduces  pain.", "a"),
        RawText("PMID:1", "A different text, same PMID.", "b"),
        RawText("x:0", "ASPIRIN reduces\npain .", "c"),  # same text up to case and whitespace
        RawText("x:1", "   \n", "d"),
        RawText("x:2", "Aspirin reduces fever.", "e"),
        RawText("x:3", "Aspirin reduces fever.", "f"),
    ]
    report = TextReport()
    kept = list(deduplicate(texts, report))
    assert [t.source for t in kept] == ["a", "e"]
    assert (report.read, report.empty, report.duplicate_id, report.duplicate_text, report.leaked, report.kept) == (
        6, 1, 1, 2, 0, 2,
    )
    assert str(report) == (
        "raw text: 6 read, 2 kept; dropped 1 empty, 1 duplicate PMIDs, 2 duplicate texts, 0 held-out (dev/test) texts"
    )
    assert normalize(" ( 5 )\tFold ") == "(5)fold"


def test_empty_documents_are_counted_not_errors(tmp_path):
    write(tmp_path / "a.xml", PUBMED_XML)
    write(tmp_path / "b.txt", "1|t|\n1|a|\n2|t|Two.\n")
    write(tmp_path / "c.jsonl", '{"text": " \\t "}\n{"text": "Three."}\n')
    report = TextReport()
    kept = list(deduplicate(iter_texts(sorted(str(p) for p in tmp_path.iterdir())), report))
    assert pairs(kept) == XML_TEXTS[:2] + [("PMID:2", "Two."), ("c:1", "Three.")]
    assert (report.read, report.empty, report.kept) == (7, 3, 4)


# ------------------------------------------------------------------------------- leakage


LONG_SENTENCE = "The BRCA1 gene ( 17q21 ) is mutated in 5 % of breast cancers ."  # 48 characters without spaces


def test_held_out_rules():
    held_out = HeldOutText(pmids=["0042"])
    held_out.add("Results .")
    held_out.add("Title here . " + LONG_SENTENCE, sentences=["Title here .", LONG_SENTENCE])
    assert len(held_out) == 4
    abstract = "Background: we looked. The brca1 gene (17q21) is mutated in 5% of breast CANCERS. More."
    assert held_out.contains(abstract)  # contains a long held-out sentence, respaced and recased
    assert not held_out.contains(abstract.replace("5%", "6%"))
    assert held_out.contains("RESULTS.")  # a short held-out sentence matches a whole equal text ...
    assert held_out.contains("title here.")
    assert not held_out.contains("Results. We found nothing.")  # ... and nothing else
    assert held_out.contains("BRCA1 gene (17q21) is mutated in 5% of breast cancers")  # long, inside a held-out doc
    assert not held_out.contains("mutated in 5% of breast cancers")  # inside, but too short to say so
    assert held_out.contains_id("PMID:42") and not held_out.contains_id("PMID:43") and not held_out.contains_id("x:42")
    assert held_out.holds(RawText("PMID:42", "Unrelated text.", "s"))
    assert not held_out.holds(RawText("PMID:7", "Unrelated text.", "s"))
    # every offset of the held-out sentence in the haystack: the probe stride must not skip any
    normal = normalize(LONG_SENTENCE)
    assert all(held_out.contains("x" * pad + normal + "y" * 7) for pad in range(25))


def test_held_out_from_docs_reads_pmids_only_from_pubtator_datasets():
    nlp = spacy.blank("en")
    pubtator_doc = nlp("Aspirin helps. " + LONG_SENTENCE)
    pubtator_doc.user_data.update({DATASET_KEY: "ncbi-disease", SPLIT_KEY: "test", ID_KEY: "9000"})
    iob_doc = nlp("An IOB sentence from the test split of the linnaeus corpus .")
    iob_doc.user_data.update({DATASET_KEY: "linnaeus", SPLIT_KEY: "test", ID_KEY: "17"})
    held_out = HeldOutText.from_docs([pubtator_doc, iob_doc])
    assert held_out.pmids == {"9000"}
    assert held_out.contains("Some words. an IOB sentence from the test split of the Linnaeus corpus. Other words.")
    assert held_out.contains("aspirin helps. " + LONG_SENTENCE)


def _linnaeus_test_sentences():
    sentences, words = [], []
    for line in (DATA / "bio" / "linnaeus" / "iob" / "test.tsv").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            words.append(line.split("\t")[0])
        elif words:
            sentences.append(words)
            words = []
    return sentences


@needs_data
def test_held_out_linnaeus_test_sentence_in_an_abstract():
    held_out = HeldOutText.from_datasets(["linnaeus"], DATA, splits=("test",))
    words = next(w for w in _linnaeus_test_sentences() if "(" in w and len("".join(w)) > 80)
    raw = re.sub(r"\( ", "(", re.sub(r" ([).,;:%])", r"\1", " ".join(words)))  # untokenized spacing
    assert raw != " ".join(words) and normalize(raw) == normalize(" ".join(words))
    abstract = f"We report a new study of yeast. {raw.upper()} These findings extend earlier work."
    assert held_out.contains(abstract)
    unrelated = next(read_pubmedqa(DATA / "text" / "pubmedqa_pqal.json"))
    assert not held_out.contains(unrelated.text)
    report = TextReport()
    texts = [RawText("PMID:1", abstract, "a"), unrelated]
    assert list(deduplicate(texts, report, held_out)) == [unrelated]
    assert (report.leaked, report.kept) == (1, 1)


@needs_data
def test_held_out_pmids_of_ncbi_disease_test():
    held_out = HeldOutText.from_datasets(["ncbi-disease"], DATA, splits=("test",))
    first_pmid = next(
        line.split("|")[0]
        for line in (DATA / "bio/ncbi-disease/pubtator/NCBItestset_corpus.txt").read_text(encoding="utf-8").split("\n")
        if "|t|" in line
    )
    assert len(held_out.pmids) == 100
    assert held_out.contains_id(f"PMID:{first_pmid}")
    assert held_out.holds(RawText(f"PMID:{first_pmid}", "A text of its own, not the test abstract.", "s"))
    train = {t.doc_id for t in read_pubtator_text(DATA / "bio/ncbi-disease/pubtator/NCBItrainset_corpus.txt")}
    assert not any(held_out.contains_id(doc_id) for doc_id in train)
