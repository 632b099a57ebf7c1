"""Annotating text at scale: input shards in, one output shard per input shard out.

- `pipeline`: the pipeline a run uses (a saved pipeline or a GLiNER folder, with overrides), and
  the fingerprint that says whether an output folder was written by the same one;
- `records`: what is written per document (offsets, labels, scores, kb ids);
- `shards`: one input shard annotated into one output shard, written atomically; the manifest
  that records finished shards, so a restarted run does only the missing ones;
- `engines`: `local` (this process, `nlp.pipe`) and `ray` (Ray Data actors, one pipeline per actor).

`python -m spacy_gliner_biomed annotate PIPELINE --input GLOB --output DIR [--engine ray]` is the
command line. Ray is the optional `[ray]` extra and is imported only by the ray engine.
"""
