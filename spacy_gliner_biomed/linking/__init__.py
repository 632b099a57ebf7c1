"""Entity linking after `gliner_biomed`: offline knowledge bases for scispaCy, and a linker that
sends each entity label to its own KB.

- `sources`: concepts from CTD MEDIC, MeSH, scispaCy JSON lines and training mentions;
- `kb`: building and loading KB folders (scispaCy's KB file + TF-IDF/nmslib candidate index);
- `candidates`: the registered candidate generator for scispaCy's own `scispacy_linker`;
- `component`: the `gliner_biomed_linker` factory.

Nothing here imports scispaCy at import time (it is the optional `[scispacy]` extra).
"""
