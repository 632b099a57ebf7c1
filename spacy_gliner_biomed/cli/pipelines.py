"""Loading what a command is given, with a clear error for a path that is not there or not a folder."""
from pathlib import Path

from ..errors import Errors, GlinerError


def check_folder(path: str, what: str) -> Path:
    """`path` must be an existing folder."""
    folder = Path(path)
    if not folder.exists():
        raise GlinerError(Errors.E026.format(what=what, path=path, problem="does not exist"))
    if not folder.is_dir():
        raise GlinerError(Errors.E026.format(what=what, path=path, problem="is a file, not a folder"))
    return folder


def load_pipeline(name: str):
    """`spacy.load` of a folder or an installed pipeline package."""
    import spacy
    from spacy.util import is_package

    if not is_package(name):
        check_folder(name, "Pipeline")
    try:
        return spacy.load(name)
    except (OSError, ValueError) as err:
        if isinstance(err, GlinerError):
            raise
        raise GlinerError(Errors.E081.format(path=name, err=str(err).splitlines()[0])) from err
