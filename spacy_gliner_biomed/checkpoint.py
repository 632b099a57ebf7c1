"""GLiNER checkpoint folders in, GLiNER checkpoint folders out.

A GLiNER folder holds `gliner_config.json`, weights (`model.safetensors`, or `pytorch_model.bin`
read with `torch.load(weights_only=True)`), the text tokenizer's files and, for a bi-encoder,
`labels_tokenizer/`. The backbone is built from the config's `encoder_config` /
`labels_encoder_config` (never from the model hub). Loading is strict: a missing or unexpected
weight, or one of the wrong shape, is an error (the reference's `strict=False` would silently keep
random weights).

The same folder layout is also how a component serializes its model (see `layers/shim.py`), so
there is one loader and one writer.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from . import defaults
from .errors import Errors, GlinerError
from .files import replacing_folder
from .layers.featurize import GlinerFeaturizer
from .layers.span_model import GlinerSpanModel, SpanModelSettings

CONFIG_NAME = "gliner_config.json"
SAFETENSORS_NAME = "model.safetensors"
PICKLE_WEIGHTS_NAME = "pytorch_model.bin"
LABELS_TOKENIZER_DIR = "labels_tokenizer"

# gliner_config.json fields that select a model this package does not implement:
# field -> (test that the value is supported, what is supported).
_SUPPORTED_VALUES = {
    "labels_decoder": (lambda v: not v, "no labels decoder"),
    "relations_layer": (lambda v: not v, "no relation layer"),
    "post_fusion_schema": (lambda v: not v, "no post-fusion ('')"),
    "fuse_layers": (lambda v: not v, "fuse_layers=false"),
    "precomputed_prompts_mode": (lambda v: not v, "precomputed_prompts_mode=false"),
    "subtoken_pooling": (lambda v: v in (None, "first"), "'first'"),
    "span_mode": (lambda v: v in (None, "markerV0"), "'markerV0'"),
}


@dataclass
class GlinerCheckpoint:
    """A loaded GLiNER model: its config (as JSON), torch module and featurizer."""

    config: Dict[str, Any]
    model: GlinerSpanModel
    featurizer: GlinerFeaturizer

    @property
    def max_len(self) -> int:
        return int(self.config.get("max_len", defaults.MAX_LEN))

    @property
    def max_width(self) -> int:
        return int(self.config.get("max_width", defaults.MAX_WIDTH))

    @property
    def is_bi_encoder(self) -> bool:
        return self.model.is_bi_encoder


def read_config(path: Union[str, Path]) -> Dict[str, Any]:
    """Read and validate `gliner_config.json` (cheap: no weights are touched)."""
    path = Path(path)
    if not path.exists():
        raise GlinerError(Errors.E010.format(path=path))
    config_file = path / CONFIG_NAME
    if not config_file.is_file():
        raise GlinerError(Errors.E011.format(path=path))
    try:
        config = json.loads(config_file.read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise GlinerError(Errors.E012.format(path=config_file, err=err)) from err
    if not isinstance(config, dict):
        raise GlinerError(Errors.E012.format(path=config_file, err="the JSON is not an object"))
    check_supported(config)
    return config


def check_supported(config: Dict[str, Any]) -> None:
    for field, (is_supported, supported) in _SUPPORTED_VALUES.items():
        if not is_supported(config.get(field)):
            raise GlinerError(Errors.E013.format(field=field, value=config.get(field), supported=supported))


def load_checkpoint(path: Union[str, Path]) -> GlinerCheckpoint:
    """Load a GLiNER folder: config, tokenizer(s), backbone(s) built offline, weights (strict)."""
    path = Path(path)
    config = read_config(path)
    tokenizer = _load_tokenizer(path, config.get("model_name"), path)
    is_bi = bool(config.get("labels_encoder"))
    labels_tokenizer = None
    if is_bi:
        labels_dir = path / LABELS_TOKENIZER_DIR
        if (labels_dir / "tokenizer_config.json").is_file():
            labels_tokenizer = _auto_tokenizer(labels_dir)
        elif _is_local_dir(config["labels_encoder"]):
            labels_tokenizer = _auto_tokenizer(config["labels_encoder"])
        else:
            raise GlinerError(Errors.E018.format(path=path, name=config["labels_encoder"]))
    config["encoder_config"] = _encoder_config_dict(config, "encoder_config", "model_name", path)
    if is_bi:
        config["labels_encoder_config"] = _encoder_config_dict(config, "labels_encoder_config", "labels_encoder", path)
    weights = load_weights(path)
    checkpoint = build_checkpoint(config, tokenizer, labels_tokenizer, path)
    _load_strict(checkpoint.model, weights, path)
    return checkpoint


def build_checkpoint(config: Dict[str, Any], tokenizer, labels_tokenizer, source: Union[str, Path]) -> GlinerCheckpoint:
    """Build the torch module (random weights) and featurizer that `config` describes."""
    from transformers import AutoModel

    check_supported(config)
    is_bi = labels_tokenizer is not None
    encoder_config = hf_config(config["encoder_config"])
    if int(config.get("vocab_size", -1)) != -1:
        encoder_config.vocab_size = int(config["vocab_size"])
    text_model = AutoModel.from_config(encoder_config)
    labels_model = AutoModel.from_config(hf_config(config["labels_encoder_config"])) if is_bi else None
    hidden_size = int(config.get("hidden_size") or encoder_config.hidden_size)
    settings = SpanModelSettings(
        hidden_size=hidden_size,
        max_width=int(config.get("max_width", defaults.MAX_WIDTH)),
        dropout=float(config.get("dropout", defaults.DROPOUT)),
        num_rnn_layers=int(config.get("num_rnn_layers", defaults.NUM_RNN_LAYERS)),
        class_token_index=int(config.get("class_token_index", -1)),
        embed_ent_token=bool(config.get("embed_ent_token", defaults.EMBED_ENT_TOKEN)),
        is_bi_encoder=is_bi,
    )
    ent_token = config.get("ent_token", defaults.ENT_TOKEN)
    sep_token = config.get("sep_token", defaults.SEP_TOKEN)
    class_token_index = settings.class_token_index
    if not is_bi:
        for token, field in ((ent_token, "ent_token"), (sep_token, "sep_token")):
            if token not in tokenizer.get_vocab():
                raise GlinerError(Errors.E019.format(path=source, token=token, field=field))
        ent_id = tokenizer.convert_tokens_to_ids(ent_token)
        if class_token_index == -1:
            class_token_index = settings.class_token_index = ent_id
            config["class_token_index"] = ent_id
        elif ent_id != class_token_index:
            raise GlinerError(Errors.E019.format(path=source, token=ent_token, field=f"class_token_index={class_token_index}"))
    model = GlinerSpanModel(settings, text_model, labels_model)
    model.eval()
    featurizer = GlinerFeaturizer(
        tokenizer,
        ent_token=ent_token,
        sep_token=sep_token,
        class_token_index=class_token_index,
        max_tokens=_max_tokens(tokenizer, encoder_config),
        labels_tokenizer=labels_tokenizer,
    )
    return GlinerCheckpoint(config=config, model=model, featurizer=featurizer)


def hf_config(config: Union[Dict[str, Any], Any]):
    """A transformers config object from the nested dict stored in gliner_config.json."""
    from transformers import AutoConfig

    if not isinstance(config, dict):
        return config
    config = dict(config)
    model_type = config.pop("model_type", None)
    if model_type is None:
        raise GlinerError(Errors.E032)
    return AutoConfig.for_model(model_type, **config)


def load_weights(path: Path) -> Dict[str, torch.Tensor]:
    """Read the folder's weights without unpickling arbitrary objects."""
    safetensors_file = path / SAFETENSORS_NAME
    pickle_file = path / PICKLE_WEIGHTS_NAME
    try:
        if safetensors_file.is_file():
            from safetensors.torch import load_file

            return load_file(str(safetensors_file), device="cpu")
        if pickle_file.is_file():
            weights = torch.load(pickle_file, map_location="cpu", weights_only=True)
            if not isinstance(weights, dict):
                raise ValueError(f"expected a dict of tensors, found {type(weights).__name__}")
            return weights
    except GlinerError:
        raise
    except Exception as err:  # safetensors, pickle and zip all raise their own types
        bad = safetensors_file if safetensors_file.is_file() else pickle_file
        raise GlinerError(Errors.E016.format(path=bad, err=f"{type(err).__name__}: {err}")) from err
    raise GlinerError(Errors.E014.format(path=path))


def _load_strict(model: GlinerSpanModel, weights: Dict[str, torch.Tensor], path: Path) -> None:
    weights = {k[len("_orig_mod."):] if k.startswith("_orig_mod.") else k: v for k, v in weights.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(weights[k].shape)} vs config {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(weights))
        if tuple(weights[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or shapes:
        raise GlinerError(
            Errors.E015.format(
                path=path,
                n_missing=len(missing),
                missing=_abbreviate(missing),
                n_unexpected=len(unexpected),
                unexpected=_abbreviate(unexpected),
                n_shapes=len(shapes),
                shapes=_abbreviate(shapes),
            )
        )
    model.load_state_dict(weights, strict=True)
    model.clear_label_cache()


def _abbreviate(items, limit: int = 8) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def save_checkpoint(
    checkpoint: GlinerCheckpoint, path: Union[str, Path], *, overwrite: bool = False, overwrite_flag: str = "overwrite=True"
) -> Path:
    """Write a GLiNER folder that `gliner.GLiNER.from_pretrained(path)` loads with the same scores.

    The folder is assembled next to its destination and renamed into place, so an interrupted
    export never leaves a half-written checkpoint. `overwrite_flag` is how the refusal names the
    way to overwrite (the command line says `--overwrite`).
    """
    path = Path(path)
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise GlinerError(Errors.E027.format(path=path, flag=overwrite_flag))
    with replacing_folder(path) as staging:
        write_folder(checkpoint, staging)
    return path


def write_folder(checkpoint: GlinerCheckpoint, path: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().cpu() for k, v in checkpoint.model.state_dict().items()}
    save_file(state, str(path / SAFETENSORS_NAME))
    (path / CONFIG_NAME).write_text(json.dumps(checkpoint.config, indent=2, sort_keys=True), encoding="utf8")
    checkpoint.featurizer.tokenizer.save_pretrained(str(path))
    if checkpoint.featurizer.labels_tokenizer is not None:
        checkpoint.featurizer.labels_tokenizer.save_pretrained(str(path / LABELS_TOKENIZER_DIR))


def _encoder_config_dict(config: Dict[str, Any], field: str, name_field: str, path: Path) -> Dict[str, Any]:
    value = config.get(field)
    if isinstance(value, dict) and value:
        return value
    name = config.get(name_field)
    if name and _is_local_dir(name):
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(name, local_files_only=True).to_dict()
    raise GlinerError(Errors.E017.format(field=field, path=path))


def _load_tokenizer(path: Path, model_name: Optional[str], source: Path):
    if (path / "tokenizer_config.json").is_file() or (path / "tokenizer.json").is_file():
        return _auto_tokenizer(path)
    if model_name and _is_local_dir(model_name):
        return _auto_tokenizer(model_name)
    raise GlinerError(Errors.E033.format(path=source, name=model_name))


def _auto_tokenizer(path: Union[str, Path]):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True)
    except Exception as err:
        raise GlinerError(Errors.E012.format(path=path, err=f"{type(err).__name__}: {err}")) from err


def _is_local_dir(name: Any) -> bool:
    return isinstance(name, str) and Path(name).is_dir()


def _max_tokens(tokenizer, encoder_config) -> int:
    """The longest sub-token sequence the encoder accepts (windows are planned to fit it)."""
    limits = []
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limits.append(model_max)
    positions = getattr(encoder_config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style embeddings reserve the first padding_idx + 1 positions.
        if getattr(encoder_config, "model_type", "") in {"roberta", "xlm-roberta", "camembert", "longformer"}:
            positions -= (getattr(encoder_config, "pad_token_id", 1) or 0) + 1
        limits.append(positions)
    return min(limits) if limits else 512
