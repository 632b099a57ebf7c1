"""The LLM teacher's prompt and answer handling, kept apart from the transport in `llm.py`.

Following GLiNER-biomed's teacher (ds4dh/GLiNER-biomed, `teacher_synthetic_data_annotation/`): the
prompt design (a system prompt that defines the task, the closed set of types and the JSON answer;
a user prompt with the text, its candidate entities and the instruction) and the answer format
(`answer_schema`, for constrained JSON decoding), its parsing (`parse_answer`, raising `_Malformed`)
and alignment (`align_mention`: every case-insensitive occurrence on token boundaries). This is the
part to read or change when the annotation itself changes; the requests, retries, concurrency and
the cache stay in `llm.py` (and `llm_cache.py`).
"""
import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

SYSTEM_PROMPT = (
    "You are an expert annotator of biomedical text for named entity recognition. Find every mention "
    "in the user's text of the entity types below and give each mention exactly one of these type "
    "names:\n{types}\n"
    "Copy each mention exactly as it is written in the text: the same words, nothing added, no "
    "paraphrase. Mentions may be nested (a mention inside a longer one). Leave out anything that is "
    "none of these types. Answer with JSON only, in the form "
    '{{"entities": [{{"text": "mention", "type": "type name"}}]}}, '
    'with "entities": [] if the text mentions none of the types.'
)
USER_PROMPT = 'Here is a text input: "{text}"\n'
USER_CANDIDATES = (
    "Here is the list of candidate entities (phrases of the text; keep those of the listed types and "
    "add any mention they miss): {candidates}\n"
)
USER_TASK = "Analyze this text, select and classify the entities as per your instructions."


class _Malformed(ValueError):
    pass


def answer_schema(labels: Sequence[str]) -> Dict[str, Any]:
    """The JSON schema of an answer: {"entities": [{"text": str, "type": one of labels}]}."""
    entity = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "type": {"type": "string", "enum": list(labels)}},
        "required": ["text", "type"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"entities": {"type": "array", "items": entity}},
        "required": ["entities"],
        "additionalProperties": False,
    }


def parse_answer(content: Optional[str]) -> List[Tuple[str, str]]:
    """(text, type) of each entity of an answer; _Malformed unless it is the schema's JSON (a
    ```json fence around it and extra keys in an entity are tolerated)."""
    text = (content or "").strip()
    if not text:
        raise _Malformed("empty answer")
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.S)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        raise _Malformed(f"not JSON: {text[:60]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        raise _Malformed('not an object with an "entities" list')
    mentions = []
    for item in data["entities"]:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not isinstance(item.get("type"), str):
            raise _Malformed(f'an entity is not {{"text": string, "type": string}}: {str(item)[:60]}')
        mentions.append((item["text"], item["type"]))
    return mentions


def align_mention(doc: Doc, mention: str, label: str) -> List[Span]:
    """A span with `label` at every case-insensitive occurrence of `mention` in the doc's text
    that starts and ends on token boundaries (runs of whitespace in the mention match any
    whitespace). None for an empty or punctuation-only mention."""
    words = mention.split()
    if not words or not any(ch.isalnum() for ch in mention):
        return []
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), flags=re.IGNORECASE)
    spans = []
    for match in pattern.finditer(doc.text):
        span = doc.char_span(match.start(), match.end(), label=label, alignment_mode="strict")
        if span is not None:
            spans.append(span)
    return spans
