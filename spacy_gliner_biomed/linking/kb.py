"""Knowledge-base folders: scispaCy's KB file and candidate index, built offline and reproducibly.

A folder holds
- `kb.jsonl`: scispaCy `Entity` records, sorted by concept id (`KnowledgeBase(path)` reads it);
- `alt_ids.json`: alternative id -> concept id (MEDIC's OMIM ids of a MeSH disease: the same
  disease, so an evaluation counts either id);
- scispaCy's candidate index, in `LinkerPaths.from_directory` layout: a char 3-gram TF-IDF
  vectorizer over every alias and an nmslib HNSW index of the alias vectors (as scispaCy builds
  its own, with `min_df=1` so that small KBs work and one indexing thread so that a rebuild is
  identical);
- `meta.json`: name, format, the sources with their SHA-256, counts, index settings, and the
  checksum of every file above.

scispaCy's own builder (`create_tfidf_ann_index`) refuses scipy >= 1.11 (it saves float16
vectors) and its KBs download at load time; this module writes the same files with float32.
"""
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..about import __version__
from ..errors import Errors, GlinerError
from ..files import replacing_folder, write_atomic
from .sources import Concept, MentionPairs

KB_FORMAT = 1
KB_FILE = "kb.jsonl"
ALT_IDS_FILE = "alt_ids.json"
META_FILE = "meta.json"
INDEX_FILES = ("nmslib_index.bin", "tfidf_vectorizer.joblib", "tfidf_vectors_sparse.npz", "concept_aliases.json")
INDEX_PARAMS = {"M": 30, "efConstruction": 200, "post": 0, "indexThreadQty": 1}


def require_scispacy() -> None:
    """scispaCy (and nmslib, which it brings) is the optional `[scispacy]` extra."""
    try:
        import nmslib  # noqa: F401
        import scispacy  # noqa: F401
    except ImportError as err:
        raise GlinerError(Errors.E190.format(err=err)) from None


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass
class Assembled:
    concepts: List[Concept]
    alt_ids: Dict[str, str]
    stats: Dict[str, Any] = field(default_factory=dict)


def assemble(
    name: str,
    concept_sources: Sequence[Iterable[Concept]],
    mentions: Optional[MentionPairs] = None,
    mention_type: str = "",
    extra_aliases: Iterable[Tuple[str, str, str]] = (),
) -> Assembled:
    """One concept list: ids unique across sources (else E177); training mentions become aliases
    of the concept their id names (through an alternative id if need be), or, for an id no
    vocabulary has (a MeSH supplementary concept, say), a concept of their own typed
    `mention_type`; extra aliases must name a known id (else E178)."""
    by_id: Dict[str, Concept] = {}
    for source in concept_sources:
        for concept in source:
            if concept.concept_id in by_id:
                first = by_id[concept.concept_id].source
                raise GlinerError(Errors.E177.format(name=name, concept_id=concept.concept_id, first=first, second=concept.source))
            by_id[concept.concept_id] = concept
    alt_ids: Dict[str, str] = {}
    for concept in by_id.values():
        for alt in concept.alt_ids:
            if alt not in by_id:
                alt_ids.setdefault(alt, concept.concept_id)
    stats: Dict[str, Any] = {"vocabulary_concepts": len(by_id)}
    if mentions is not None:
        texts: Dict[str, Dict[str, int]] = defaultdict(dict)
        for (concept_id, text), count in sorted(mentions.pairs.items()):
            texts[alt_ids.get(concept_id, concept_id)][text] = count
        new = 0
        for concept_id, counts in sorted(texts.items()):
            ranked = sorted(counts, key=lambda t: (-counts[t], t))
            if concept_id not in by_id:
                new += 1
                by_id[concept_id] = Concept(concept_id, ranked[0], [], [mention_type] if mention_type else [], source="mentions")
            by_id[concept_id].aliases.extend(ranked)
        stats["mentions"] = {
            "pairs": len(mentions.pairs), "new_concepts": new, "composite_skipped": mentions.composite,
            "without_id_skipped": mentions.no_id, "other_labels": mentions.other_labels,
        }
    n_extra = 0
    for alias, concept_id, where in extra_aliases:
        target = by_id.get(alt_ids.get(concept_id, concept_id))
        if target is None:
            raise GlinerError(Errors.E178.format(where=where, alias=alias, concept_id=concept_id, name=name))
        target.aliases.append(alias)
        n_extra += 1
    stats["extra_aliases"] = n_extra
    if not by_id:
        raise GlinerError(Errors.E179.format(name=name, sources="none" if not concept_sources else "all empty"))
    return Assembled([by_id[k] for k in sorted(by_id)], dict(sorted(alt_ids.items())), stats)


def build_kb(
    out: Path,
    name: str,
    assembled: Assembled,
    sources: Sequence[Tuple[str, Path]],
    overwrite: bool = False,
) -> Path:
    """Write the KB folder `out` atomically (whole or not at all); return it."""
    require_scispacy()
    import nmslib
    import numpy
    import scipy.sparse
    from scispacy.linking_utils import KnowledgeBase
    from sklearn.feature_extraction.text import TfidfVectorizer

    out = Path(out)
    if out.exists() and not overwrite:
        raise GlinerError(Errors.E181.format(path=out))
    with replacing_folder(out) as staging:
        lines = [json.dumps(c.record(), ensure_ascii=False, sort_keys=True) for c in assembled.concepts]
        write_atomic(staging / KB_FILE, "\n".join(lines) + "\n")
        write_atomic(staging / ALT_IDS_FILE, json.dumps(assembled.alt_ids, indent=1, sort_keys=True))
        kb = KnowledgeBase(str(staging / KB_FILE))
        aliases = sorted(kb.alias_to_cuis)
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=1, dtype=numpy.float32)
        vectors = vectorizer.fit_transform(aliases)
        # nmslib crashes on all-zero vectors: an alias without any 3-gram is not indexed (counted)
        nonzero = numpy.asarray(vectors.getnnz(axis=1) > 0)
        unindexed = [a for a, keep in zip(aliases, nonzero) if not keep]
        aliases = [a for a, keep in zip(aliases, nonzero) if keep]
        vectors = vectors[nonzero]
        index = nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)
        index.addDataPointBatch(vectors)
        index.createIndex(INDEX_PARAMS, print_progress=False)
        index.saveIndex(str(staging / INDEX_FILES[0]))
        import joblib

        joblib.dump(vectorizer, staging / INDEX_FILES[1])
        scipy.sparse.save_npz(staging / INDEX_FILES[2], vectors.astype(numpy.float32))
        write_atomic(staging / INDEX_FILES[3], json.dumps(aliases, ensure_ascii=False))
        meta = {
            "name": name,
            "format": KB_FORMAT,
            "built_by": f"spacy-gliner-biomed {__version__}",
            "sources": [{"kind": kind, "path": str(path), "sha256": sha256(Path(path))} for kind, path in sources],
            "n_concepts": len(assembled.concepts),
            "n_aliases": len(aliases) + len(unindexed),
            "n_indexed_aliases": len(aliases),
            "unindexed_aliases": unindexed[:20],
            "n_alt_ids": len(assembled.alt_ids),
            "types": dict(sorted(_type_counts(assembled.concepts).items())),
            "assembly": assembled.stats,
            "index": {"vectorizer": "char_wb 3-gram tf-idf, min_df=1", "ann": "nmslib hnsw cosinesimil_sparse", **INDEX_PARAMS},
            "files": {f: sha256(staging / f) for f in (KB_FILE, ALT_IDS_FILE, INDEX_FILES[2], INDEX_FILES[3])},
        }
        write_atomic(staging / META_FILE, json.dumps(meta, indent=2, ensure_ascii=False))
    return out


def _type_counts(concepts: Sequence[Concept]) -> Dict[str, int]:
    counts: Dict[str, int] = defaultdict(int)
    for concept in concepts:
        for type_ in set(concept.types) or {"(untyped)"}:
            counts[type_] += 1
    return counts


@dataclass
class LoadedKB:
    """A KB folder loaded: scispaCy's `KnowledgeBase` and `CandidateGenerator`, and our extras."""

    path: Path
    meta: Dict[str, Any]
    kb: Any  # scispacy.linking_utils.KnowledgeBase
    generator: Any  # scispacy.candidate_generation.CandidateGenerator
    alt_ids: Dict[str, str]

    def canonical_id(self, concept_id: str) -> str:
        return self.alt_ids.get(concept_id, concept_id)


def check_kb_folder(path: Path) -> Dict[str, Any]:
    """The folder's meta.json, after checking that every file is there (E180 names what is not)."""
    path = Path(path)
    if not path.is_dir():
        raise GlinerError(Errors.E180.format(path=path, problem="no such folder"))
    missing = [f for f in (META_FILE, KB_FILE, ALT_IDS_FILE, *INDEX_FILES) if not (path / f).is_file()]
    if missing:
        raise GlinerError(Errors.E180.format(path=path, problem=f"missing {', '.join(missing)}"))
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise GlinerError(Errors.E180.format(path=path, problem=f"unreadable {META_FILE} ({err})")) from None
    if meta.get("format") != KB_FORMAT:
        raise GlinerError(Errors.E180.format(path=path, problem=f"format {meta.get('format')!r}, expected {KB_FORMAT}"))
    return meta


def load_kb(path: Path, ef_search: int = 200) -> LoadedKB:
    require_scispacy()
    from scispacy.candidate_generation import CandidateGenerator, LinkerPaths
    from scispacy.linking_utils import KnowledgeBase

    path = Path(path)
    meta = check_kb_folder(path)
    kb = KnowledgeBase(str(path / KB_FILE))
    aliases, vectorizer, index = LinkerPaths.from_directory(str(path)).load(ef_search=ef_search)
    generator = CandidateGenerator(index, vectorizer, aliases, kb)
    alt_ids = json.loads((path / ALT_IDS_FILE).read_text(encoding="utf8"))
    return LoadedKB(path, meta, kb, generator, alt_ids)
