"""The lexicon teacher: vocabularies -> types, PhraseMatcher rules, the synthetic doc shape, and
the combination of teachers."""
import gzip
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from spacy_gliner_biomed.corpora import write_docbin
from spacy_gliner_biomed.corpora.docs import finish_doc
from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, NEGATIVES_KEY, SPLIT_KEY
from spacy_gliner_biomed.teachers.base import FAILED_KEY, finish_synthetic_doc, teacher_score
from spacy_gliner_biomed.teachers.combined import CombinedTeacher, make_combined_teacher
from spacy_gliner_biomed.teachers.lexicon import LexiconTeacher, make_lexicon_teacher
from spacy_gliner_biomed.teachers.vocabularies import (
    ctd_disease_lexicon, load_type_map, mesh_lexicon, surface_forms, types_of_tree_number,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "vocab"
TYPE_MAP = [("A11", "cell type"), ("A11.251", "-cell type"), ("A11.251.210", "cell line"), ("B", "organism"),
            ("B03", "bacterium"), ("C", "disease"), ("D", "chemical"), ("D06.472", "hormone")]


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def spans_of(doc):
    return [(s.text, s.label_) for s in doc.spans[GOLD_KEY]]


def test_type_map_prefixes_add_and_take_away_types():
    assert types_of_tree_number("A11.118.637", TYPE_MAP) == {"cell type"}
    assert types_of_tree_number("A11.251.210.190", TYPE_MAP) == {"cell line"}  # parent's type taken away
    assert types_of_tree_number("A11.251", TYPE_MAP) == set()
    assert types_of_tree_number("A110", TYPE_MAP) == set()  # prefixes end on a "." boundary
    assert types_of_tree_number("B03.440", TYPE_MAP) == {"organism", "bacterium"}
    assert types_of_tree_number("D06.472.040", TYPE_MAP) == {"chemical", "hormone"}


def test_surface_forms_uninvert_and_singularise():
    assert surface_forms("Cell Line, Tumor") == ["Cell Line, Tumor", "Tumor Cell Line"]
    assert surface_forms("Neurons") == ["Neurons", "Neuron"]
    assert surface_forms("Arteries") == ["Arteries", "Artery"]
    assert surface_forms("Virus") == ["Virus"] and surface_forms("AIDS") == ["AIDS"]


def test_vocabulary_files_and_their_errors(tmp_path):
    trees = tmp_path / "trees.tsv"
    trees.write_text("mesh_id\tmesh_name\tmesh_tree_number\nD1\tInsulin\tD06.472.699\nD2\tEscherichia coli\tB03.440\n")
    lexicon = mesh_lexicon(trees, TYPE_MAP)
    assert lexicon == {"Insulin": {"chemical", "hormone"}, "Escherichia coli": {"organism", "bacterium"}}
    bad = tmp_path / "bad.tsv"
    bad.write_text("mesh_id\tmesh_name\tmesh_tree_number\nD1\tInsulin\n")
    with pytest.raises(GlinerError, match=r"bad.tsv, line 2: 2 tab-separated column\(s\), expected 3"):
        mesh_lexicon(bad, TYPE_MAP)
    with pytest.raises(GlinerError, match="does not exist"):
        mesh_lexicon(tmp_path / "missing.tsv", TYPE_MAP)
    broken = tmp_path / "map.tsv"
    broken.write_text("# comment\nA11\tcell type\nB03\t-\n")
    with pytest.raises(GlinerError, match="map.tsv, line 3"):
        load_type_map(broken)
    corrupt = tmp_path / "ctd.tsv.gz"
    corrupt.write_bytes(gzip.compress(b"x\t" * 8 + b"x\n" * 2000)[:60])
    with pytest.raises(GlinerError, match="ctd.tsv.gz"):
        ctd_disease_lexicon(corrupt, TYPE_MAP)


def test_ctd_names_and_synonyms_are_diseases(tmp_path):
    ctd = tmp_path / "ctd.tsv.gz"
    row = ["Breast Neoplasms", "MESH:D001943", "", "def", "", "C04.588.180|C17.800.090.500", "", "Breast Cancer|Mammary Carcinoma, Human", ""]
    symptom = ["Fever", "MESH:D005334", "", "", "", "C23.888.119.344", "", "Pyrexia", ""]
    with gzip.open(ctd, "wt") as f:
        f.write("# header\n" + "\t".join(row) + "\n" + "\t".join(symptom) + "\n")
    lexicon = ctd_disease_lexicon(ctd, TYPE_MAP + [("C04", "neoplasm"), ("C23.888", "sign or symptom")])
    assert lexicon["Breast Cancer"] == {"disease", "neoplasm"}
    assert lexicon["Human Mammary Carcinoma"] == {"disease", "neoplasm"}
    assert lexicon["Pyrexia"] == {"sign or symptom"}  # a sign is not a disease


def test_matching_rules(nlp):
    teacher = LexiconTeacher(
        {"Breast Neoplasms": {"disease"}, "breast cancer": {"disease"}, "breast": {"anatomical structure"},
         "Mice": {"organism"}, "AIDS": {"disease"}, "Insulin": {"chemical", "hormone"}, "IL": {"protein"},
         "Patients": {"person"}, "the": {"x"}, "12345": {"x"}},
        exact={"BRCA1": {"gene"}, "p53": {"gene"}},
        stoplist=["patients"],
    )
    doc = nlp("Breast cancer and BREAST NEOPLASMS in mice with aids, AIDS and brca1 or BRCA1; INSULIN, p53, P53, patients.")
    out = next(teacher([doc]))
    assert spans_of(out) == [
        ("Breast cancer", "disease"),  # longest match: not "Breast" inside it
        ("BREAST NEOPLASMS", "disease"),  # several words: caseless
        ("mice", "organism"),  # no capital past the first letter: caseless
        ("AIDS", "disease"),  # not "aids": an all-caps short term matches exactly
        ("BRCA1", "gene"),  # gold mentions match as written
        ("INSULIN", "chemical"), ("INSULIN", "hormone"),  # one span per type
        ("p53", "gene"),
    ]
    # "person" came only from a stop-listed term: not a type the teacher can find, so not asked
    assert teacher.labels == ("anatomical structure", "chemical", "disease", "gene", "hormone", "organism")
    assert out.user_data[LABELS_KEY] == list(teacher.labels)
    # absent types are no evidence for a lexicon: no explicit negatives unless asked for
    assert NEGATIVES_KEY not in out.user_data
    explicit = LexiconTeacher({"breast": {"anatomical structure"}, "Mice": {"organism"}}, explicit_negatives=True)
    assert next(explicit([nlp("In mice.")])).user_data[NEGATIVES_KEY] == ["anatomical structure"]
    assert out.user_data[DATASET_KEY] == "synthetic/lexicon" and out.user_data[SPLIT_KEY] == "train"
    assert [e.text for e in out.ents] == ["Breast cancer", "BREAST NEOPLASMS", "mice", "AIDS", "BRCA1", "INSULIN", "p53"]
    assert all(teacher_score(s) == 1.0 for s in out.spans[GOLD_KEY])
    with pytest.raises(GlinerError, match="no usable terms"):
        LexiconTeacher({"a": {"x"}, "the": {"y"}})


def test_gold_mentions_of_zero_shot_corpora_are_refused(tmp_path, nlp):
    with pytest.raises(GlinerError, match=r"\['linnaeus'\] are zero-shot test sets"):
        make_lexicon_teacher(gold_corpora=["ncbi-disease", "linnaeus"], corpus_dir=tmp_path, zero_shot=["linnaeus", "jnlpba"])
    doc = nlp("Cystic fibrosis is caused by CFTR.")
    finish_doc(doc, [Span(doc, 0, 2, "disease"), Span(doc, 5, 6, "gene")], "toy", "train", ["disease", "gene"], "1")
    write_docbin([doc], tmp_path / "toy" / "train.spacy")
    teacher = make_lexicon_teacher(gold_corpora=["toy"], corpus_dir=tmp_path, zero_shot=["linnaeus"])
    out = next(teacher([nlp("cystic fibrosis and Cystic fibrosis with CFTR.")]))
    assert spans_of(out) == [("Cystic fibrosis", "disease"), ("CFTR", "gene")]
    with pytest.raises(GlinerError, match="set corpus_dir"):
        make_lexicon_teacher(gold_corpora=["toy"])


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data/vocab")
def test_shipped_type_map_on_the_real_vocabularies(nlp):
    teacher = make_lexicon_teacher(SHARED / "mesh_tree_numbers.tsv", SHARED / "mesh_terms.tsv", SHARED / "CTD_diseases.tsv.gz")
    assert {"disease", "chemical", "bacterium", "virus", "cell line", "cell type", "neoplasm", "protein"} <= set(teacher.labels)
    doc = next(teacher([nlp("Escherichia coli infected HeLa cells; insulin and fever in mice with breast cancer.")]))
    found = set(spans_of(doc))
    assert {("HeLa cells", "cell line"), ("insulin", "hormone"), ("fever", "sign or symptom"), ("mice", "mammal"),
            ("breast cancer", "neoplasm"), ("Escherichia coli", "bacterium")} <= found
    assert ("fever", "disease") not in found


def test_finish_synthetic_doc_refuses_labels_not_asked(nlp):
    doc = nlp("Aspirin helps.")
    with pytest.raises(GlinerError, match=r"wrote labels it was not asked for: \['drug'\]"):
        finish_synthetic_doc(doc, [Span(doc, 0, 1, "drug")], ["chemical"], "t")


class FixedTeacher:
    def __init__(self, name, labels, spans, fail=()):
        self.name, self.labels, self._spans, self._fail = name, tuple(labels), spans, set(fail)
        self.candidates = []

    def __call__(self, docs):
        for i, doc in enumerate(docs):
            self.candidates.append([s.text for s in doc.spans.get("candidates", [])])
            spans = [Span(doc, s, e, label=label) for s, e, label, _ in self._spans.get(doc.text, [])]
            scores = {(doc[s:e].start_char, doc[s:e].end_char, label): v for s, e, label, v in self._spans.get(doc.text, [])}
            finish_synthetic_doc(doc, spans, self.labels, self.name, scores)
            if doc.text in self._fail:
                doc.user_data[FAILED_KEY] = "timeout"
            yield doc


def test_combined_teacher_conflict_rule(nlp):
    text = "Breast cancer cells express HER2 protein."
    first = FixedTeacher("lexicon", ["disease", "protein"], {text: [(0, 2, "disease", 1.0), (4, 5, "protein", 1.0)]})
    second = FixedTeacher("model", ["disease", "cell type", "gene"], {text: [
        (0, 2, "disease", 0.7),  # same span and label: kept once, higher score
        (0, 3, "cell type", 0.9),  # overlaps the first teacher's "Breast cancer": dropped
        (4, 5, "gene", 0.8),  # same tokens, another label: multi-label
        (4, 6, "gene", 0.6),  # overlaps "HER2": dropped
    ], "Nothing here.": []}, fail=["Nothing here."])
    combined = make_combined_teacher({"model": second, "lexicon": first}, order=["lexicon", "model"])
    assert combined.labels == ("disease", "protein", "cell type", "gene")
    doc, empty = combined([nlp(text), nlp("Nothing here.")])
    assert spans_of(doc) == [("Breast cancer", "disease"), ("HER2", "gene"), ("HER2", "protein")]
    assert [teacher_score(s) for s in doc.spans[GOLD_KEY]] == [1.0, 0.8, 1.0]
    assert doc.user_data[NEGATIVES_KEY] == ["cell type"]
    assert doc.user_data[DATASET_KEY] == "synthetic/combined"
    assert empty.user_data[FAILED_KEY] == "timeout" and FAILED_KEY not in doc.user_data
    # the second teacher was shown the first one's spans as candidates; none are left behind
    assert second.candidates == [["Breast cancer", "HER2"], []] and first.candidates == [[], []]
    assert "candidates" not in doc.spans
    with pytest.raises(GlinerError, match="must name each of its teachers"):
        make_combined_teacher({"a": first}, order=["a", "b"])
    with pytest.raises(GlinerError, match=r"\['b'\] are not teachers"):
        make_combined_teacher({"a": first, "b": "lexicon"})
    with pytest.raises(GlinerError, match="at least one teacher"):
        CombinedTeacher([])
