"""Packaging promises: light import, entry points, registered architectures, CLI."""
import json
import subprocess
import sys

import spacy

from helpers import LABELS, TEXTS


def test_factory_entry_point_does_not_import_transformers():
    """spaCy imports every spacy_factories entry point on Language(): ours must stay cheap.
    (Checked on our module alone: other installed plugins, e.g. gliner-spacy, import gliner.)"""
    code = (
        "import sys, importlib.metadata as md; "
        "ep = [e for e in md.entry_points(group='spacy_factories') if e.name == 'gliner_biomed'][0]; "
        "ep.load(); print(ep.value, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["spacy_gliner_biomed.pipeline_component:make_gliner_biomed", "False"]


def test_architectures_are_registered():
    for name in ("spacy_gliner_biomed.UniEncoder.v1", "spacy_gliner_biomed.BiEncoder.v1"):
        assert spacy.registry.architectures.get(name)


def test_cli_export_and_annotate(tiny_checkpoints, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS, "threshold": 0.3})
    nlp.to_disk(tmp_path / "pipeline")
    cli = [sys.executable, "-m", "spacy_gliner_biomed"]
    subprocess.run(cli + ["export", str(tmp_path / "pipeline"), str(tmp_path / "gliner")], check=True, capture_output=True)
    assert (tmp_path / "gliner" / "gliner_config.json").is_file()
    runs = []
    for model in (tmp_path / "pipeline", tmp_path / "gliner"):
        out = subprocess.run(cli + ["annotate", str(model), "--labels", *LABELS, "--threshold", "0.3"],
                             input="\n".join(TEXTS), capture_output=True, text=True, check=True)
        runs.append([json.loads(line) for line in out.stdout.splitlines()])
    expected = [[{"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)}
                 for e in doc.ents] for doc in nlp.pipe(TEXTS)]
    assert runs[0] == runs[1] == expected


def test_cli_keeps_a_pipelines_threshold_and_checks_a_given_one(tiny_checkpoints, tmp_path):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"]), "labels": LABELS, "threshold": 0.99})
    nlp.to_disk(tmp_path / "pipeline")
    cli = [sys.executable, "-m", "spacy_gliner_biomed", "annotate", str(tmp_path / "pipeline")]
    out = subprocess.run(cli, input=TEXTS[0], capture_output=True, text=True, check=True)
    got = [e["score"] for e in json.loads(out.stdout)]
    assert got == [round(e._.score, 4) for e in nlp(TEXTS[0]).ents] and got
    ner.cfg["threshold"] = 0.5
    assert len(got) < len(nlp(TEXTS[0]).ents)  # the pipeline's 0.99 applied, not a default 0.5
    bad = subprocess.run(cli + ["--threshold", "2"], input="a", capture_output=True, text=True)
    assert bad.returncode == 1 and "E006" in bad.stderr


def test_cli_reports_bad_checkpoint(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "gliner_config.json").write_text(json.dumps({"span_mode": "token_level"}))
    out = subprocess.run([sys.executable, "-m", "spacy_gliner_biomed", "annotate", str(tmp_path / "bad"), "--labels", "x"],
                         input="a", capture_output=True, text=True)
    assert out.returncode == 1 and "E013" in out.stderr and "Traceback" not in out.stderr
