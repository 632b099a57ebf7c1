"""The GLiNER span model in torch: encoder(s), word pooling, BiLSTM, markerV0 span head, label FFN.

Module and parameter names mirror the `gliner` package exactly (`token_rep_layer.bert_layer.model.*`,
`rnn.lstm.*`, `span_rep_layer.span_rep_layer.*`, `prompt_rep_layer.*`), so a GLiNER checkpoint's
state dict loads with `strict=True` and exports back unchanged.

What differs is *how* the span scores are computed. The reference builds a (B, W, K, D) span
tensor through `out_project = Linear(2D, 4D) -> ReLU -> Dropout -> Linear(4D, D)` and then takes
dot products with the label vectors. Both linear maps are linear, so:

* the first one is split per word: `W1 @ [s; e] = W1_s @ s + W1_e @ e`, computed once per word,
  not once per span (12x fewer FLOPs);
* the second one is folded into the label vectors: `(W2 @ z + b2) . p = z . (W2^T p) + b2 . p`,
  so per span only an add, a ReLU and a (4D x C) product remain.

The result equals the reference to float rounding (tests/test_parity.py checks 1e-4).
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .. import defaults

# Logit given to span slots that do not exist (end past the text): sigmoid() of it is 0.
INVALID_SPAN_LOGIT = -1.0e4
# Label sets whose folded bi-encoder vectors are kept at once.
LABEL_CACHE_SIZE = 16


@dataclass
class EncodedBatch:
    """Model inputs for a batch of word windows (built by `featurize.GlinerFeaturizer`).

    input_ids, attention_mask: (B, T) sub-tokens, prompt included for the uni-encoder.
    word_token_index: (B, W) position of each word's first sub-token; -1 for padding and for
        words the tokenizer turned into no sub-token (their vector is zero, as in the reference).
    word_lengths: (B,) number of words per row; stays on the CPU (LSTM packing reads it there).
    label_mask: (B, C) which label slots are real in each row.
    prompt_index: (B, C) uni-encoder only: positions of the <<ENT>> marker of each label.
    label_prompts: bi-encoder only: the distinct label prompts to encode (the cache key), and
    label_inputs: their tokenization by the labels tokenizer.
    label_rows: bi-encoder only, optional: (B, C) index into `label_prompts` per row (None: every
        row uses all of `label_prompts` in order).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    word_token_index: torch.Tensor
    word_lengths: torch.Tensor
    label_mask: torch.Tensor
    prompt_index: Optional[torch.Tensor] = None
    label_prompts: Tuple[str, ...] = ()
    label_inputs: Optional[Dict[str, torch.Tensor]] = None
    label_rows: Optional[torch.Tensor] = None

    def to(self, device: torch.device) -> "EncodedBatch":
        """The batch on `device` (the model's): the featurizer builds it on the CPU."""
        if self.input_ids.device == device:
            return self
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return EncodedBatch(
            input_ids=move(self.input_ids),
            attention_mask=move(self.attention_mask),
            word_token_index=move(self.word_token_index),
            word_lengths=self.word_lengths,
            label_mask=move(self.label_mask),
            prompt_index=move(self.prompt_index),
            label_prompts=self.label_prompts,
            label_inputs=None if self.label_inputs is None else {k: move(v) for k, v in self.label_inputs.items()},
            label_rows=move(self.label_rows),
        )


class Backbone(nn.Module):
    """Holds a Hugging Face encoder under `.model` (the reference's `Transformer` wrapper)."""

    def __init__(self, hf_model: nn.Module):
        super().__init__()
        self.model = hf_model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)[0]


class TokenEncoder(nn.Module):
    """Text encoder (+ projection), and for the bi-encoder the label encoder (+ projection)."""

    def __init__(self, text_model: nn.Module, hidden_size: int, labels_model: Optional[nn.Module] = None):
        super().__init__()
        self.bert_layer = Backbone(text_model)
        text_hidden = text_model.config.hidden_size
        if text_hidden != hidden_size:
            self.projection = nn.Linear(text_hidden, hidden_size)
        if labels_model is not None:
            self.labels_encoder = Backbone(labels_model)
            labels_hidden = labels_model.config.hidden_size
            if labels_hidden != hidden_size:
                self.labels_projection = nn.Linear(labels_hidden, hidden_size)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tokens = self.bert_layer(input_ids, attention_mask)
        if hasattr(self, "projection"):
            tokens = self.projection(tokens)
        return tokens

    def encode_labels(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Label vectors: per-token projection, then attention-masked mean pooling."""
        tokens = self.labels_encoder(input_ids, attention_mask)
        if hasattr(self, "labels_projection"):
            tokens = self.labels_projection(tokens)
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class WordLSTM(nn.Module):
    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=hidden_size,
            hidden_size=hidden_size // 2,
            num_layers=num_layers,
            bidirectional=True,
            batch_first=True,
        )

    def forward(self, words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(words, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=words.size(1))
        return output


def projection_layer(hidden_size: int, dropout: float, out_dim: Optional[int] = None) -> nn.Sequential:
    """The reference's two-layer FFN: Linear(d, 4o) -> ReLU -> Dropout -> Linear(4o, o)."""
    out_dim = hidden_size if out_dim is None else out_dim
    return nn.Sequential(
        nn.Linear(hidden_size, out_dim * 4), nn.ReLU(), nn.Dropout(dropout), nn.Linear(out_dim * 4, out_dim)
    )


class MarkerV0(nn.Module):
    """markerV0 span head, scored in the fused form described in the module docstring."""

    def __init__(self, hidden_size: int, max_width: int, dropout: float):
        super().__init__()
        self.max_width = max_width
        self.project_start = projection_layer(hidden_size, dropout)
        self.project_end = projection_layer(hidden_size, dropout)
        self.out_project = projection_layer(hidden_size * 2, dropout, hidden_size)

    def fold_labels(self, prompts: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Label vectors (..., C, D) after the prompt FFN -> (W2^T p, b2 . p): (..., C, 4D), (..., C)."""
        last = self.out_project[3]
        return prompts @ last.weight, prompts @ last.bias

    def forward(self, words: torch.Tensor, label_q: torch.Tensor, label_b: torch.Tensor) -> torch.Tensor:
        """words (B, W, D); label_q (C, 4D) shared or (B, C, 4D) per row; label_b likewise.

        Returns logits (B, W, K, C); slots whose span ends past the window are INVALID_SPAN_LOGIT
        (the caller masks spans past each row's own length).
        """
        B, W, D = words.shape
        K = self.max_width
        first = self.out_project[0]
        starts = F.linear(self.project_start(words).relu(), first.weight[:, :D])
        ends = F.linear(self.project_end(words).relu(), first.weight[:, D:], first.bias)
        dropout = self.out_project[2]
        shared = label_q.dim() == 2
        C = label_q.size(-2)
        logits = words.new_full((B, W, K, C), INVALID_SPAN_LOGIT)
        for k in range(min(K, W)):
            hidden = dropout((starts[:, : W - k] + ends[:, k:]).relu())
            if shared:
                scores = F.linear(hidden, label_q, label_b)
            else:
                scores = torch.baddbmm(label_b.unsqueeze(1), hidden, label_q.transpose(1, 2))
            logits[:, : W - k, k] = scores
        return logits


class SpanRepLayer(nn.Module):
    """Name holder so that keys read `span_rep_layer.span_rep_layer.*` as in the reference."""

    def __init__(self, hidden_size: int, max_width: int, dropout: float):
        super().__init__()
        self.span_rep_layer = MarkerV0(hidden_size, max_width, dropout)


@dataclass
class SpanModelSettings:
    """The architecture fields of a gliner_config.json that this implementation reads."""

    hidden_size: int
    max_width: int = defaults.MAX_WIDTH
    dropout: float = defaults.DROPOUT
    num_rnn_layers: int = defaults.NUM_RNN_LAYERS
    class_token_index: int = -1
    embed_ent_token: bool = defaults.EMBED_ENT_TOKEN
    is_bi_encoder: bool = False


class GlinerSpanModel(nn.Module):
    """Uni- or bi-encoder GLiNER span model with the markerV0 head."""

    def __init__(
        self,
        settings: SpanModelSettings,
        text_model: nn.Module,
        labels_model: Optional[nn.Module] = None,
    ):
        super().__init__()
        self.settings = settings
        self.token_rep_layer = TokenEncoder(text_model, settings.hidden_size, labels_model)
        if settings.num_rnn_layers > 0:
            # The bi-encoder checkpoints carry these weights too, but the reference never applies
            # the LSTM on the bi-encoder path; neither do we (see forward).
            self.rnn = WordLSTM(settings.hidden_size, settings.num_rnn_layers)
        self.span_rep_layer = SpanRepLayer(settings.hidden_size, settings.max_width, settings.dropout)
        self.prompt_rep_layer = projection_layer(settings.hidden_size, settings.dropout)
        self._label_cache: Dict[Tuple[str, ...], Tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def is_bi_encoder(self) -> bool:
        return self.settings.is_bi_encoder

    def set_head_dropout(self, rate: float) -> None:
        """Dropout of the span and prompt FFNs (the encoder keeps its own config's dropout)."""
        for module in (self.span_rep_layer, self.prompt_rep_layer):
            for layer in module.modules():
                if isinstance(layer, nn.Dropout):
                    layer.p = rate
        self.settings.dropout = rate

    def clear_label_cache(self) -> None:
        """Forget cached bi-encoder label vectors; call whenever the weights change."""
        self._label_cache.clear()

    def folded_labels(self, prompts: Tuple[str, ...], inputs: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Bi-encoder label vectors for `prompts`, folded into the span head: (C, 4D), (C,).

        Cached per label set at inference; recomputed (with gradients) in training.
        """
        if not self.training and prompts in self._label_cache:
            return self._label_cache[prompts]
        vectors = self.token_rep_layer.encode_labels(inputs["input_ids"], inputs["attention_mask"])
        folded = self.span_rep_layer.span_rep_layer.fold_labels(self.prompt_rep_layer(vectors))
        if not self.training:
            if len(self._label_cache) >= LABEL_CACHE_SIZE:  # labels changed often: forget the oldest
                self._label_cache.pop(next(iter(self._label_cache)))
            self._label_cache[prompts] = folded
        return folded

    def forward(self, batch: EncodedBatch) -> torch.Tensor:
        tokens = self.token_rep_layer.encode_text(batch.input_ids, batch.attention_mask)
        words = gather_rows(tokens, batch.word_token_index)
        head = self.span_rep_layer.span_rep_layer
        if self.is_bi_encoder:
            label_q, label_b = self.folded_labels(batch.label_prompts, batch.label_inputs)
            if batch.label_rows is not None:
                label_q, label_b = label_q[batch.label_rows], label_b[batch.label_rows]
        else:
            prompt_index = batch.prompt_index
            if not self.settings.embed_ent_token:
                prompt_index = prompt_index + 1
            prompts = gather_rows(tokens, prompt_index.masked_fill(~batch.label_mask, -1))
            if hasattr(self, "rnn"):
                words = self.rnn(words, batch.word_lengths)
            label_q, label_b = head.fold_labels(self.prompt_rep_layer(prompts))
        return head(words, label_q, label_b)


def gather_rows(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """tokens (B, T, D), index (B, N) with -1 for "none" -> (B, N, D), zero vectors where -1."""
    valid = index >= 0
    picked = tokens.gather(1, index.clamp(min=0).unsqueeze(-1).expand(-1, -1, tokens.size(-1)))
    return picked * valid.unsqueeze(-1).to(picked.dtype)


def span_mask(word_lengths: torch.Tensor, num_words: int, max_width: int, device: Optional[torch.device] = None) -> torch.Tensor:
    """(B, W, K) True where the span starting at w with width k+1 ends inside the row, on `device`
    (default: that of `word_lengths`)."""
    device = word_lengths.device if device is None else device
    starts = torch.arange(num_words, device=device).view(1, -1, 1)
    widths = torch.arange(max_width, device=device).view(1, 1, -1)
    return (starts + widths) < word_lengths.to(device).view(-1, 1, 1)
