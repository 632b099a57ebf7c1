"""Names under which documents carry what this package reads and writes, in one small module so
that the component, the corpora and the evaluator agree without importing each other.

- `doc.spans[GOLD_KEY]`: every gold span of a converted doc, nested ones included;
- `doc.user_data[DATASET_KEY]`, `[SPLIT_KEY]`, `[ID_KEY]`: where a converted doc comes from;
- `doc.user_data[LABELS_KEY]`: the labels the doc's dataset annotates. On a doc the component
  receives, the labels to prompt for that doc instead of the component's own;
- `doc.user_data[NEGATIVES_KEY]`: explicit negative types for training (GLiNER JSON);
- `doc.user_data[(SCORE_KEY, start_char, end_char, label)]`: `Span._.score`.
"""
GOLD_KEY = "gold"
DATASET_KEY = "gliner_biomed.dataset"
SPLIT_KEY = "gliner_biomed.split"
ID_KEY = "gliner_biomed.id"
LABELS_KEY = "gliner_biomed.labels"
NEGATIVES_KEY = "gliner_biomed.negatives"
SCORE_KEY = "gliner_biomed_score"
SPLITS = ("train", "dev", "test")
# A teacher-annotated doc's dataset is SYNTHETIC_PREFIX + the teacher's name (`teachers/base.py`).
SYNTHETIC_PREFIX = "synthetic/"
# The domains of the known datasets (`corpora.datasets.dataset_domain`), named by the training
# setting `teacher_negatives_for`.
DATASET_DOMAINS = ("biomedical", "general")
