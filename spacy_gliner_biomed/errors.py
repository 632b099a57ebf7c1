"""Error messages, in one place, in spaCy's style (a code, then what went wrong and how to fix it)."""


class GlinerError(ValueError):
    """Raised for every user-facing problem: bad config, bad labels, bad checkpoint, bad input."""


class Errors:
    E001 = (
        "[E001] No entity labels are set on the '{name}' component. Pass them in the config "
        "(`config={{\"labels\": [\"disease\", \"chemical\"]}}`) or set `nlp.get_pipe(\"{name}\").labels = [...]`."
    )
    E002 = "[E002] Entity labels must be non-empty strings; got {label!r} at position {index}."
    E003 = (
        "[E003] Duplicate entity label {label!r}. Each label may appear once; to give two labels the "
        "same prompt, use a mapping {{label: description}} with distinct descriptions."
    )
    E004 = "[E004] Duplicate label description {prompt!r} (for labels {labels}). Descriptions must be distinct."
    E005 = "[E005] `labels` must be a list of strings or a mapping {{label: description}}; got {type}."
    E006 = "[E006] Threshold for {what} must be a number in [0, 1]; got {value!r}."
    E007 = "[E007] `label_thresholds` names label {label!r}, which is not one of the component's labels: {labels}."
    E010 = "[E010] GLiNER checkpoint folder '{path}' does not exist."
    E011 = "[E011] '{path}' is not a GLiNER checkpoint folder: it has no gliner_config.json."
    E012 = "[E012] Could not read '{path}': {err}"
    E013 = (
        "[E013] The checkpoint uses {field}={value!r}, which spacy-gliner-biomed does not support "
        "(supported: {supported})."
    )
    E014 = (
        "[E014] '{path}' has no weights file: expected model.safetensors or pytorch_model.bin."
    )
    E015 = (
        "[E015] The weights in '{path}' do not match its gliner_config.json.\n"
        "Missing from the weights ({n_missing}): {missing}\nUnexpected in the weights ({n_unexpected}): {unexpected}\n"
        "Shape mismatches ({n_shapes}): {shapes}"
    )
    E016 = "[E016] The weights file '{path}' is corrupt or not a weights file: {err}"
    E017 = (
        "[E017] The checkpoint's config has no `{field}` and '{path}' has no local copy of the backbone. "
        "Backbones are never downloaded at run time: use a checkpoint saved with its encoder config, "
        "or a local backbone folder."
    )
    E018 = (
        "[E018] The bi-encoder checkpoint '{path}' has no labels tokenizer (expected a labels_tokenizer/ "
        "folder) and `labels_encoder` {name!r} is not a local folder."
    )
    E019 = (
        "[E019] The tokenizer in '{path}' has no token {token!r} (the checkpoint's {field}); the checkpoint "
        "and its tokenizer files do not belong together."
    )
    E020 = (
        "[E020] The '{name}' component has no weights yet: its checkpoint folder '{path}' does not exist and "
        "no weights were loaded from disk. Give an existing GLiNER folder as `checkpoint`, or load a saved "
        "pipeline with spacy.load."
    )
    E021 = (
        "[E021] The '{name}' component has no weights yet. Set `checkpoint` to a GLiNER folder, or call "
        "nlp.initialize() to build the model from its backbone."
    )
    E022 = "[E022] Backbone {name!r} is neither a local folder nor an installed backbone package ({known})."
    E023 = (
        "[E023] A single word of {n_tokens} sub-tokens (starting {word!r}) at token {index} of a document "
        "does not fit in the {budget} sub-tokens the model has left for text after its label prompt. "
        "Split or clean this text before running the pipeline."
    )
    E024 = (
        "[E024] The label prompt takes {prompt} of the model's {budget} sub-tokens, leaving no room for text. "
        "Use fewer or shorter labels, or a bi-encoder checkpoint."
    )
    E025 = (
        "[E025] The '{name}' component writes doc.ents, which cannot hold {what}. Set `spans_key` to write "
        "doc.spans[spans_key] instead."
    )
    E026 = "[E026] Unknown label {label!r}: the component's labels are {labels}."
    E027 = "[E027] Cannot export: '{path}' exists and is not empty. Choose a new folder or pass overwrite=True."
