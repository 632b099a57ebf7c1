"""scispaCy's abbreviation detector, found by entry point.

scispaCy declares no entry points, so a saved pipeline with `abbreviation_detector` loads only
after `import scispacy.abbreviation`. This package's entry point names that factory and imports
it here, so `spacy.load` just works. The import is light (spaCy's Matcher only) and optional:
without scispaCy nothing is registered, and spaCy says the factory is unknown. scispaCy's linker
is left out on purpose: its import pulls in scikit-learn and nmslib, and spaCy imports every
factory entry point whenever it creates any pipeline (`import scispacy.linking` before loading a
pipeline with `scispacy_linker`, as scispaCy documents; `gliner_biomed_linker` needs nothing).
"""
try:
    from scispacy.abbreviation import AbbreviationDetector
except ImportError:  # the optional [scispacy] extra is not installed
    AbbreviationDetector = None

__all__ = ["AbbreviationDetector"]
