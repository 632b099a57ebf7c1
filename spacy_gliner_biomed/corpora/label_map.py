"""The label map: each dataset's source entity types -> natural-language labels the model reads.

The default map ships inside the package (`spacy_gliner_biomed/data/label_map.json`), so a wheel
install converts the known datasets; `--label-map PATH` / `label_map=PATH` names an edited copy.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union

from ..errors import Errors, GlinerError

DEFAULT_LABEL_MAP = Path(__file__).resolve().parents[1] / "data" / "label_map.json"
PathLike = Union[str, Path]


@dataclass(frozen=True)
class TypeMap:
    """One dataset's entry of the label map: source type -> natural-language label."""

    dataset: str
    types: Dict[str, str]
    source: Path

    @property
    def labels(self) -> List[str]:
        return sorted(set(self.types.values()))

    def label(self, source_type: str, where: str) -> str:
        if source_type not in self.types:
            raise GlinerError(
                Errors.E041.format(
                    where=where, type=source_type, dataset=self.dataset, known=sorted(self.types), path=self.source
                )
            )
        return self.types[source_type]


def load_label_map(path: Optional[PathLike] = None) -> Dict[str, Dict[str, str]]:
    """The whole label map file: {dataset: {source_type: natural_label}}."""
    path = Path(path) if path is not None else DEFAULT_LABEL_MAP
    if not path.is_file():
        raise GlinerError(Errors.E050.format(path=path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GlinerError(Errors.E051.format(path=path, err=err)) from None
    ok = isinstance(data, dict) and all(
        isinstance(types, dict) and all(isinstance(v, str) and v.strip() for v in types.values())
        for types in data.values()
    )
    if not ok:
        raise GlinerError(Errors.E052.format(path=path))
    return data


def get_type_map(dataset: str, label_map: Optional[PathLike] = None, required: bool = True) -> Optional[TypeMap]:
    """The dataset's entry; None only where a mapping is optional (GLiNER JSON) and there is none."""
    path = Path(label_map) if label_map is not None else DEFAULT_LABEL_MAP
    data = load_label_map(path)
    if dataset in data:
        return TypeMap(dataset, dict(data[dataset]), path)
    if not required:
        return None
    raise GlinerError(Errors.E053.format(dataset=dataset, path=path))
