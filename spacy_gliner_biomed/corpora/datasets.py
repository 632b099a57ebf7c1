"""The public datasets the recipe converts, and where each split lies in a data folder laid out as
`../shared/data` (and `assets/`, which `project.yml` fills from the same public origins)."""
from dataclasses import dataclass
from typing import Dict, Optional

from ..errors import Errors, GlinerError
from ..keys import DATASET_DOMAINS, SPLITS


@dataclass(frozen=True)
class Source:
    format: str
    path: str  # relative to the data folder


def _mtl(name: str) -> Dict[str, Source]:
    return {s: Source("iob2", f"bio/{name}/iob/{f}.tsv") for s, f in zip(SPLITS, ("train", "devel", "test"))}


_BIO_DATASETS: Dict[str, Dict[str, Source]] = {
    # PubTator rather than IOB for the two corpora that have it: concept ids, whole abstracts.
    "ncbi-disease": {
        "train": Source("pubtator", "bio/ncbi-disease/pubtator/NCBItrainset_corpus.txt"),
        "dev": Source("pubtator", "bio/ncbi-disease/pubtator/NCBIdevelopset_corpus.txt"),
        "test": Source("pubtator", "bio/ncbi-disease/pubtator/NCBItestset_corpus.txt"),
    },
    "bc5cdr": {
        "train": Source("pubtator", "bio/bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt"),
        "dev": Source("pubtator", "bio/bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt"),
        "test": Source("pubtator", "bio/bc5cdr/pubtator/CDR_TestSet.PubTator.txt"),
    },
    "bc2gm": _mtl("bc2gm"),
    "jnlpba": {
        "train": Source("brat", "bio/jnlpba/standoff/train"),
        "dev": Source("iob2", "bio/jnlpba/iob/devel.tsv"),
        "test": Source("iob2", "bio/jnlpba/iob/test.tsv"),
    },
    "linnaeus": _mtl("linnaeus"),
    "bionlp13cg": _mtl("bionlp13cg"),
}
_GENERAL_DATASETS = (
    "conll2003", "mit-movie", "mit-restaurant", "crossner_ai", "crossner_literature", "crossner_music",
    "crossner_politics", "crossner_science", "WikiANN-en", "TweetNER7", "broad_twitter_corpus", "HarveyNER",
    "FabNER", "Ontonotes", "MultiNERD", "WikiNeural",
)
_DEV_TEST_ONLY = ("Ontonotes", "MultiNERD", "WikiNeural")
DATASETS = tuple(_BIO_DATASETS) + _GENERAL_DATASETS


def dataset_domain(name: Optional[str]) -> Optional[str]:
    """"biomedical" or "general" (`DATASET_DOMAINS`) for a known dataset, None for any other name
    (a user's corpus)."""
    biomedical, general = DATASET_DOMAINS
    if name in _BIO_DATASETS:
        return biomedical
    if name in _GENERAL_DATASETS:
        return general
    return None


def dataset_sources(name: str) -> Dict[str, Source]:
    """{split: Source} of a known dataset."""
    if name in _BIO_DATASETS:
        return _BIO_DATASETS[name]
    if name in _GENERAL_DATASETS:
        splits = ("dev", "test") if name in _DEV_TEST_ONLY else SPLITS
        return {s: Source("iob2", f"general/{name}/{s}.txt") for s in splits}
    raise GlinerError(Errors.E066.format(name=name, known=", ".join(DATASETS)))
