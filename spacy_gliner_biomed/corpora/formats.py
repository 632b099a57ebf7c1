"""The readers by format name, as `convert --format` and the registered corpus readers name them."""
from typing import Callable, Dict, List, Tuple

from spacy.tokens import Doc

from ..errors import Errors, GlinerError
from .brat import read_brat
from .gliner_json import read_gliner_json
from .iob2 import read_iob2
from .pubtator import read_pubtator
from .report import ConversionReport

Reader = Callable[..., Tuple[List[Doc], ConversionReport]]
READERS: Dict[str, Reader] = {
    "iob2": read_iob2,
    "pubtator": read_pubtator,
    "brat": read_brat,
    "gliner-json": read_gliner_json,
}
# Formats whose doc ids (PMIDs, file stems) identify the same document across splits.
ID_FORMATS = ("pubtator", "brat")


def get_reader(fmt: str) -> Reader:
    if fmt not in READERS:
        raise GlinerError(Errors.E067.format(format=fmt, formats=sorted(READERS)))
    return READERS[fmt]
