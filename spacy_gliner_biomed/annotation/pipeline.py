"""The pipeline an annotation run uses, and its fingerprint."""
import hashlib
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..errors import Errors, GlinerError
from ..labels import validate_thresholds


def build_pipeline(model: str, labels: List[str], threshold: Optional[float], quiet: bool = False):
    """A GLiNER folder gets the given labels and threshold (default 0.5); a saved pipeline keeps
    its own labels and threshold unless they are given (and says which labels it uses)."""
    import spacy
    from spacy.util import is_package

    from ..cli.pipelines import check_folder, load_pipeline
    from ..pipeline_component import get_component

    if threshold is not None:  # checked before a model is loaded, and before anything is printed
        validate_thresholds(threshold, None, ())
    folder = None if is_package(model) else check_folder(model, "Model")
    if folder is not None and (folder / "gliner_config.json").is_file():
        if not labels:
            raise GlinerError(Errors.E092.format(path=model, what="is a GLiNER folder"))
        nlp = spacy.blank("en")
        config = {"checkpoint": str(folder), "labels": labels, "threshold": 0.5 if threshold is None else threshold}
        nlp.add_pipe("gliner_biomed", config=config)
        return nlp
    nlp = load_pipeline(model)
    ner = get_component(nlp, "gliner_biomed")
    if threshold is not None:
        ner.threshold = threshold
    if labels:
        ner.labels = labels
    elif not ner.labels:
        raise GlinerError(Errors.E092.format(path=model, what="is a pipeline without labels"))
    elif not quiet:
        print(f"Labels: {', '.join(ner.labels)} (the pipeline's own; --labels to change)", file=sys.stderr)
    return nlp


def folder_digest(path: Path) -> str:
    """SHA-256 over every file of a folder (relative names and bytes, sorted): its weights, KBs, config."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode("utf-8") + b"\0")
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def pipeline_settings(model: str, nlp, output_format: str) -> Dict[str, Any]:
    """What an output folder's documents depend on: the model's files (or package name and
    version), the pipeline's config as run (labels, thresholds, runtime and precision included),
    and the output format. Batch sizes, engines and worker counts are left out: they do not change
    what is written (the ray engine's output is tested identical to the local one)."""
    from spacy.util import is_package

    if is_package(model):
        source = f"package {model} {nlp.meta.get('version')}"
    else:
        source = folder_digest(Path(model))
    config = hashlib.sha256(nlp.config.to_str().encode("utf-8")).hexdigest()
    return {"model": source, "config": config, "format": output_format}
