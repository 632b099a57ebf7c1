"""`build-kb NAME --out DIR [sources]`: a knowledge-base folder for linking, offline.

    python -m spacy_gliner_biomed build-kb medic --out kbs/medic \\
        --medic assets/vocab/CTD_diseases.tsv.gz \\
        --mentions corpus/ncbi-disease/train.spacy corpus/bc5cdr/train.spacy --mention-labels disease

Sources: `--medic` (CTD MEDIC diseases), `--mesh` (MeSH tree numbers, `--mesh-terms` for names,
`--tree-prefix D` for one branch), `--jsonl` (scispaCy KB records); aliases from `--mentions`
(training-split .spacy files with concept ids, as `convert` writes PubTator corpora) and
`--aliases` (TSV `alias<TAB>concept_id`). The folder is written whole or not at all.
"""
import argparse
import sys
import time
from pathlib import Path

from ..errors import Errors, GlinerError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("build-kb", help="build a knowledge base + candidate index for entity linking")
    p.add_argument("name", help="the KB's name (in its meta.json and in the linker's `kbs`)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--medic", default=None, help="CTD MEDIC diseases (CTD_diseases.tsv[.gz])")
    p.add_argument("--mesh", default=None, help="MeSH tree numbers (mesh_id, mesh_name, mesh_tree_number)")
    p.add_argument("--mesh-terms", default=None, help="MeSH names (mesh_id, mesh_name) for descriptors the tree file lacks")
    p.add_argument("--tree-prefix", nargs="+", default=[], help="keep MeSH descriptors of these tree branches (e.g. D)")
    p.add_argument("--jsonl", nargs="+", default=[], help="scispaCy KB records (JSON lines)")
    p.add_argument("--type-map", default=None, help="tree prefix -> type TSV (default: the shipped one)")
    p.add_argument("--mentions", nargs="+", default=[], help="training .spacy files whose gold spans carry concept ids")
    p.add_argument("--mention-labels", nargs="+", default=[], help="labels whose mentions become aliases")
    p.add_argument("--mention-type", default=None, help="type of concepts only mentions define (default: the first label)")
    p.add_argument("--aliases", nargs="+", default=[], help="TSV files alias<TAB>concept_id")
    p.add_argument("--overwrite", action="store_true")


def run(args: argparse.Namespace) -> int:
    from ..corpora.docbin import read_docbin
    from ..keys import SPLIT_KEY
    from ..linking.kb import assemble, build_kb, require_scispacy
    from ..linking.sources import alias_pairs, jsonl_concepts, medic_concepts, mention_pairs, mesh_concepts
    from ..teachers.vocabularies import DEFAULT_TYPE_MAP, load_type_map

    require_scispacy()
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise GlinerError(Errors.E181.format(path=out))
    if not (args.medic or args.mesh or args.jsonl):
        raise GlinerError(Errors.E185.format(name=args.name))
    if args.mentions and not args.mention_labels:
        raise GlinerError(Errors.E186.format(what="--mention-labels (with --mentions)", expected="one or more labels", value=[]))
    start = time.perf_counter()
    type_map = load_type_map(args.type_map or DEFAULT_TYPE_MAP)
    sources, concept_sources = [], []
    if args.medic:
        sources.append(("medic", Path(args.medic)))
        concept_sources.append(list(medic_concepts(args.medic, type_map)))
    if args.mesh:
        sources.append(("mesh", Path(args.mesh)))
        if args.mesh_terms:
            sources.append(("mesh-terms", Path(args.mesh_terms)))
        concept_sources.append(list(mesh_concepts(args.mesh, type_map, args.mesh_terms, args.tree_prefix)))
    for path in args.jsonl:
        sources.append(("jsonl", Path(path)))
        concept_sources.append(list(jsonl_concepts(path)))
    mentions = None
    if args.mentions:
        docs = []
        for path in args.mentions:
            these = read_docbin(path)
            n_test = sum(d.user_data.get(SPLIT_KEY) == "test" for d in these)
            if n_test:
                raise GlinerError(Errors.E189.format(path=path, n=n_test))
            sources.append(("mentions", Path(path)))
            docs += these
        mentions = mention_pairs(docs, args.mention_labels)
    extra = []
    for path in args.aliases:
        sources.append(("aliases", Path(path)))
        extra += list(alias_pairs(path))
    assembled = assemble(args.name, concept_sources, mentions, args.mention_type or (args.mention_labels or [""])[0], extra)
    build_kb(out, args.name, assembled, sources, overwrite=args.overwrite)
    import json

    meta = json.loads((out / "meta.json").read_text(encoding="utf8"))
    print(
        f"Built KB {args.name!r}: {meta['n_concepts']} concepts, {meta['n_indexed_aliases']} indexed aliases "
        f"({meta['n_aliases'] - meta['n_indexed_aliases']} without 3-grams), in {time.perf_counter() - start:.0f} s -> {out}",
        file=sys.stderr,
    )
    return 0
