"""A registered candidate generator, so scispaCy's own `scispacy_linker` uses a KB folder:

    [components.scispacy_linker.candidate_generator]
    @misc = "spacy_gliner_biomed.KBCandidateGenerator.v1"
    kb_dir = "kbs/medic"

scispaCy's named linkers live in module dictionaries and download at load time; a registered
function builds the generator from a folder instead, with no patching of those dictionaries.
`spacy.load` calls it again, so `kb_dir` must exist where the pipeline is loaded (a path relative
to the working directory, or absolute). `gliner_biomed_linker` carries its KBs inside the pipeline.
"""
from pathlib import Path

from spacy.util import registry


@registry.misc("spacy_gliner_biomed.KBCandidateGenerator.v1")
def make_kb_candidate_generator(kb_dir: str, ef_search: int = 200):
    from .kb import load_kb

    return load_kb(Path(kb_dir), ef_search).generator
