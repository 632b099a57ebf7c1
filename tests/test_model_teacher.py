"""The model teacher (`spacy_gliner_biomed.ModelTeacher.v1`) and entity-type lists (teachers/types.py)."""
import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import registry

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, NEGATIVES_KEY, SCORE_KEY, SPLIT_KEY
from spacy_gliner_biomed.teachers.base import teacher_score
from spacy_gliner_biomed.teachers.model import SPANS_KEY, TEACHER_ID, ModelTeacher
from spacy_gliner_biomed.teachers.types import DEFAULT_TYPE_LIST, load_type_list

from helpers import LABELS, TEXTS

ROOT = Path(__file__).resolve().parents[1]


# -- type lists -------------------------------------------------------------------------------


def test_shipped_type_list_loads_broad_and_unique():
    types = load_type_list()
    assert types == load_type_list(DEFAULT_TYPE_LIST)
    assert len(types) >= 90
    labels, descriptions = list(types), list(types.values())
    assert len({l.lower() for l in labels}) == len(labels)
    assert len({d.lower() for d in descriptions}) == len(descriptions)
    for label, description in types.items():
        assert label == label.strip() and description == description.strip()
        assert description != label and len(description.split()) >= 3
    wanted = [
        "disease", "chemical", "gene or gene product", "protein", "cell type", "cell line", "species", "bacterium",
        "virus", "anatomical structure", "organ", "tissue", "drug", "dosage", "adverse drug event", "symptom",
        "procedure", "laboratory test", "mutation", "amino acid", "DNA", "RNA", "enzyme", "hormone", "receptor",
        "pathway", "biological process", "medical device", "body fluid", "intervention", "outcome measure",
        "population",
    ]
    assert [w for w in wanted if w not in types] == []
    raw = json.loads(DEFAULT_TYPE_LIST.read_text(encoding="utf8"))
    assert all(set(item) == {"label", "description"} for item in raw)


def test_shipped_type_list_is_package_data():
    line = next(l for l in (ROOT / "setup.cfg").read_text().splitlines() if l.startswith("spacy_gliner_biomed = "))
    assert "data/*.json" in line and "teachers/data/*.json" in line
    assert DEFAULT_TYPE_LIST.parent.name == "data" and DEFAULT_TYPE_LIST.parent.parent.name == "teachers"


def test_text_tsv_and_json_user_lists(tmp_path):
    text = tmp_path / "types.txt"
    text.write_text("# my types\ndisease\n\n  chemical  \ngene or gene product\n", encoding="utf8")
    assert load_type_list(text) == {"disease": "disease", "chemical": "chemical", "gene or gene product": "gene or gene product"}
    tsv = tmp_path / "types.tsv"
    tsv.write_text("disease\ta disease or syndrome\r\nchemical\ndrug\ta medication\n", encoding="utf8")
    assert load_type_list(str(tsv)) == {"disease": "a disease or syndrome", "chemical": "chemical", "drug": "a medication"}
    js = tmp_path / "types.json"
    js.write_text(json.dumps([{"label": "disease", "description": "a disease"}, {"label": "chemical"}]), encoding="utf8")
    assert load_type_list(js) == {"disease": "a disease", "chemical": "chemical"}


@pytest.mark.parametrize(
    "name,content,line,first",
    [
        ("types.txt", "disease\nchemical\n\ndisease\n", 4, 1),
        ("types.tsv", "disease\ndrug\tdisease\n", 2, 1),  # the prompt of line 1 (its label)
        ("types.tsv", "disease\ta disease\nchemical\ta disease\n", 2, 1),
        ("types.json", '[\n  {"label": "disease"},\n  {"label": "chemical"},\n  {"label": "disease", "description": "x y z"}\n]', 4, 2),
    ],
)
def test_duplicate_label_or_description_names_file_and_line(tmp_path, name, content, line, first):
    path = tmp_path / name
    path.write_text(content, encoding="utf8")
    with pytest.raises(GlinerError, match="E146") as err:
        load_type_list(path)
    assert f"{path}, line {line}:" in str(err.value)
    assert f"first on line {first}" in str(err.value)


@pytest.mark.parametrize(
    "name,content,code,line",
    [
        ("types.tsv", "disease\nchemical\ta chemical\textra\n", "E145", 2),
        ("types.tsv", "disease\nchemical\t\n", "E145", 2),
        ("types.tsv", "disease\n\ta description without a label\n", "E145", 2),
        ("types.json", '[\n  {"label": "disease"},\n  "chemical"\n]', "E144", 3),
        ("types.json", '[\n  {"label": "disease", "desc": "typo"}\n]', "E144", 2),
        ("types.json", '[\n  {"label": ""}\n]', "E145", 2),
        ("types.json", '[\n  {"label": ["a", "b"]}\n]', "E145", 2),
        ("types.json", '[\n  {"label": "disease"}\n  {"label": "chemical"}\n]', "E144", 3),
        ("types.json", '[\n  {"label": "disease",}\n]', "E144", 2),
        ("types.json", '{"disease": "a disease"}', "E144", 1),
    ],
)
def test_bad_entries_name_file_and_line(tmp_path, name, content, code, line):
    path = tmp_path / name
    path.write_text(content, encoding="utf8")
    with pytest.raises(GlinerError, match=code) as err:
        load_type_list(path)
    assert f"{path}, line {line}:" in str(err.value)


def test_missing_or_empty_type_list(tmp_path):
    with pytest.raises(GlinerError, match=r"E143.*does not exist"):
        load_type_list(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n\n", encoding="utf8")
    with pytest.raises(GlinerError, match="E148"):
        load_type_list(tmp_path / "empty.txt")
    (tmp_path / "empty.json").write_text("[ ]", encoding="utf8")
    with pytest.raises(GlinerError, match="E148"):
        load_type_list(tmp_path / "empty.json")


# -- the teacher --------------------------------------------------------------------------------


def make_docs(vocab=None):
    """Docs tokenized on whitespace only (spaCy's tokenizer would split 'Cisplatin-induced' and
    'cancer.'), two texts a doc, with a sentence boundary between them."""
    vocab = vocab or spacy.blank("en").vocab
    docs = []
    for a, b in zip(TEXTS[0::2], TEXTS[1::2]):
        words_a, words_b = a.split(), b.split()
        words = words_a + words_b
        docs.append(
            Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False],
                sent_starts=[True] + [False] * (len(words_a) - 1) + [True] + [False] * (len(words_b) - 1))
        )
    return docs


def component_spans(checkpoint, docs, labels, flat_ner, multi_label=False, batch_size=32, **config):
    """What the gliner_biomed component itself finds on copies of `docs`."""
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "gliner_biomed",
        config={"checkpoint": str(checkpoint), "labels": labels, "spans_key": "ref", "flat_ner": flat_ner,
                "multi_label": multi_label, **config},
    )
    out = list(nlp.pipe([d.copy() for d in docs], batch_size=batch_size))
    return [sorted((s.start, s.end, s.label_, s._.score) for s in d.spans["ref"]) for d in out]


def teacher_spans(docs):
    return [sorted((s.start, s.end, s.label_, teacher_score(s)) for s in d.spans[GOLD_KEY]) for d in docs]


@pytest.mark.parametrize(
    "labels,flat_ner,multi_label,threshold,label_thresholds",
    [
        (LABELS, False, False, 0.5, {}),
        (LABELS, True, False, 0.5, {}),
        (LABELS, False, True, 0.3, {"chemical": 0.8}),
        ({"DISEASE": "disease", "CHEM": "chemical", "GENE": "gene or gene product"}, True, False, 0.4, {}),
    ],
    ids=["nested", "flat", "multi-label", "described"],
)
def test_parity_with_the_component(tiny_checkpoints, kind, labels, flat_ner, multi_label, threshold, label_thresholds):
    checkpoint = tiny_checkpoints[kind]
    docs = make_docs()
    expected = component_spans(checkpoint, docs, labels, flat_ner, multi_label, threshold=threshold,
                               label_thresholds=label_thresholds)
    teacher = ModelTeacher(checkpoint, labels=labels, threshold=threshold, label_thresholds=label_thresholds,
                           flat_ner=flat_ner, multi_label=multi_label)
    assert teacher.labels == tuple(labels) and len(teacher.label_groups) == 1
    out = list(teacher(docs))
    assert [d is o for d, o in zip(docs, out)] == [True] * len(docs)
    got = teacher_spans(out)
    assert got == expected
    assert sum(map(len, got)) > 3
    for doc, spans in zip(out, got):
        assert [(s.start, s.end, s.label_) for s in doc.spans[GOLD_KEY]] == [x[:3] for x in spans]
        assert all(s._.score == teacher_score(s) for s in doc.spans[GOLD_KEY])  # Span._.score reads the same
        assert not [k for k in doc.spans if k.startswith(SPANS_KEY)]
        assert set(doc.ents) <= set(doc.spans[GOLD_KEY])
    if flat_ner:
        for spans in got:
            for (s1, e1, *_), (s2, e2, *_) in zip(spans, spans[1:]):
                assert e1 <= s2 or (multi_label and (s1, e1) == (s2, e2))


def test_descriptions_are_what_the_model_reads(tiny_checkpoints):
    docs = make_docs()
    described = {"D": "disease", "C": "chemical", "G": "gene or gene product"}
    plain = teacher_spans(ModelTeacher(tiny_checkpoints["uni"], labels=LABELS, threshold=0.3)(docs))
    renamed = teacher_spans(ModelTeacher(tiny_checkpoints["uni"], labels=described, threshold=0.3)(make_docs()))
    to_name = {v: k for k, v in described.items()}
    assert renamed == [sorted((s, e, to_name[label], sc) for s, e, label, sc in row) for row in plain]


def test_keeps_tokens_and_sentences(tiny_checkpoints):
    docs = make_docs()
    before = [([t.text for t in d], [s.start for s in d.sents]) for d in docs]
    assert "Cisplatin-induced" in before[0][0] and "cancer." in before[0][0]
    out = list(ModelTeacher(tiny_checkpoints["uni"], labels=LABELS, threshold=0.3)(docs))
    assert [([t.text for t in d], [s.start for s in d.sents]) for d in out] == before


def test_synthetic_shape_and_negatives(tiny_checkpoints):
    teacher = ModelTeacher(tiny_checkpoints["bi"], labels=LABELS + ["species"], threshold=0.5, name="gliner-biomed-large")
    for doc in teacher(make_docs()):
        found = {s.label_ for s in doc.spans[GOLD_KEY]}
        assert doc.user_data[LABELS_KEY] == LABELS + ["species"]
        assert doc.user_data[NEGATIVES_KEY] == [l for l in LABELS + ["species"] if l not in found]
        assert doc.user_data[DATASET_KEY] == "synthetic/gliner-biomed-large"
        assert doc.user_data[SPLIT_KEY] == "train"
    nothing = ModelTeacher(tiny_checkpoints["bi"], labels=LABELS, threshold=1.0)
    for doc in nothing(make_docs()):
        assert list(doc.spans[GOLD_KEY]) == [] and list(doc.ents) == []
        assert doc.user_data[NEGATIVES_KEY] == LABELS


def test_doc_labels_of_a_converted_corpus_are_overridden(tiny_checkpoints):
    teacher = ModelTeacher(tiny_checkpoints["uni"], labels=LABELS, threshold=0.3)
    expected = teacher_spans(teacher(make_docs()))
    docs = make_docs()
    for doc in docs:  # a converted gold doc: its dataset's types, gold spans, a stale score
        doc.user_data[LABELS_KEY] = ["species", "cell type"]
        doc.user_data[NEGATIVES_KEY] = ["cell type"]
        doc.user_data[DATASET_KEY] = "linnaeus"
        doc.user_data[SPLIT_KEY] = "dev"
        doc.spans[GOLD_KEY] = [doc[0:1]]
        doc.user_data[(SCORE_KEY, 0, 3, "species")] = 1.0
    out = list(teacher(docs))
    assert teacher_spans(out) == expected
    for doc in out:
        assert doc.user_data[LABELS_KEY] == LABELS
        assert DATASET_KEY in doc.user_data and doc.user_data[DATASET_KEY] == "synthetic/model"
        assert doc.user_data[SPLIT_KEY] == "train"
        assert (SCORE_KEY, 0, 3, "species") not in doc.user_data
        assert {s.label_ for s in doc.spans[GOLD_KEY]} <= set(LABELS)


def test_label_groups(tiny_checkpoints, kind):
    """Labels asked a few at a time: each span is one its group's component gives, with that
    score, and the union is decoded with the teacher's rule."""
    checkpoint = tiny_checkpoints[kind]
    labels = LABELS + ["species", "cell type"]
    docs = make_docs()
    for flat_ner in (False, True):
        teacher = ModelTeacher(checkpoint, labels=labels, threshold=0.4, labels_per_prompt=2, flat_ner=flat_ner)
        assert teacher.label_groups == (tuple(labels[:2]), tuple(labels[2:4]), tuple(labels[4:]))
        assert teacher.nlp.pipe_names == ["teacher_0", "teacher_1", "teacher_2"]
        got = teacher_spans(teacher([d.copy() for d in docs]))
        by_group = [component_spans(checkpoint, docs, list(group), False, True, threshold=0.4) for group in teacher.label_groups]
        allowed = [set().union(*(set(g[i]) for g in by_group)) for i in range(len(docs))]
        assert sum(map(len, got)) > 3
        for spans, ok in zip(got, allowed):
            assert set(spans) <= ok
            for i, (s1, e1, l1, _) in enumerate(spans):
                for s2, e2, l2, _ in spans[i + 1:]:
                    overlap = s1 < e2 and s2 < e1
                    nested = (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2)
                    assert not (overlap and (flat_ner or not nested)) and (s1, e1) != (s2, e2)


def test_default_labels_fit_the_model(tiny_checkpoints):
    """The shipped ~100 described types overrun a uni-encoder's prompt: it is asked them in groups
    of its `max_types`; a bi-encoder all at once."""
    shipped = load_type_list()
    uni = ModelTeacher(tiny_checkpoints["uni"])
    assert uni.labels == tuple(shipped) and uni.label_descriptions == shipped
    assert [len(g) for g in uni.label_groups[:-1]] == [25] * (len(uni.label_groups) - 1)
    assert sum(len(g) for g in uni.label_groups) == len(shipped)
    bi = ModelTeacher(tiny_checkpoints["bi"])
    assert bi.label_groups == (tuple(shipped),)
    for teacher in (uni, bi):
        doc = next(teacher(make_docs()[:1]))
        assert doc.user_data[LABELS_KEY] == list(shipped)
        assert {s.label_ for s in doc.spans[GOLD_KEY]} <= set(shipped)


def test_saved_pipeline_and_gliner_folder_agree(tiny_checkpoints, tmp_path):
    checkpoint = tiny_checkpoints["uni"]
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": ["something else"], "threshold": 0.9})
    nlp.to_disk(tmp_path / "pipeline")
    from_folder = ModelTeacher(checkpoint, labels=LABELS, threshold=0.3)
    from_pipeline = ModelTeacher(tmp_path / "pipeline", labels=LABELS, threshold=0.3)
    assert from_pipeline.nlp.pipe_names == ["teacher_0"]
    docs = make_docs()
    sentences = [[s.start for s in d.sents] for d in docs]
    expected = teacher_spans(from_folder(make_docs()))
    out = list(from_pipeline(docs))
    assert teacher_spans(out) == expected
    assert [[s.start for s in d.sents] for d in out] == sentences  # the pipeline's sentencizer did not run


def test_stream_is_lazy_and_in_order(tiny_checkpoints):
    teacher = ModelTeacher(tiny_checkpoints["uni"], labels=LABELS, threshold=0.3, batch_size=2)
    docs = make_docs() * 3
    pulled = []

    def stream():
        for doc in docs:
            pulled.append(doc)
            yield doc

    out = teacher(stream())
    first = next(out)
    assert first is docs[0] and len(pulled) <= 2
    rest = list(out)
    assert [first] + rest == docs and len(pulled) == len(docs)


def test_registered_and_built_from_a_config(tiny_checkpoints, tmp_path):
    types = tmp_path / "types.tsv"
    types.write_text("disease\tdisease\nchemical\nDNA\ta DNA sequence\n", encoding="utf8")
    config = {"teacher": {"@misc": TEACHER_ID, "model": str(tiny_checkpoints["bi"]), "labels": str(types),
                          "threshold": 0.6, "batch_size": 4, "name": "bi"}}
    teacher = registry.resolve(config)["teacher"]
    assert isinstance(teacher, ModelTeacher)
    assert teacher.labels == ("disease", "chemical", "DNA") and teacher.name == "bi" and teacher.batch_size == 4
    assert teacher.label_descriptions["DNA"] == "a DNA sequence"
    inline = registry.resolve({"t": {"@misc": TEACHER_ID, "model": str(tiny_checkpoints["bi"]), "labels": {"D": "disease"}}})["t"]
    assert inline.label_descriptions == {"D": "disease"} and inline.threshold == 0.5 and not inline.flat_ner


def test_bad_models(tiny_checkpoints, tmp_path):
    with pytest.raises(GlinerError, match=r"E140.*does not exist"):
        ModelTeacher(tmp_path / "missing", labels=LABELS)
    (tmp_path / "file").write_text("x")
    with pytest.raises(GlinerError, match=r"E140.*is a file"):
        ModelTeacher(tmp_path / "file", labels=LABELS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GlinerError, match=r"E140.*neither"):
        ModelTeacher(tmp_path / "empty", labels=LABELS)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "no_gliner")
    with pytest.raises(GlinerError, match=r"E141.*sentencizer"):
        ModelTeacher(tmp_path / "no_gliner", labels=LABELS)
    nlp = spacy.blank("en")
    for name in ("a", "b"):
        nlp.add_pipe("gliner_biomed", name=name, config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS})
    nlp.to_disk(tmp_path / "two")
    with pytest.raises(GlinerError, match=r"E142.*'a', 'b'"):
        ModelTeacher(tmp_path / "two", labels=LABELS)


def test_bad_settings(tiny_checkpoints, tmp_path):
    checkpoint = tiny_checkpoints["uni"]
    with pytest.raises(GlinerError, match="E148"):
        ModelTeacher(checkpoint, labels=[])
    with pytest.raises(GlinerError, match="E143"):
        ModelTeacher(checkpoint, labels=str(tmp_path / "types.txt"))
    with pytest.raises(GlinerError, match="E003"):
        ModelTeacher(checkpoint, labels=["disease", "disease"])
    with pytest.raises(GlinerError, match="E007"):
        ModelTeacher(checkpoint, labels=LABELS, label_thresholds={"species": 0.9})
    with pytest.raises(GlinerError, match="E006"):
        ModelTeacher(checkpoint, labels=LABELS, threshold=1.5)
    for setting in ("batch_size", "windows_per_forward", "labels_per_prompt"):
        with pytest.raises(GlinerError, match="E008"):
            ModelTeacher(checkpoint, labels=LABELS, **{setting: 0})
    for name in ("", "a/b", 3):
        with pytest.raises(GlinerError, match="E147"):
            ModelTeacher(checkpoint, labels=LABELS, name=name)
    teacher = ModelTeacher(checkpoint, labels=LABELS)
    with pytest.raises(GlinerError, match="E149"):
        list(teacher(["Aspirin reduces the risk of colorectal adenoma."]))
