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
    W010 = (
        "{n} doc(s) got no answer from the LLM server at {base_url} ({reason}, after {retries} retries). "
        "They are marked failed in doc.user_data[{key!r}] and must be dropped, not trained on as docs "
        "without entities; a rerun with the same cache_dir asks only for them again."
    )
    W011 = (
        "{n} answer(s) of model {model!r} at {base_url} were not the JSON asked for ({reason}). The docs are "
        "marked failed in doc.user_data[{key!r}] and must be dropped; check that the server supports "
        "`response_format` of type json_schema (guided decoding)."
    )
    W012 = (
        "Curation: the weak model was not trained on {n} type(s) of the synthetic data ({types}); their "
        "{n_examples} example(s) are scored zero-shot, and the report counts them."
    )
    W013 = "Curation: the synthetic data has no negative examples (sentences without an entity); only positives are written."
    W014 = (
        "Linker: {n} entity label(s) of the doc(s) have no knowledge base mapped ({labels}); their "
        "{n_mentions} mention(s) are left unlinked and counted in `{name}.counts`. Map them in "
        "`label_kbs`, or set `label_kbs` to `{{}}` with `default_kb` to link every label to one KB."
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

    # -- teachers and synthetic data (E093-E099, E140-E179) ---------------------------------
    E093 = "Teacher '{teacher}' wrote labels it was not asked for: {labels}. A teacher writes only the labels of its own label set."
    E150 = "Vocabulary file '{path}' does not exist."
    E151 = "{path}, line {line}: {n} tab-separated column(s), expected {expected}."
    E152 = "Could not read vocabulary file '{path}': {err}"
    E153 = "{path}, line {line}: a type-map row is `tree prefix<TAB>type` (or `-type` to take a type away), both non-empty."
    E154 = "Lexicon teacher '{name}' has no usable terms: give it vocabulary files or gold corpora."
    E155 = (
        "Gold corpora {names} are zero-shot test sets of this run: a gazetteer of their annotations "
        "(even of their training split) would turn their zero-shot scores into supervised ones."
    )
    E156 = "The lexicon teacher reads gold mentions from `corpus_dir/<corpus>/train.spacy`: set corpus_dir."

    # -- LLM teacher (E120-E139) --
    E120 = (
        "The LLM teacher needs the `openai` client package: `pip install spacy-gliner-biomed[llm]` "
        "(or `pip install \"openai>=1.40\"`)."
    )
    E121 = "LLM teacher setting `{name}` must be {rule}; got {value!r}."
    E122 = (
        "LLM teacher `candidates = \"noun_chunks\"` needs `candidate_pipeline`: the name or path of a spaCy "
        "pipeline with a dependency parser (e.g. \"en_core_web_sm\"). Or set `candidates = \"none\"`."
    )
    E123 = "Could not load the LLM teacher's candidate pipeline {name!r}: {err}"
    E124 = (
        "The LLM teacher's candidate pipeline {name!r} gives no noun chunks (components: {pipes}): noun "
        "chunks need a dependency parser and a language with a noun-chunk iterator."
    )
    E125 = (
        "All {n} request(s) of a batch to the LLM server at {base_url} failed ({reason}, after {retries} "
        "retries). Is the server running, and is `base_url` right (vLLM, llama.cpp and Ollama serve "
        "OpenAI-compatible endpoints under /v1)?"
    )
    E126 = "The LLM server at {base_url} refused the request for model {model!r}: HTTP {status}{message}. {hint}"
    E127 = "LLM teacher annotate(): {problem}; give one list of candidates (spans or strings, or None) per doc."
    E128 = "LLM teacher candidate {index} of doc {doc} is a {type}: a candidate is a Span of that doc or a string."
    E129 = "The LLM teacher has no labels: give at least one entity type in `labels`."
    E130 = "LLM teacher `cache_dir` '{path}' {problem}."
    E157 = "A combined teacher needs at least one teacher."
    E158 = "Combined teacher: `order` {order} must name each of its teachers {names} once."
    E159 = "Could not read the manifest '{path}': {err}. Delete the folder to start over."
    E160 = (
        "Output folder '{folder}' holds synthetic data made with other inputs or settings ({old}); this run has "
        "{new}. Give another --out folder, or delete this one to start over (results are never mixed)."
    )
    E161 = "shard_size must be >= 1 and max_docs >= 0 (0: all); got shard_size={shard_size}, max_docs={max_docs}."
    E162 = "Could not read the config overrides {args}: give them as `--section.key value`."
    E163 = "Config '{path}' has no [teacher] block (see configs/teacher_lexicon.cfg)."
    E164 = (
        "synthesize needs --held-out (the corpus folder with the dev and test splits the project evaluates on), so "
        "that no held-out sentence reaches synthetic data; pass --no-held-out to run without the check."
    )
    # -- model teacher, type lists (E140-E149) --
    E140 = (
        "Teacher model '{path}' {problem}. Give a GLiNER folder (with gliner_config.json) or a saved "
        "pipeline with a gliner_biomed component."
    )
    E141 = "Teacher model '{path}' is a pipeline without a gliner_biomed component (its components: {names})."
    E142 = "Teacher model '{path}' has several gliner_biomed components ({names}); save a pipeline with one of them."
    E143 = "Type list file '{path}' {problem}."
    E144 = "{where}: not a type list in JSON: {problem}."
    E145 = "{where}: bad type-list entry: {problem}."
    E146 = "{where}: duplicate {what} {value!r} (first on line {first}); each type is listed once."
    E147 = "A teacher name must be a non-empty string without '/' (its docs' dataset is 'synthetic/<name>'); got {name!r}."
    E148 = "{what} has no labels: give at least one entity type."
    E149 = (
        "Teacher '{name}' annotates Doc objects (it keeps their tokens and sentences); got a {type}. Make "
        "docs first, e.g. with nlp.make_doc or a corpus reader."
    )

    # -- raw text (E100-E119) -------------------------------------------------------------
    E100 = "Text input {spec!r}: '{path}' does not exist or is not a file."
    E101 = "Text input {spec!r}: the pattern matches no files."
    E102 = (
        "Text input {spec!r}: unknown format {format!r}. Give FORMAT:PATH with FORMAT one of {formats}, or a "
        "bare path whose name says its format."
    )
    E103 = (
        "Cannot tell the format of '{path}' (text input {spec!r}) from its name or first line; give it as "
        "FORMAT:PATH with FORMAT one of {formats}."
    )
    E104 = "{where}: the file cannot be read to its end (a truncated or corrupt gzip file?): {err}"
    E105 = "{where}: not well-formed XML: {err}"
    E106 = "{where}: not UTF-8 text: {err}"
    E107 = "'{path}' is not PubMed XML: its root element is <{tag}>, not <PubmedArticleSet>."
    E108 = (
        "The test split of {dataset!r} is never a source of synthetic training text; read its 'train' "
        "(or 'dev') split."
    )
    E109 = "{where}: {what} {value!r} is not a PubMed id (a positive integer)."
    E110 = "Dataset {dataset!r} has no {split} split (it has {splits})."
    E111 = "{where}: not EBM-NLP (a `-DOCSTART- (PMID)` line, then one `token POS ...` line per token): {line!r}."
    E112 = "{where}: the abstract line `{pmid}|a|` does not follow the title line of the same PMID."
    E113 = "'{path}' has no {what}: is it a {format} file?"
    E165 = "--distractors must be >= 0; got {n}."
    E166 = "Combined teacher: {names} are not teachers (a teacher has `name`, `labels` and is called on docs)."
    E167 = "backbone_layers = {value!r} is invalid: it must be an integer >= 1 (keep that many backbone layers), or null (all)."
    E168 = "Curation: fraction must be in (0, 1] (the share of positive examples kept); got {fraction!r}."
    E169 = "Curation: unknown score {score!r}; choose one of {known}."
    E170 = "Curation: no synthetic examples in {inputs}: give the shards the synthesize command wrote."
    E171 = (
        "Curation: none of the {n} synthetic examples has an entity, so there are no positives to rank "
        "(is this the output of a teacher?)."
    )
    E172 = (
        "Curation: {folder} holds scores of another run ({old}); give a new --scores folder or delete it "
        "(now: {new})."
    )
    E173 = "Curation: cannot read the scores file {path}: {err}. Delete it to rescore that shard."
    E174 = "Curation: no synthetic shards match {pattern!r}."
    E175 = "Curation: the {method!r} score needs a weak model (--weak-model: a GLiNER folder or a gliner_biomed pipeline)."
    E176 = "limit must be an integer >= 0 (0: every doc); got {limit!r}."
    # -- knowledge bases and linking ----------------------------------------------------------
    E177 = (
        "Knowledge base {name!r}: concept id {concept_id!r} is defined twice ({first} and {second}). "
        "Concept ids must be unique: build overlapping vocabularies as separate knowledge bases."
    )
    E178 = "{where}: alias {alias!r} maps to concept id {concept_id!r}, which no source of knowledge base {name!r} defines."
    E179 = "Knowledge base {name!r} is empty: its sources ({sources}) gave no concepts."
    E180 = "'{path}' is not a knowledge base folder (from `build-kb`): {problem}."
    E181 = "Output folder '{path}' exists; pass --overwrite to replace it."
    E182 = "{where}: a knowledge-base record needs a non-empty string `concept_id` and `canonical_name`; got {record!r}."
    E183 = (
        "Linker: label {label!r} is mapped to knowledge base {kb!r}, which is not one of `kbs` ({known})."
    )
    E184 = "Linker: no knowledge bases: give `kbs` as {{name: folder}} (folders written by `build-kb`)."
    E185 = "Knowledge base {name!r}: a build needs at least one source (--medic, --mesh, --jsonl); got none."
    E186 = "{what} must be {expected}; got {value!r}."
    E187 = (
        "Linking evaluation: dataset {dataset!r} has no concept ids on its gold spans (`span.kb_id_`): "
        "convert it from PubTator, as `convert` does for ncbi-disease and bc5cdr."
    )
    E188 = "Linking evaluation: the pipeline has no '{name}' component; add one (`gliner_biomed_linker`) or pass --linker."
    E189 = (
        "'{path}' holds {n} doc(s) of the test split: knowledge-base aliases come from training mentions only "
        "(a test split's mentions would make its linking score a lookup)."
    )
    E190 = "Entity linking needs scispaCy ({err}): pip install 'spacy-gliner-biomed[scispacy]'."
    E191 = "Unknown precision {precision!r}; choose one of {known} (fp32: exact, the default; int8: dynamic quantisation, CPU)."
    E192 = (
        "runtime = {runtime!r} with precision = {precision!r} runs on the CPU only, but the model is on {device}. "
        "On a GPU use runtime = 'torch', precision = 'fp32'."
    )
    E193 = "Unknown runtime {runtime!r}; choose one of {known} (torch: the default; onnxruntime: the encoder run by ONNX Runtime, CPU)."
    E194 = "runtime = 'onnxruntime' needs onnxruntime and onnx ({err}): pip install 'spacy-gliner-biomed[onnx]'."
    E195 = (
        "Annotation output folder {folder} was written by another pipeline or with other settings ({old}); "
        "give a new --output folder or delete it (now: {new})."
    )
    E196 = "--engine ray needs Ray Data ({err}): pip install 'spacy-gliner-biomed[ray]'."
    E197 = "annotate: no input shards match {patterns}."
    E199 = "Teacher {teacher!r} returned {returned} doc(s) for a shard of {given}: a teacher must return every doc it is given, in order."
    E200 = (
        "Teacher run: {n} shard(s) failed and were not written; the run is not complete. Fix the cause and rerun the same "
        "command: only the missing shards are annotated ({folder}).\n{failures}"
    )
