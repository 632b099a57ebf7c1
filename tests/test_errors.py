"""Errors and warnings live in errors.py, one code per message, each code used somewhere."""
import re
from pathlib import Path

from spacy_gliner_biomed.errors import Errors, Warnings

PACKAGE = Path(__file__).resolve().parents[1] / "spacy_gliner_biomed"
ERRORS_FILE = PACKAGE / "errors.py"


def _sources():
    return {p: p.read_text(encoding="utf8") for p in PACKAGE.rglob("*.py") if p != ERRORS_FILE}


def _defined():
    return re.findall(r"^    ([EW]\d{3}) = ", ERRORS_FILE.read_text(encoding="utf8"), flags=re.M)


def test_every_code_is_defined_once():
    codes = _defined()
    assert len(codes) > 80
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    assert not duplicates  # a second assignment would silently replace the first message


def test_every_code_is_used_and_every_use_is_defined():
    used = set()
    for text in _sources().values():
        used |= set(re.findall(r"\b(?:Errors|Warnings)\.([EW]\d{3})\b", text))
    defined = set(_defined())
    assert defined - used == set(), "defined but never raised"
    assert used - defined == set(), "raised but not defined"


def test_no_message_is_written_inline():
    """No "[E0..]" / "[W0..]" literal outside errors.py: the code comes from the metaclass."""
    inline = {str(p.relative_to(PACKAGE)): re.findall(r"\[[EW]\d{3}\]", text) for p, text in _sources().items()}
    assert {p: codes for p, codes in inline.items() if codes} == {}


def test_codes_prefix_their_message():
    assert Errors.E001.startswith("[E001] No entity labels")
    assert Warnings.W002.startswith("[W002] A word of")
