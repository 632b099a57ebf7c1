"""The command line (`python -m spacy_gliner_biomed`): `annotate` and `export` in-process through
`cli.main`, bad input as one line on stderr with exit status 1, and, through the real entry point,
never a traceback. (`evaluate` and `convert` have their own tests in test_evaluation.py and
test_corpora.py.)"""
import io
import json
import os
import subprocess
import sys

import pytest
import spacy

from spacy_gliner_biomed.cli import main

from helpers import LABELS, TEXTS

THRESHOLD = 0.3
pytestmark = pytest.mark.slow  # the command line: `make test-fast` leaves it out


def run(argv, capsys, monkeypatch, stdin=""):
    """(exit status, stdout, stderr) of `python -m spacy_gliner_biomed ARGV`, in this process."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_lines(nlp, texts):
    return [[{"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_, "score": round(e._.score, 4)}
             for e in doc.ents] for doc in nlp.pipe(texts)]


def make_nlp(checkpoint, labels=LABELS, threshold=THRESHOLD):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(checkpoint), "labels": labels, "threshold": threshold})
    return nlp


@pytest.fixture(scope="module")
def pipeline(tiny_checkpoints, tmp_path_factory):
    """A saved pipeline whose own labels are two of LABELS, at threshold 0.3."""
    path = tmp_path_factory.mktemp("cli") / "pipeline"
    make_nlp(tiny_checkpoints["uni"], labels=["disease", "chemical"]).to_disk(path)
    return path


def assert_one_error_line(code, out, err, message):
    assert code == 1
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert message in err, err


# -- what the commands do ---------------------------------------------------------------------------
def test_export_and_annotate_agree_with_the_pipeline(tiny_checkpoints, tmp_path, capsys, monkeypatch):
    nlp = make_nlp(tiny_checkpoints["uni"])
    nlp.to_disk(tmp_path / "pipeline")
    code, out, _ = run(["export", tmp_path / "pipeline", tmp_path / "gliner"], capsys, monkeypatch)
    assert code == 0 and out.strip() == str(tmp_path / "gliner")
    assert (tmp_path / "gliner" / "gliner_config.json").is_file()
    expected = expected_lines(nlp, TEXTS)
    assert sum(map(len, expected)) > 5
    for model in (tmp_path / "pipeline", tmp_path / "gliner"):
        argv = ["annotate", model, "--labels", *LABELS, "--threshold", THRESHOLD]
        code, out, _ = run(argv, capsys, monkeypatch, stdin="\n".join(TEXTS) + "\n")
        assert code == 0
        assert [json.loads(line) for line in out.splitlines()] == expected


def test_annotate_a_saved_pipeline_without_labels_uses_and_names_its_own(pipeline, capsys, monkeypatch):
    code, out, err = run(["annotate", pipeline], capsys, monkeypatch, stdin="\n".join(TEXTS))
    assert code == 0
    assert err == "Labels: disease, chemical (the pipeline's own; --labels to change)\n"
    got = [json.loads(line) for line in out.splitlines()]
    assert got == expected_lines(spacy.load(pipeline), TEXTS)
    assert {e["label"] for doc in got for e in doc} == {"disease", "chemical"}
    # --labels replaces them, and then nothing is said about the pipeline's own.
    code, out, err = run(["annotate", pipeline, "--labels", "gene or gene product"], capsys, monkeypatch, stdin=TEXTS[0])
    assert code == 0 and err == ""
    assert {e["label"] for e in json.loads(out)} == {"gene or gene product"}


def test_annotate_keeps_a_pipelines_threshold_and_checks_a_given_one(tiny_checkpoints, tmp_path, capsys, monkeypatch):
    nlp = make_nlp(tiny_checkpoints["uni"], threshold=0.99)
    nlp.to_disk(tmp_path / "pipeline")
    code, out, _ = run(["annotate", tmp_path / "pipeline"], capsys, monkeypatch, stdin=TEXTS[0])
    got = [e["score"] for e in json.loads(out)]
    assert code == 0 and got and got == [round(e._.score, 4) for e in nlp(TEXTS[0]).ents]
    nlp.get_pipe("gliner_biomed").threshold = 0.5
    assert len(got) < len(nlp(TEXTS[0]).ents)  # the pipeline's 0.99 applied, not a default 0.5
    code, out, err = run(["annotate", tmp_path / "pipeline", "--threshold", "2"], capsys, monkeypatch, stdin="a")
    assert_one_error_line(code, out, err, "[E006] Threshold for `threshold` must be a number in [0, 1]; got 2.0.")


def test_export_refuses_a_non_empty_folder_without_overwrite(pipeline, tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "taken"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("keep me")
    code, out, err = run(["export", pipeline, out_dir], capsys, monkeypatch)
    assert_one_error_line(code, out, err, f"[E027] Cannot export: '{out_dir}' exists and is not empty.")
    assert "pass --overwrite." in err and "overwrite=True" not in err
    assert (out_dir / "notes.txt").read_text() == "keep me"
    code, out, _ = run(["export", pipeline, out_dir, "--overwrite"], capsys, monkeypatch)
    assert code == 0 and sorted(p.name for p in out_dir.iterdir()) != ["notes.txt"]
    assert (out_dir / "gliner_config.json").is_file() and not (out_dir / "notes.txt").exists()


# -- bad input: one line on stderr, exit status 1 ---------------------------------------------------
def test_annotate_a_gliner_folder_needs_labels(tiny_checkpoints, capsys, monkeypatch):
    folder = tiny_checkpoints["uni"]
    code, out, err = run(["annotate", folder], capsys, monkeypatch, stdin=TEXTS[0])
    assert_one_error_line(code, out, err, f"[E092] '{folder}' is a GLiNER folder: give the labels to find with --labels")


def test_annotate_a_pipeline_without_labels_needs_labels(tiny_checkpoints, tmp_path, capsys, monkeypatch):
    nlp = spacy.blank("en")
    nlp.add_pipe("gliner_biomed", config={"checkpoint": str(tiny_checkpoints["uni"])})
    nlp.to_disk(tmp_path / "unlabelled")
    code, out, err = run(["annotate", tmp_path / "unlabelled"], capsys, monkeypatch, stdin=TEXTS[0])
    assert_one_error_line(code, out, err, "is a pipeline without labels: give the labels to find with --labels")
    code, out, _ = run(["annotate", tmp_path / "unlabelled", "--labels", "chemical"], capsys, monkeypatch, stdin=TEXTS[0])
    assert code == 0 and json.loads(out) == expected_lines(make_nlp(tiny_checkpoints["uni"], ["chemical"], 0.5), [TEXTS[0]])[0]


@pytest.mark.parametrize(
    "command,where,expected",
    [
        ("annotate", "model", "[E026] Model '{missing}' does not exist."),
        ("annotate", "model-file", "[E026] Model '{file}' is a file, not a folder."),
        ("export", "pipeline", "[E026] Pipeline '{missing}' does not exist."),
        ("export", "pipeline-file", "[E026] Pipeline '{file}' is a file, not a folder."),
        ("export", "out-file", "[E026] Output folder '{file}' is a file, not a folder."),
    ],
)
def test_missing_paths_and_files_where_folders_belong(pipeline, tmp_path, capsys, monkeypatch, command, where, expected):
    missing, file = tmp_path / "missing", tmp_path / "file.txt"
    file.write_text("not a folder")
    path = file if where.endswith("file") else missing
    if command == "annotate":
        argv = ["annotate", path, "--labels", "disease"]
    elif where == "out-file":
        argv = ["export", pipeline, path]
    else:
        argv = ["export", path, tmp_path / "out"]
    code, out, err = run(argv, capsys, monkeypatch, stdin="text")
    assert_one_error_line(code, out, err, expected.format(missing=missing, file=file))
    assert not (tmp_path / "out").exists()


def test_annotate_reports_an_unsupported_checkpoint(tmp_path, capsys, monkeypatch):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "gliner_config.json").write_text(json.dumps({"span_mode": "token_level"}))
    code, out, err = run(["annotate", tmp_path / "bad", "--labels", "x"], capsys, monkeypatch, stdin="a")
    assert_one_error_line(code, out, err, "[E013] The checkpoint uses span_mode='token_level'")


@pytest.mark.slow
def test_the_entry_point_never_shows_a_traceback(tiny_checkpoints, pipeline, tmp_path):
    """Through `python -m spacy_gliner_biomed` itself: bad input ends as one `[E...]` line, status 1."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "gliner_config.json").write_text(json.dumps({"span_mode": "token_level"}))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    cases = {
        "E026": ["annotate", tmp_path / "missing", "--labels", "x"],
        "E092": ["annotate", tiny_checkpoints["uni"]],
        "E013": ["annotate", tmp_path / "bad", "--labels", "x"],
        "E027": ["export", pipeline, tmp_path / "taken"],
        "E006": ["annotate", pipeline, "--threshold", "-1"],
    }
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for code, argv in cases.items():
        result = subprocess.run([sys.executable, "-m", "spacy_gliner_biomed", *map(str, argv)], input="some text\n",
                                capture_output=True, text=True, env=env, cwd=tmp_path)
        assert result.returncode == 1, (argv, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        assert result.stderr.startswith(f"[{code}] ") and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
