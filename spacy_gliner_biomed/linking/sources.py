"""Concepts for a knowledge base, from the vocabularies the project ships recipes for.

- CTD MEDIC (`CTD_diseases.tsv.gz`): one concept per disease, its MeSH or OMIM id, name, synonyms,
  definition, and its alternative ids (OMIM, DO), which name the same disease;
- MeSH descriptors (`mesh_tree_numbers.tsv`, `mesh_terms.tsv`), optionally limited to tree
  branches (`D` for chemicals and drugs), typed by the editable tree-prefix type map;
- a knowledge base in scispaCy's JSON lines format (`concept_id`, `canonical_name`, `aliases`,
  `types`, `definition`), for vocabularies the project has no reader for;
- mention -> id pairs of training corpora (TaggerOne's trick: the way annotators wrote a concept
  is the best alias of it), and a TSV of extra aliases.

Concept ids are written as PubTator corpora write them: MeSH ids bare (`D002945`), others with
their prefix (`OMIM:215600`), so gold ids and predicted ids compare as strings.
"""
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..errors import Errors, GlinerError
from ..keys import GOLD_KEY
from ..teachers.vocabularies import PathLike, tsv_rows, surface_forms, types_of_tree_number


@dataclass
class Concept:
    concept_id: str
    canonical_name: str
    aliases: List[str] = field(default_factory=list)
    types: List[str] = field(default_factory=list)
    definition: Optional[str] = None
    alt_ids: List[str] = field(default_factory=list)
    source: str = ""

    def record(self) -> Dict[str, object]:
        """The scispaCy `Entity` record (what `scispacy.linking_utils.KnowledgeBase` reads)."""
        aliases = [a for a in dict.fromkeys(self.aliases) if a.strip() and a != self.canonical_name]
        return {
            "concept_id": self.concept_id,
            "canonical_name": self.canonical_name,
            "aliases": aliases,
            "types": sorted(set(self.types)),
            "definition": self.definition or None,
        }


MEDIC_ROOT = "MESH:C"


def normalise_id(concept_id: str) -> str:
    """`MESH:D002945` -> `D002945` (PubTator's form); every other prefix is kept."""
    concept_id = concept_id.strip()
    return concept_id[5:] if concept_id.upper().startswith("MESH:") else concept_id


def medic_concepts(path: PathLike, type_map: Sequence[Tuple[str, str]]) -> Iterator[Concept]:
    """CTD MEDIC rows (DiseaseName, DiseaseID, AltDiseaseIDs, Definition, ParentIDs, TreeNumbers,
    ParentTreeNumbers, Synonyms, SlimMappings): typed "disease" plus what their tree numbers give.
    The root row ("Diseases", `MESH:C`, the tree's category) is no disease and is left out: its
    alias "Disease" would be the nearest candidate of every "X disease" the KB lacks."""
    for _, columns in tsv_rows(path, (9,)):
        name, concept_id, alt_ids, definition, tree_numbers, synonyms = (
            columns[0], columns[1], columns[2], columns[3], columns[5], columns[7]
        )
        if concept_id.strip().upper() == MEDIC_ROOT:
            continue
        types = {"disease"}
        for tree_number in filter(None, tree_numbers.split("|")):
            types |= types_of_tree_number(tree_number.split("/")[0], type_map)
        aliases = [form for term in [name, *filter(None, synonyms.split("|"))] for form in surface_forms(term.strip())]
        yield Concept(
            normalise_id(concept_id), name.strip(), aliases, sorted(types), definition.strip() or None,
            [normalise_id(a) for a in alt_ids.split("|") if a.strip()], source=str(path),
        )


def mesh_concepts(
    tree_numbers: PathLike,
    type_map: Sequence[Tuple[str, str]],
    terms: Optional[PathLike] = None,
    tree_prefixes: Sequence[str] = (),
) -> Iterator[Concept]:
    """MeSH descriptors with their tree numbers' types; with `tree_prefixes`, only descriptors
    with a tree number in one of those branches (`D` = chemicals and drugs). `terms` adds names
    for descriptors the tree file lists without one."""
    names: Dict[str, str] = {}
    trees: Dict[str, List[str]] = {}
    for _, (mesh_id, name, tree_number) in tsv_rows(tree_numbers, (3,), skip_header="mesh_id"):
        names.setdefault(mesh_id, name)
        trees.setdefault(mesh_id, []).append(tree_number)
    if terms is not None:
        for _, (mesh_id, name) in tsv_rows(terms, (2,), skip_header="mesh_id"):
            names.setdefault(mesh_id, name)
    for mesh_id in sorted(trees):
        numbers = trees[mesh_id]
        if tree_prefixes and not any(n == p or n.startswith(p if len(p) == 1 else p + ".") for n in numbers for p in tree_prefixes):
            continue
        types = set().union(*(types_of_tree_number(n, type_map) for n in numbers))
        yield Concept(normalise_id(mesh_id), names[mesh_id], surface_forms(names[mesh_id]), sorted(types), source=str(tree_numbers))


def jsonl_concepts(path: PathLike) -> Iterator[Concept]:
    """Records of scispaCy's KB format, one JSON object a line (`alt_ids` is an optional extra)."""
    from ..text.readers import read_json_objects

    for number, record in read_json_objects(path):
        where = f"{path}, line {number}"
        if not all(isinstance(record.get(k), str) and record[k].strip() for k in ("concept_id", "canonical_name")):
            raise GlinerError(Errors.E182.format(where=where, record=json.dumps(record)[:120]))
        yield Concept(
            record["concept_id"].strip(), record["canonical_name"].strip(), list(record.get("aliases") or []),
            list(record.get("types") or []), record.get("definition"), list(record.get("alt_ids") or []),
            source=where,
        )


def alias_pairs(path: PathLike) -> Iterator[Tuple[str, str, str]]:
    """(alias, concept id, where) rows of a TSV `alias<TAB>concept_id` file."""
    for number, (alias, concept_id) in tsv_rows(path, (2,)):
        yield alias.strip(), normalise_id(concept_id), f"{path}, line {number}"


@dataclass
class MentionPairs:
    """Gold mention -> concept id pairs of training corpora, with what could not be used."""

    pairs: Counter = field(default_factory=Counter)  # (concept id, mention text) -> count
    composite: int = 0  # ids like `D1|D2`: a mention of several concepts is no alias of any one
    no_id: int = 0  # `-1` or empty: the annotators found no concept
    other_labels: int = 0


def mention_pairs(docs: Iterable, labels: Sequence[str]) -> MentionPairs:
    """Pairs from the gold spans (with `kb_id_`) of `labels` in converted training docs."""
    out = MentionPairs()
    wanted = set(labels)
    for doc in docs:
        for span in doc.spans[GOLD_KEY] if GOLD_KEY in doc.spans else doc.ents:
            if span.label_ not in wanted:
                out.other_labels += 1
            elif span.kb_id_.strip() in ("", "-1"):
                out.no_id += 1
            elif any(sep in span.kb_id_ for sep in "|+,"):
                out.composite += 1
            else:
                out.pairs[(normalise_id(span.kb_id_), span.text)] += 1
    return out
