"""spacy-gliner-biomed: open-type biomedical NER (GLiNER span scoring) as a native spaCy component.

Importing the package stays light; torch/transformers work happens when a model is built.
"""
from .about import __version__

__all__ = ["__version__"]
