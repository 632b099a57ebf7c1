"""Vocabularies for the lexicon teacher: term -> natural-language types.

- MeSH descriptors (`mesh_terms.tsv`: id, name; `mesh_tree_numbers.tsv`: id, name, tree number)
  typed through the editable tree-prefix type map (`data/mesh_type_map.tsv`);
- CTD MEDIC diseases (`CTD_diseases.tsv.gz`): names and synonyms, typed "disease" plus whatever
  their MeSH tree numbers give;
- gold mentions of the corpora a recipe *trains* on (never those it evaluates zero-shot: a
  gazetteer of a test corpus's annotations would make its zero-shot score a supervised one).

MeSH names are inverted and plural ("Cell Line, Tumor", "Neurons"); running text says "tumor cell
line" and "neuron", so both the uninverted form and a singular are added. A term is a string; how
it is matched (case, length rules) is the teacher's business (`lexicon.py`).
"""
import gzip
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

from ..errors import Errors, GlinerError

PathLike = Union[str, Path]
Lexicon = Dict[str, Set[str]]  # term -> types
DATA = Path(__file__).parent / "data"
DEFAULT_TYPE_MAP = DATA / "mesh_type_map.tsv"
DEFAULT_STOPLIST = DATA / "lexicon_stoplist.txt"


def tsv_rows(path: PathLike, n_columns: Sequence[int], skip_header: Optional[str] = None) -> Iterator[Tuple[int, List[str]]]:
    """(line number, columns) of a TSV file (gzip by magic bytes); '#' lines and blank lines skipped.
    A row with a column count not in `n_columns` is an error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise GlinerError(Errors.E150.format(path=path))
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip() or line.startswith("#"):
                    continue
                columns = line.split("\t")
                if skip_header is not None and number == 1 and columns[0] == skip_header:
                    continue
                if len(columns) not in n_columns:
                    raise GlinerError(Errors.E151.format(path=path, line=number, n=len(columns), expected=" or ".join(map(str, n_columns))))
                yield number, columns
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise GlinerError(Errors.E152.format(path=path, err=err)) from None


def load_type_map(path: PathLike = DEFAULT_TYPE_MAP) -> List[Tuple[str, str]]:
    """(tree prefix, type or "-type") rows, in file order."""
    rows = []
    for number, (prefix, type_) in tsv_rows(path, (2,)):
        if not prefix.strip() or not type_.strip("- "):
            raise GlinerError(Errors.E153.format(path=path, line=number))
        rows.append((prefix.strip(), type_.strip()))
    return rows


def types_of_tree_number(tree_number: str, type_map: Sequence[Tuple[str, str]]) -> Set[str]:
    """The types a tree number gets: rows whose prefix it starts with, shorter prefixes first."""
    types: Set[str] = set()
    matching = [(p, t) for p, t in type_map if tree_number == p or tree_number.startswith(p + ".") or (len(p) == 1 and tree_number.startswith(p))]
    for prefix, type_ in sorted(matching, key=lambda row: len(row[0])):
        if type_.startswith("-"):
            types.discard(type_[1:])
        else:
            types.add(type_)
    return types


def surface_forms(name: str) -> List[str]:
    """A vocabulary name as text says it: itself, uninverted ("Cell Line, Tumor" -> "Tumor Cell
    Line"), and the singular of its last word ("Neurons" -> "Neuron")."""
    forms = [name]
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        forms.append(f"{parts[1]} {parts[0]}")
    for form in list(forms):
        head, _, last = form.rpartition(" ")
        singular = _singular(last)
        if singular != last:
            forms.append(f"{head} {singular}".strip())
    return list(dict.fromkeys(forms))


def _singular(word: str) -> str:
    if len(word) <= 4 or not word.isalpha() or word.isupper():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        return word[:-1]
    return word


def _add(lexicon: Lexicon, term: str, types: Iterable[str]) -> None:
    types = set(types)
    if types:
        for form in surface_forms(term.strip()):
            lexicon.setdefault(form, set()).update(types)


def mesh_lexicon(tree_numbers: PathLike, type_map: Sequence[Tuple[str, str]], terms: Optional[PathLike] = None) -> Lexicon:
    """MeSH descriptor names typed by their tree numbers. `terms` (id, name) adds names the tree
    file lacks (descriptors without tree numbers get no type and are left out)."""
    by_id: Dict[str, Set[str]] = {}
    names: Dict[str, str] = {}
    for _, (mesh_id, name, tree_number) in tsv_rows(tree_numbers, (3,), skip_header="mesh_id"):
        by_id.setdefault(mesh_id, set()).update(types_of_tree_number(tree_number, type_map))
        names[mesh_id] = name
    if terms is not None:
        for _, (mesh_id, name) in tsv_rows(terms, (2,), skip_header="mesh_id"):
            names.setdefault(mesh_id, name)
    lexicon: Lexicon = {}
    for mesh_id, name in names.items():
        _add(lexicon, name, by_id.get(mesh_id, ()))
    return lexicon


def ctd_disease_lexicon(path: PathLike, type_map: Sequence[Tuple[str, str]]) -> Lexicon:
    """CTD MEDIC: each disease name and synonym, typed "disease" and by its tree numbers
    (columns: DiseaseName, DiseaseID, AltDiseaseIDs, Definition, ParentIDs, TreeNumbers,
    ParentTreeNumbers, Synonyms, SlimMappings)."""
    lexicon: Lexicon = {}
    for _, columns in tsv_rows(path, (9,)):
        name, tree_numbers, synonyms = columns[0], columns[5], columns[7]
        types = {"disease"}
        for tree_number in filter(None, tree_numbers.split("|")):
            types |= types_of_tree_number(tree_number.split("/")[0], type_map)
        if "sign or symptom" in types or "injury" in types:
            types.discard("disease")
        for term in [name, *filter(None, synonyms.split("|"))]:
            _add(lexicon, term, types)
    return lexicon


def gold_lexicon(docs: Iterable) -> Lexicon:
    """Gold mentions (every span of `doc.spans["gold"]`) -> their labels, exactly as written."""
    from ..keys import GOLD_KEY

    lexicon: Lexicon = {}
    for doc in docs:
        for span in doc.spans.get(GOLD_KEY, doc.ents):
            lexicon.setdefault(span.text, set()).add(span.label_)
    return lexicon


def load_stoplist(path: PathLike = DEFAULT_STOPLIST) -> Set[str]:
    return {columns[0].strip().lower() for _, columns in tsv_rows(path, (1,))}


def merge(*lexicons: Lexicon) -> Lexicon:
    """One lexicon; a term in several gets the union of their types (the conflict rule)."""
    merged: Lexicon = {}
    for lexicon in lexicons:
        for term, types in lexicon.items():
            merged.setdefault(term, set()).update(types)
    return merged
