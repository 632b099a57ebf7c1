"""gliner_biomed beside spacy-transformers: one pipeline with a `transformer`, an `ner` that listens to
it, and gliner_biomed on its own backbone; they initialize, train together in `nlp.update`, save and
load back with identical outputs."""
import math

import pytest
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed, load_model_from_config
from thinc.api import Config

from helpers import make_tiny_backbone

pytestmark = pytest.mark.slow  # ~15 s: two tiny BERTs, initialize, four updates, a save and a load

TRAIN = [
    ("Cisplatin causes nephrotoxicity in rats.", [(0, 9, "chemical"), (17, 31, "disease")]),
    ("Mutations in BRCA1 cause breast cancer.", [(13, 18, "gene"), (25, 38, "disease")]),
    ("Aspirin was given.", [(0, 7, "chemical")]),
]
TEXTS = [text for text, _ in TRAIN] + ["No abnormality was found in the liver."]

CONFIG = """
[nlp]
lang = "en"
pipeline = ["transformer", "ner", "gliner_biomed"]

[components]

[components.transformer]
factory = "transformer"
max_batch_items = 4096
set_extra_annotations = {{"@annotation_setters": "spacy-transformers.null_annotation_setter.v1"}}

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = "{transformer}"
mixed_precision = false

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 128
stride = 96

[components.transformer.model.tokenizer_config]
use_fast = true

[components.transformer.model.transformer_config]

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 16
maxout_pieces = 2
use_upper = false

[components.ner.model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "transformer"

[components.ner.model.tok2vec.pooling]
@layers = "reduce_mean.v1"

[components.gliner_biomed]
factory = "gliner_biomed"
labels = ["chemical", "disease", "gene"]
spans_key = "gliner"
threshold = 0.3

[components.gliner_biomed.model]
@architectures = "spacy_gliner_biomed.UniEncoder.v1"
backbone = "{gliner}"
hidden_size = 32
embed_ent_token = false
"""


@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    root = tmp_path_factory.mktemp("spacy_transformers")
    return make_tiny_backbone(root / "transformer", hidden=32, seed=11), make_tiny_backbone(root / "gliner", hidden=32, seed=12)


def outputs(nlp):
    """ner's entities and gliner_biomed's spans (with scores), per text."""
    return [
        ([(e.start_char, e.end_char, e.label_) for e in doc.ents],
         [(s.start_char, s.end_char, s.label_, s._.score) for s in doc.spans["gliner"]])
        for doc in nlp.pipe(TEXTS)
    ]


def test_trains_saves_and_loads_beside_a_transformer_and_its_listener(backbones, tmp_path):
    transformer, gliner = backbones
    fix_random_seed(0)
    nlp = load_model_from_config(Config().from_str(CONFIG.format(transformer=transformer, gliner=gliner)),
                                 auto_fill=True, validate=True)
    assert nlp.get_pipe("transformer").listening_components == ["ner"]
    examples = []
    for text, ents in TRAIN:
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": ents, "spans": {"gliner": ents}}))
    optimizer = nlp.initialize(lambda: examples)
    assert nlp.get_pipe("ner").labels == ("chemical", "disease", "gene")
    assert nlp.get_pipe("gliner_biomed").labels == ("chemical", "disease", "gene")

    history = []
    for _ in range(4):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        history.append(losses)
    for name in ("transformer", "ner", "gliner_biomed"):
        values = [losses[name] for losses in history]
        assert all(math.isfinite(v) and v > 0 for v in values), (name, values)
        assert values[-1] != values[0], (name, values)
    assert history[-1]["gliner_biomed"] < history[0]["gliner_biomed"]

    expected = outputs(nlp)
    assert all(ents for ents, _ in expected[:3]) and all(spans for _, spans in expected)
    assert {span[2] for _, spans in expected for span in spans} <= {"chemical", "disease", "gene"}
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["transformer", "ner", "gliner_biomed"]
    assert loaded.get_pipe("transformer").listening_components == ["ner"]
    assert loaded.config["components"]["gliner_biomed"]["model"]["embed_ent_token"] is False
    assert outputs(loaded) == expected
