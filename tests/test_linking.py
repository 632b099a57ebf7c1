"""Entity linking: KB folders built offline, the label-routed linker, abbreviations, evaluation."""
import gzip
import json
import shutil
import subprocess
import sys
import warnings

import pytest
import spacy
from spacy.tokens import Doc, Span

pytest.importorskip("scispacy")

from spacy_gliner_biomed.cli import main  # noqa: E402
from spacy_gliner_biomed.corpora.docbin import write_docbin  # noqa: E402
from spacy_gliner_biomed.errors import GlinerError  # noqa: E402
from spacy_gliner_biomed.evaluation.linking import evaluate_linking, gold_ids  # noqa: E402
from spacy_gliner_biomed.keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, SPLIT_KEY  # noqa: E402
from spacy_gliner_biomed.linking.kb import INDEX_FILES, load_kb  # noqa: E402
from spacy_gliner_biomed.linking.sources import normalise_id  # noqa: E402

MEDIC = [
    ["Diseases", "MESH:C", "", "", "", "", "", "Disease", ""],  # MEDIC's root: left out
    ["Acute Kidney Injury", "MESH:D058186", "", "Abrupt loss of kidney function.", "", "C12.777.419.780.050", "", "AKI|Acute Renal Injury", ""],
    ["Hepatolenticular Degeneration", "MESH:D006527", "OMIM:277900", "A disorder of copper metabolism.", "", "C06.552.413", "", "Wilson Disease|Wilson's disease", ""],
    ["Breast Neoplasms", "MESH:D001943", "", "", "", "C04.588.180", "", "Breast Cancer|Breast Tumor", ""],
]
MESH_TREE = [
    ["mesh_id", "mesh_name", "mesh_tree_number"],
    ["D002945", "Cisplatin", "D01.210.375.075"],
    ["D001241", "Aspirin", "D02.241.223.100"],
    ["D006527", "Hepatolenticular Degeneration", "C06.552.413"],
]


def _tsv(path, rows, gz=False):
    text = "# a comment line\n" + "".join("\t".join(r) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf8")
    return path


def _gold_doc(nlp, text, spans, split="train", dataset="toy", labels=("disease", "chemical")):
    """spans: (substring, label, kb_id), the first occurrence of each."""
    doc = nlp.make_doc(text)
    gold = []
    for substring, label, kb_id in spans:
        start = text.index(substring)
        gold.append(doc.char_span(start, start + len(substring), label=label, kb_id=kb_id))
    doc.spans[GOLD_KEY] = gold
    doc.ents = [s for s in gold]
    doc.user_data.update({SPLIT_KEY: split, DATASET_KEY: dataset, LABELS_KEY: list(labels)})
    return doc


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    nlp = spacy.blank("en")
    train = [
        _gold_doc(nlp, "Cisplatin nephrotoxicity was seen.", [("Cisplatin", "chemical", "D002945"), ("nephrotoxicity", "disease", "D058186")]),
        _gold_doc(nlp, "Treated with ciplatin and doxorubicin.", [("ciplatin", "chemical", "D002945"), ("doxorubicin", "chemical", "D004317")]),
        _gold_doc(nlp, "Renal and hepatic failure occurred.", [("Renal and hepatic failure", "disease", "D051437|D017093")]),
    ]
    return {
        "medic": _tsv(root / "CTD_diseases.tsv.gz", MEDIC, gz=True),
        "mesh": _tsv(root / "mesh_tree_numbers.tsv", MESH_TREE),
        "train": write_docbin(train, root / "train.spacy"),
        "root": root,
    }


def _build(args):
    assert main(["build-kb", *args]) == 0


@pytest.fixture(scope="module")
def kbs(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("kbs")
    _build(["medic", "--out", str(out / "medic"), "--medic", str(sources["medic"]), "--mentions", str(sources["train"]), "--mention-labels", "disease"])
    _build(["chemicals", "--out", str(out / "chemicals"), "--mesh", str(sources["mesh"]), "--tree-prefix", "D",
            "--mentions", str(sources["train"]), "--mention-labels", "chemical"])
    return {"medic": out / "medic", "chemicals": out / "chemicals"}


def _records(folder):
    return {r["concept_id"]: r for r in map(json.loads, (folder / "kb.jsonl").read_text().splitlines())}


def test_kb_records_ids_aliases_and_mentions(kbs):
    medic = _records(kbs["medic"])
    assert list(medic) == ["D001943", "D006527", "D058186"]  # sorted; MESH: prefix dropped
    assert medic["D058186"]["canonical_name"] == "Acute Kidney Injury"
    # vocabulary synonyms, then the training mention (TaggerOne's aliases)
    assert medic["D058186"]["aliases"] == ["AKI", "Acute Renal Injury", "nephrotoxicity"]
    assert medic["D006527"]["definition"] == "A disorder of copper metabolism."
    assert "disease" in medic["D006527"]["types"]
    assert json.loads((kbs["medic"] / "alt_ids.json").read_text()) == {"OMIM:277900": "D006527"}
    chem = _records(kbs["chemicals"])
    # the C-tree descriptor is left out by --tree-prefix D; an id only mentions know becomes a concept
    assert list(chem) == ["D001241", "D002945", "D004317"]
    assert chem["D004317"] == {"concept_id": "D004317", "canonical_name": "doxorubicin", "aliases": [], "types": ["chemical"], "definition": None}
    assert chem["D002945"]["aliases"] == ["ciplatin"]  # "Cisplatin" is the canonical name already
    meta = json.loads((kbs["medic"] / "meta.json").read_text())
    assert meta["name"] == "medic" and meta["n_concepts"] == 3
    assert meta["assembly"]["mentions"]["composite_skipped"] == 1
    assert [s["kind"] for s in meta["sources"]] == ["medic", "mentions"] and all(len(s["sha256"]) == 64 for s in meta["sources"])


def test_kb_build_is_deterministic(sources, kbs, tmp_path):
    _build(["medic", "--out", str(tmp_path / "again"), "--medic", str(sources["medic"]), "--mentions", str(sources["train"]),
            "--mention-labels", "disease"])
    for name in ("kb.jsonl", "alt_ids.json", "meta.json", *INDEX_FILES):
        assert (tmp_path / "again" / name).read_bytes() == (kbs["medic"] / name).read_bytes(), name


def test_candidates_and_scores(kbs):
    loaded = load_kb(kbs["medic"])
    (cands,) = loaded.generator(["acute kidney injury"], 5)
    best = max(cands, key=lambda c: max(c.similarities))
    assert best.concept_id == "D058186" and max(best.similarities) == pytest.approx(1.0, abs=1e-5)
    assert loaded.canonical_id("OMIM:277900") == "D006527" and loaded.canonical_id("D1") == "D1"


def _linker_nlp(kbs, **config):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "disease", "pattern": "acute kidney injury"},
        {"label": "disease", "pattern": "Wilson disease"},
        {"label": "chemical", "pattern": "cisplatin"},
        {"label": "gene", "pattern": "ATP7B"},
        {"label": "disease", "pattern": [{"ORTH": "("}, {"ORTH": ")"}]},
    ])
    nlp.add_pipe("abbreviation_detector", config={"make_serializable": config.pop("serializable", False)})
    nlp.add_pipe("gliner_biomed_linker", config={"kbs": {k: str(v) for k, v in kbs.items()},
                                                 "label_kbs": {"disease": "medic", "chemical": "chemicals"}, **config})
    return nlp


TEXT = "Cisplatin caused acute kidney injury (AKI) in 3 patients; AKI resolved. ATP7B causes Wilson disease ( )."


def _links(doc):
    return [(e.text, e.label_, e.kb_id_, [c for c, _ in e._.kb_ents]) for e in doc.ents]


def test_linker_routes_labels_and_propagates_abbreviations(kbs):
    nlp = _linker_nlp(kbs)
    with pytest.warns(UserWarning, match=r"W014.*'gene'"):
        doc = nlp(TEXT.replace("Cisplatin", "cisplatin"))
    assert _links(doc) == [
        ("cisplatin", "chemical", "D002945", ["D002945"]),
        ("acute kidney injury", "disease", "D058186", ["D058186"]),
        ("AKI", "disease", "D058186", ["D058186"]),  # added: the long form is a disease
        ("AKI", "disease", "D058186", ["D058186"]),  # the later occurrence too, linked by the long form
        ("ATP7B", "gene", "", []),  # no KB for genes: left unlinked, counted
        ("Wilson disease", "disease", "D006527", ["D006527"]),
        ("( )", "disease", "", []),  # punctuation: no 3-gram in the index, no candidate, no crash
    ]
    counts = nlp.get_pipe("gliner_biomed_linker").counts
    assert counts["abbreviation_added"] == 2 and counts["no_kb"] == 1 and counts["no_candidate"] == 1
    assert counts["linked"] == 5 and counts["mentions"] == 7


def test_linker_threshold_and_default_kb(kbs):
    nlp = _linker_nlp(kbs, threshold=1.0, default_kb="medic", propagate_abbreviations=False)
    doc = nlp("Wilson's disease and acute kidney injury (AKI) with ATP7B here.")
    links = {e.text: (e.kb_id_, e._.kb_ents) for e in doc.ents}
    assert "AKI" not in links  # not propagated
    assert links["acute kidney injury"][0] == "D058186"
    assert links["ATP7B"] == ("", [])  # the default KB has nothing this close


@pytest.mark.parametrize(
    "config,code",
    [({"kbs": {}}, "E184"), ({"label_kbs": {"disease": "umls"}}, "E183"), ({"threshold": 1.5}, "E186"), ({"k": 0}, "E186")],
)
def test_linker_bad_settings(kbs, config, code):
    nlp = spacy.blank("en")
    base = {"kbs": {k: str(v) for k, v in kbs.items()}, "label_kbs": {"disease": "medic"}}
    with pytest.raises(GlinerError, match=code):
        nlp.add_pipe("gliner_biomed_linker", config={**base, **config})


def test_bad_kb_sources(sources, tmp_path):
    bad_medic = _tsv(tmp_path / "bad.tsv", [MEDIC[0][:8]])
    with pytest.raises(GlinerError, match=r"E151.*bad.tsv, line 2: 8 tab-separated"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x"), "--medic", str(bad_medic)])
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"concept_id": "D1", "canonical_name": "a"}\n{"concept_id": "D1", "canonical_name": "b"}\n')
    with pytest.raises(GlinerError, match=r"E177.*'D1' is defined twice.*dup.jsonl, line 1 and .*dup.jsonl, line 2"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x"), "--jsonl", str(dup)])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(GlinerError, match="E179"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x"), "--jsonl", str(empty)])
    aliases = _tsv(tmp_path / "aliases.tsv", [["ARF", "D058186"], ["foo", "D999999"]])
    with pytest.raises(GlinerError, match=r"E178.*aliases.tsv, line 3: alias 'foo' maps to concept id 'D999999'"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x"), "--medic", str(sources["medic"]), "--aliases", str(aliases)])
    nlp = spacy.blank("en")
    test_docs = write_docbin([_gold_doc(nlp, "AKI.", [("AKI", "disease", "D058186")], split="test")], tmp_path / "test.spacy")
    with pytest.raises(GlinerError, match="E189"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x"), "--medic", str(sources["medic"]), "--mentions", str(test_docs),
                "--mention-labels", "disease"])
    with pytest.raises(GlinerError, match="E185"):
        _raise(["build-kb", "x", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()  # nothing half-written by any of them


def _raise(argv):
    """Run a command's `run` directly, so the GlinerError itself (not exit status 1) comes out."""
    import argparse

    from spacy_gliner_biomed.cli import COMMANDS

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    COMMANDS[argv[0]].add_parser(sub)
    return COMMANDS[argv[0]].run(parser.parse_args(argv))


def test_missing_index_file_and_existing_output(kbs, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(kbs["medic"], broken)
    (broken / "nmslib_index.bin").unlink()
    with pytest.raises(GlinerError, match=r"E180.*missing nmslib_index.bin"):
        load_kb(broken)
    with pytest.raises(GlinerError, match=r"E180.*no such folder"):
        load_kb(tmp_path / "nowhere")
    with pytest.raises(GlinerError, match="E181"):
        _raise(["build-kb", "x", "--out", str(broken), "--jsonl", str(broken / "kb.jsonl")])


def test_gold_ids_and_normalisation():
    assert gold_ids("D1|D2") == ["D1", "D2"] and gold_ids("D1+D2") == ["D1", "D2"] and gold_ids("-1") == []
    assert normalise_id("MESH:D002945") == "D002945" and normalise_id("OMIM:277900") == "OMIM:277900"


def test_evaluate_linking_counts(kbs):
    nlp = _linker_nlp(kbs)
    ref = spacy.blank("en")
    docs = [
        _gold_doc(ref, "Wilson disease and acute kidney injury (AKI) after cisplatin.",
                  [("Wilson disease", "disease", "OMIM:277900"), ("acute kidney injury", "disease", "D058186"),
                   ("AKI", "disease", "D058186"), ("cisplatin", "chemical", "D002945")], split="test"),
        _gold_doc(ref, "Breast cancer or renal injury with aspirin.",
                  [("Breast cancer", "disease", "D001943|D000001"), ("renal injury", "disease", "-1"), ("aspirin", "chemical", "D001241")],
                  split="test"),
    ]
    report = evaluate_linking(nlp, {"toy": docs})
    ds = report["datasets"]["toy"]
    disease = ds["gold_mentions"]["disease"]
    # Wilson (OMIM id = the KB's MeSH concept), AKI via its long form, composite Breast cancer: all right
    assert (disease["mentions"], disease["without_id"], disease["accuracy_at_1"]) == (4, 1, 1.0)
    e2e = ds["end_to_end"]
    # the ruler finds no "Breast cancer": per abstract, disease {D006527, D058186} found of {.., D001943, D000001}
    assert (e2e["disease"]["tp"], e2e["disease"]["fp"], e2e["disease"]["fn"]) == (2, 0, 2)
    assert (e2e["chemical"]["tp"], e2e["chemical"]["fp"], e2e["chemical"]["fn"]) == (1, 0, 1)
    with pytest.raises(GlinerError, match="E188"):
        evaluate_linking(spacy.blank("en"), {"toy": docs})
    no_ids = [_gold_doc(ref, "Wilson disease.", [("Wilson disease", "disease", "")], split="test")]
    with pytest.raises(GlinerError, match="E187"):
        evaluate_linking(nlp, {"toy": no_ids})


def test_scispacy_linker_with_registered_generator(kbs):
    import scispacy.linking  # noqa: F401  (registers scispacy_linker)

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "disease", "pattern": "Wilson disease"}])
    nlp.add_pipe("scispacy_linker", config={
        "candidate_generator": {"@misc": "spacy_gliner_biomed.KBCandidateGenerator.v1", "kb_dir": str(kbs["medic"])},
        "filter_for_definitions": False, "threshold": 0.9,
    })
    (ent,) = nlp("He had Wilson disease.").ents
    assert [c for c, _ in ent._.kb_ents] == ["D006527"]


@pytest.mark.slow
def test_saved_pipeline_links_offline_in_a_fresh_process(kbs, tiny_checkpoints, tmp_path):
    """scispaCy's tokenizer, sentencizer, gliner_biomed, abbreviation_detector, gliner_biomed_linker
    and scispaCy's own linker, saved, the original KB folder moved away, loaded in a new process:
    same output; and nlp.pipe(n_process=2) gives it too."""
    medic = tmp_path / "medic"
    shutil.copytree(kbs["medic"], medic)
    script_build = f"""
import json, spacy, scispacy.linking
from scispacy.custom_tokenizer import combined_rule_tokenizer
nlp = spacy.blank("en")
nlp.tokenizer = combined_rule_tokenizer(nlp)
nlp.add_pipe("sentencizer")
nlp.add_pipe("gliner_biomed", config={{"checkpoint": {str(tiny_checkpoints['uni'])!r}, "labels": ["disease", "chemical"], "threshold": 0.0, "flat_ner": True}})
nlp.add_pipe("abbreviation_detector", config={{"make_serializable": True}})
nlp.add_pipe("gliner_biomed_linker", config={{"kbs": {{"medic": {str(medic)!r}}}, "default_kb": "medic", "threshold": 0.3}})
nlp.add_pipe("scispacy_linker", name="umls_style", config={{"candidate_generator": {{"@misc": "spacy_gliner_biomed.KBCandidateGenerator.v1", "kb_dir": {str(kbs['medic'])!r}}}, "filter_for_definitions": False, "threshold": 0.3}})
nlp.to_disk({str(tmp_path / 'pipe')!r})
"""
    script_run = f"""
import json, sys, spacy, scispacy.linking
nlp = spacy.load(sys.argv[1])
texts = {[TEXT, "Wilson disease (WD) and WD again.", "Nothing here."]!r} * 2
out = lambda docs: [[(e.start, e.end, e.label_, e.kb_id_, [[c, round(s, 4)] for c, s in e._.kb_ents]) for e in d.ents] for d in docs]
one = out(nlp.pipe(texts))
two = out(nlp.pipe(texts, n_process=2, batch_size=2))
print(json.dumps({{"pipes": nlp.pipe_names, "one": one, "same": one == two}}))
"""
    run = lambda args: subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600)  # noqa: E731
    built = run(["-c", script_build])
    assert built.returncode == 0, built.stderr[-3000:]
    first = run(["-c", script_run, str(tmp_path / "pipe")])
    assert first.returncode == 0, first.stderr[-3000:]
    shutil.rmtree(medic)  # gliner_biomed_linker carries its KB inside the pipeline
    second = run(["-c", script_run, str(tmp_path / "pipe")])
    assert second.returncode == 0, second.stderr[-3000:]
    a, b = (json.loads(r.stdout.strip().splitlines()[-1]) for r in (first, second))
    assert a["pipes"] == ["sentencizer", "gliner_biomed", "abbreviation_detector", "gliner_biomed_linker", "umls_style"]
    assert a["one"] == b["one"] and a["same"] and b["same"]
    assert any(e[3] for doc in a["one"] for e in doc)  # something was linked


@pytest.mark.slow
def test_core_works_without_scispacy(tiny_checkpoints):
    script = f"""
import sys
sys.modules["scispacy"] = None  # as if the [scispacy] extra were not installed
import spacy
from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.linking.kb import load_kb
nlp = spacy.blank("en")
nlp.add_pipe("gliner_biomed", config={{"checkpoint": {str(tiny_checkpoints['uni'])!r}, "labels": ["disease"]}})
nlp("Some text.")
try:
    load_kb("anywhere")
except GlinerError as err:
    print(str(err))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "E190" in out.stdout and "spacy-gliner-biomed[scispacy]" in out.stdout
