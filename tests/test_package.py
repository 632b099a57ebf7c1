"""Packaging promises: light import, entry points, registered architectures (the command line is
tested in test_cli.py, the built wheel in test_wheel.py)."""
import subprocess
import sys

import pytest
import spacy


@pytest.mark.slow
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
