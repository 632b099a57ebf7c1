"""Entity-type lists for teachers: which open types to ask of every document.

The shipped list (`teachers/data/biomedical_types.json`) names ~100 biomedical types across
molecular biology, chemistry and pharmacology, organisms, anatomy, clinical medicine, clinical
trials and public health, each with a one-sentence description the model reads as its prompt.

A type list is a file in one of two layouts:

- JSON (`*.json`): a list of `{"label": ..., "description": ...}` objects, as the shipped file
  (`description` may be left out: the label is then its own prompt);
- text (any other name): one type a line, either `label` or `label<TAB>description`; blank lines
  and lines starting with `#` are skipped.

`load_type_list` returns `{label: description}`, which a `gliner_biomed` component (and
`LabelSet.from_arg`) takes as its labels. A bad line or a duplicate label or description is an
error naming the file and the line.
"""
import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from ..errors import Errors, GlinerError
from ..labels import LabelSet

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_TYPE_LIST = DATA_DIR / "biomedical_types.json"

# (line number, label, description) per entry of a file
_Entry = Tuple[int, object, object]


def load_type_list(path: Optional[Union[str, Path]] = None) -> Dict[str, str]:
    """The types of the list at `path` (default: the shipped biomedical list), as
    `{label: description}` in file order."""
    path = DEFAULT_TYPE_LIST if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError) as err:
        problem = "does not exist" if not path.exists() else f"cannot be read ({err})"
        raise GlinerError(Errors.E143.format(path=path, problem=problem)) from err
    entries = _json_entries(path, text) if path.suffix.lower() == ".json" else _text_entries(path, text)
    types: Dict[str, str] = {}
    first_line: Dict[str, int] = {}
    by_description: Dict[str, Tuple[str, int]] = {}
    for line, label, description in entries:
        where = f"{path}, line {line}"
        try:
            LabelSet.from_arg([[label, description]])  # non-empty strings, as the component requires
        except GlinerError as err:
            problem = f"the label and its description must be non-empty strings; got {label!r} and {description!r}"
            raise GlinerError(Errors.E145.format(where=where, problem=problem)) from err
        if label in first_line:
            raise GlinerError(Errors.E146.format(where=where, what="label", value=label, first=first_line[label]))
        if description in by_description:
            owner, first = by_description[description]
            raise GlinerError(
                Errors.E146.format(where=where, what=f"description (also of {owner!r})", value=description, first=first)
            )
        types[label] = description
        first_line[label] = line
        by_description[description] = (label, line)
    if not types:
        raise GlinerError(Errors.E148.format(what=f"Type list '{path}'"))
    LabelSet.from_arg(types)
    return types


def _text_entries(path: Path, text: str) -> Iterator[_Entry]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        columns = [c.strip() for c in raw.rstrip("\r\n").split("\t")]
        if len(columns) > 2:
            raise GlinerError(
                Errors.E145.format(
                    where=f"{path}, line {number}",
                    problem=f"{len(columns)} tab-separated columns; a line is `label` or `label<TAB>description`: {raw!r}",
                )
            )
        label = columns[0]
        yield number, label, columns[1] if len(columns) == 2 else label


def _json_entries(path: Path, text: str) -> List[_Entry]:
    """The list's items with the line each starts on (the items are decoded one by one, so an
    error can name its line)."""
    decoder = json.JSONDecoder()

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def fail(pos: int, problem: str) -> GlinerError:
        return GlinerError(Errors.E144.format(where=f"{path}, line {line_of(pos)}", problem=problem))

    pos = skip(1 if text.startswith("\ufeff") else 0)
    if not text.startswith("[", pos):
        raise fail(pos, "a type list in JSON is a list of {\"label\": ..., \"description\": ...} objects")
    pos = skip(pos + 1)
    entries: List[_Entry] = []
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                item, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as err:
                raise fail(err.pos, f"not valid JSON ({err.msg})") from err
            if not isinstance(item, dict) or "label" not in item or not set(item) <= {"label", "description"}:
                raise fail(pos, f"expected an object {{\"label\": ..., \"description\": ...}}; got {item!r}")
            entries.append((line_of(pos), item["label"], item.get("description", item["label"])))
            pos = skip(end)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
            elif text.startswith("]", pos):
                pos += 1
                break
            else:
                raise fail(pos, "expected ',' or ']' after an item")
    if skip(pos) != len(text):
        raise fail(skip(pos), "unexpected text after the list")
    return entries
