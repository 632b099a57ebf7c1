__title__ = "spacy-gliner-biomed"
__version__ = "0.1.0"
