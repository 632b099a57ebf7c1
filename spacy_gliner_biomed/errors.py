"""Every error and warning message of the package, in one place, in spaCy's style.

A message is a class attribute; reading it through the `ErrorsWithCodes` metaclass prefixes its
code (`Errors.E001` -> "[E001] No entity labels ..."), so each code names exactly one message and
a test checks that every code here is used and none is used twice.
"""
import warnings

from spacy.errors import ErrorsWithCodes


class GlinerError(ValueError):
    """Raised for every user-facing problem: bad config, bad labels, bad checkpoint, bad input."""


def warn(message: str) -> None:
    """Warn with the caller of the caller as the location, so Python's default filter shows a
    repeated warning once per place in the user's code rather than once per process."""
    warnings.warn(message, UserWarning, stacklevel=3)


class Warnings(metaclass=ErrorsWithCodes):
    W001 = (
        "{n} gold span(s) are longer than max_width={max_width} words and cannot be learned; training "
        "leaves them out (e.g. {example!r})."
    )
    W002 = (
        "A word of {n_tokens} sub-tokens (starting {word!r}) is read from its first {cap} sub-tokens only: "
        "the model reads a word at its first sub-token, and one pathological token (a run of dots, a "
        "base64 blob, a long URL) must not take the whole window. Other words are unaffected."
    )


class Errors(metaclass=ErrorsWithCodes):
    # -- labels, thresholds and component settings ------------------------------------------
    E001 = (
        "No entity labels are set on the '{name}' component. Pass them in the config "
        "(`config={{\"labels\": [\"disease\", \"chemical\"]}}`) or set `nlp.get_pipe(\"{name}\").labels = [...]`."
    )
    E002 = "Entity labels must be non-empty strings; got {label!r} at position {index}."
    E003 = (
        "Duplicate entity label {label!r}. Each label may appear once; to give two labels the "
        "same prompt, use a mapping {{label: description}} with distinct descriptions."
    )
    E004 = "Duplicate label description {prompt!r} (for labels {labels}). Descriptions must be distinct."
    E005 = "`labels` must be a list of strings or a mapping {{label: description}}; got {type}."
    E006 = "Threshold for {what} must be a number in [0, 1]; got {value!r}."
    E007 = "`label_thresholds` names label {label!r}, which is not one of the component's labels: {labels}."
    E008 = "`{name}` must be a positive integer; got {value!r}."
    E009 = (
        "`doc.user_data[{key!r}]` must be a non-empty list of label names (the labels to prompt for this "
        "doc); got {value!r}."
    )
    # -- checkpoints --------------------------------------------------------------------------
    E010 = "GLiNER checkpoint folder '{path}' does not exist."
    E011 = "'{path}' is not a GLiNER checkpoint folder: it has no gliner_config.json."
    E012 = "Could not read '{path}': {err}"
    E013 = (
        "The checkpoint uses {field}={value!r}, which spacy-gliner-biomed does not support "
        "(supported: {supported})."
    )
    E014 = "'{path}' has no weights file: expected model.safetensors or pytorch_model.bin."
    E015 = (
        "The weights in '{path}' do not match its gliner_config.json.\n"
        "Missing from the weights ({n_missing}): {missing}\nUnexpected in the weights ({n_unexpected}): {unexpected}\n"
        "Shape mismatches ({n_shapes}): {shapes}"
    )
    E016 = "The weights file '{path}' is corrupt or not a weights file: {err}"
    E017 = (
        "The checkpoint's config has no `{field}` and '{path}' has no local copy of the backbone. "
        "Backbones are never downloaded at run time: use a checkpoint saved with its encoder config, "
        "or a local backbone folder."
    )
    E018 = (
        "The bi-encoder checkpoint '{path}' has no labels tokenizer (expected a labels_tokenizer/ "
        "folder) and `labels_encoder` {name!r} is not a local folder."
    )
    E019 = (
        "The tokenizer in '{path}' has no token {token!r} (the checkpoint's {field}); the checkpoint "
        "and its tokenizer files do not belong together."
    )
    # -- the component at run time ------------------------------------------------------------
    E020 = (
        "The '{name}' component has no weights yet: its checkpoint folder '{path}' does not exist and "
        "no weights were loaded from disk. Give an existing GLiNER folder as `checkpoint`, or load a saved "
        "pipeline with spacy.load."
    )
    E021 = (
        "The '{name}' component has no weights yet. Set `checkpoint` to a GLiNER folder, or call "
        "nlp.initialize() to build the model from its backbone."
    )
    E022 = "Backbone {name!r} is neither a local folder nor an installed backbone package ({known})."
    E023 = (
        "A word of {n_tokens} sub-tokens (starting {word!r}) at token {index} of a document does not fit "
        "in the {budget} sub-tokens the model has left for text after its label prompt. Use fewer or "
        "shorter labels."
    )
    E024 = (
        "The label prompt takes {prompt} of the model's {budget} sub-tokens, leaving no room for text. "
        "Use fewer or shorter labels, or a bi-encoder checkpoint."
    )
    E025 = (
        "The '{name}' component writes doc.ents, which cannot hold {what}. Set `spans_key` to write "
        "doc.spans[spans_key] instead."
    )
    E026 = "{what} '{path}' {problem}."
    E027 = (
        "Cannot export: '{path}' exists and is not empty. Choose a new folder or pass {flag}."
    )
    E028 = (
        "spaCy's `drop` ({drop}) is not a dropout rate in [0, 1). `[training] dropout` sets the dropout of "
        "the GLiNER head's layers while training."
    )
    # -- layers, backbones, training ----------------------------------------------------------
    E030 = (
        "spacy-gliner-biomed needs a fast (Rust) Hugging Face tokenizer to map sub-tokens to words; got "
        "{name}. Save the checkpoint with its tokenizer.json."
    )
    E031 = (
        "Found {n_markers} label markers ({token!r}) for {n_labels} labels: a label must not contain "
        "{token!r} itself."
    )
    E032 = "The checkpoint's encoder config has no `model_type`."
    E033 = (
        "'{path}' has no tokenizer files (tokenizer_config.json / tokenizer.json) and its model_name "
        "{name!r} is not a local folder."
    )
    E034 = "Backbone {name!r} needs the package {name} (`pip install {name}`)."
    E036 = "Unknown training setting(s) {unknown}; known: {known}."
    E037 = "Training setting `{name}` = {value!r} is invalid: it must be {rule}."
    E038 = "batch_by_length needs size >= 1 and buffer >= size; got size={size}, buffer={buffer}."
    E039 = (
        "The corpus reader has no paths: give one .spacy file or a JSON list of them (e.g. "
        "`--paths.train corpus/bc2gm/train.spacy` or `--paths.train '[\"a.spacy\", \"b.spacy\"]'`)."
    )
    # -- corpora ------------------------------------------------------------------------------
    E040 = "{where}: expected {expected}; got {got}."
    E041 = (
        "{where}: unknown entity type {type!r} for dataset {dataset!r} (known: {known}). Add it to the "
        "label map file {path}."
    )
    E042 = "{where}: no {what}."
    E043 = "{where}: empty token."
    E044 = "{where}: invalid tag {tag!r}: expected O, B-TYPE, I-TYPE (or E-TYPE, S-TYPE in IOBES)."
    E045 = "{where}: offsets {start!r} {end!r} are not integers."
    E046 = "{where}: offsets {start}-{end} are not a non-empty range inside the text ({length} characters)."
    E047 = "{where}: mention text {mention!r} does not match the text at {start}-{end}: {found!r}."
    E048 = "{where}: the mention starts or ends with whitespace; trim its offsets."
    E049 = "{where}: entity {item!r} is not [start, end_inclusive, label] inside {n_words} tokens."
    E050 = (
        "Label map file '{path}' does not exist. Pass an explicit one (`--label-map PATH` / `label_map=PATH`) "
        "mapping {{dataset: {{source_type: label}}}}."
    )
    E051 = "Could not read label map file '{path}': {err}"
    E052 = (
        "Label map file '{path}' must be a JSON object {{dataset: {{source_type: label}}}} with non-empty "
        "string labels."
    )
    E053 = (
        "Dataset {dataset!r} has no entry in the label map file {path}. Add \"{dataset}\": "
        "{{\"SOURCE_TYPE\": \"natural language label\", ...}} to it."
    )
    E054 = "Cannot read '{path}': {err}"
    E055 = "Unknown split {split!r}: use one of {splits}."
    E056 = "{where}: abstract line `{pmid}|a|` is not right after its title."
    E057 = (
        "{where}: expected a `PMID|t|title` / `PMID|a|abstract` line or a tab-separated line of the current "
        "document (PMID {pmid}), got {line!r}."
    )
    E058 = "{where}: PMID {pmid} appears twice with different text or mentions."
    E059 = "{where}: discontinuous entity {value!r} cannot be one span; split or join it."
    E060 = "{where}: not valid JSON: {err}"
    E061 = "{where}: {field} must be {expected}; got {value!r}."
    E062 = "brat folder '{path}' does not exist."
    E063 = "{path} has no annotation file {name}."
    E064 = "'{path}' does not exist."
    E065 = "'{path}' is not a .spacy (DocBin) file: {err}"
    E066 = "Unknown dataset {name!r}. Known: {known}."
    E067 = "Unknown format {format!r}: use one of {formats}."
    E068 = "`limit_per_path` must be >= 0; got {value}."
    E069 = (
        "'{path}' holds test-split docs; training must never read a test split. Use the train (or dev) "
        "file, or set allow_test = true if this is not training."
    )
    # -- evaluation ---------------------------------------------------------------------------
    E070 = "Got gold spans for {n_gold} documents but predictions for {n_pred}."
    E071 = "'{path}' holds no documents."
    E072 = "No datasets to evaluate."
    E073 = "Two datasets are named {name!r}: {first} and {second}."
    E074 = (
        "Some documents of the {where} do not list the dataset's labels in doc.user_data[{key!r}]. Convert "
        "the data again, or give the labels explicitly (--labels)."
    )
    E075 = (
        "The documents of the {where} list different label sets in doc.user_data[{key!r}]: {sets}. Give "
        "the labels explicitly (--labels)."
    )
    E076 = (
        "{n_train} of the {n_docs} documents of the {where} are from the 'train' split; scores on training "
        "data say little about a model. Evaluate on the dev or test split, or pass --allow-train "
        "(allow_train=True) if this is intended."
    )
    E077 = "The pipeline has no component {name!r}; its components are {names}."
    E078 = "Component {name!r} is a {type}, not a gliner_biomed component."
    E079 = (
        "The {where} is not zero-shot for this model: it was trained on {trained_on}. Pass --supervised "
        "(zero_shot=False) to evaluate it anyway, reported as supervised."
    )
    E080 = "`labels` is empty: give at least one label to evaluate."
    E081 = "Could not load the pipeline '{path}': {err}"
    # -- command line -------------------------------------------------------------------------
    E090 = (
        "convert --format needs --input, --dataset, --split and --out FILE.spacy, and no DATASET names "
        "or --splits."
    )
    E091 = "convert needs DATASET names ({known}) or --format."
    E092 = "'{path}' {what}: give the labels to find with --labels."
