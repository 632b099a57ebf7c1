"""The LLM teacher: synthetic annotations from a chat model behind an OpenAI-compatible server.

    [teacher]
    @misc = "spacy_gliner_biomed.LLMTeacher.v1"
    labels = {"disease": "disease or syndrome", "chemical": "chemical or drug"}
    model = "aaditya/Llama3-OpenBioLLM-8B"
    base_url = "http://127.0.0.1:8000/v1"     # vLLM / llama.cpp / Ollama (OpenAI-compatible)
    cache_dir = "corpus/llm_cache"            # required; null disables the cache
    candidates = "noun_chunks"                # or "none"
    candidate_pipeline = "en_core_web_sm"     # any spaCy pipeline with a parser, loaded on first use

It follows GLiNER-biomed's teacher (ds4dh/GLiNER-biomed, `teacher_synthetic_data_annotation/`):
a system prompt that defines the task and the JSON answer, a user prompt with the text and the
text's noun phrases as candidate entities, constrained JSON decoding (here `response_format` of type
`json_schema`: `{"entities": [{"text", "type"}]}`, the type restricted to the label names),
temperature 0 and seed 42; every case-insensitive occurrence of a returned string that falls on
token boundaries gets the returned type. Unlike GLiNER-biomed the types are a closed label set
(the model is told them, with their descriptions), there are no relations, and a noun chunk only
loses its leading determiners (so the candidate stays a substring of the text).
The prompts, the answer schema, its parsing and the alignment of mentions live in `llm_prompt.py`
(re-exported here); this module builds the requests and handles the transport, retries and cache.

Candidates. A doc's candidate list is, in order and without repeats: the spans or strings given to
`annotate(docs, candidates=...)` for it (one list, or None, per doc), else those of
`doc.spans["candidates"]` (`CANDIDATES_KEY`: another teacher's spans, say a lexicon's); then, with
`candidates = "noun_chunks"`, the noun chunks of `candidate_pipeline` (pronouns dropped). Candidates
only guide the model; spans come from its answer alone.

Output. Each doc comes back, in input order, finished with `finish_synthetic_doc` (gold spans,
ents, labels, negatives, dataset "synthetic/<name>"; this replaces whatever another teacher wrote
there). The LLM gives no confidence, so no scores are written. A doc whose request failed (server
down or overloaded after the retries, timeout, HTTP error) or whose answer was malformed (not JSON,
wrong schema) is NOT a doc without entities: it gets `doc.user_data[TEACHER_FAILED_KEY]` = a reason,
no gold spans or ents, and no labels or negatives, so it can never teach "no entity here". Drop
such docs (`drop_failed(docs)`) before writing a corpus. A batch in which every request failed to
reach the server raises GlinerError naming `base_url` (a wrong address stops a long run at once);
so do HTTP 401/403/404 (wrong key or model name).

Requests go through the official `openai` client (imported when a teacher is built) with its own
retries off; this module retries 408/409/429/5xx, timeouts and connection errors itself, up to
`max_retries` times, with exponential back-off and jitter (or the server's Retry-After), and counts
them. At most `max_concurrency` requests are in flight (a thread pool); docs are read `batch_size`
at a time. The API key is read from the environment variable `api_key_env` (a placeholder key
when unset, for local servers that need none); it is never logged, cached or put in a message.
`teacher.report` counts everything (`print(teacher.report)` gives one line).
"""
import json
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from itertools import islice, zip_longest
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import Errors, GlinerError, Warnings, warn
from ..keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, NEGATIVES_KEY, SPLIT_KEY
from ..labels import LabelSet, LabelsArg, check_positive_int
from ..keys import SYNTHETIC_PREFIX
from .base import FAILED_KEY, finish_synthetic_doc
from .llm_cache import AnswerCache, request_key
from .llm_prompt import (  # also importable from here, as before the split
    SYSTEM_PROMPT,
    USER_CANDIDATES,
    USER_PROMPT,
    USER_TASK,
    _Malformed,
    align_mention,
    answer_schema,
    parse_answer,
)

TEACHER_FAILED_KEY = FAILED_KEY
"""`doc.user_data[TEACHER_FAILED_KEY]` (= base.FAILED_KEY, "gliner_biomed.teacher_failed"): why the
teacher has no answer for the doc; absent when it has one. The synthesis run drops such docs."""
CANDIDATES_KEY = "candidates"
"""`doc.spans[CANDIDATES_KEY]`: candidate mentions to list in the prompt (e.g. another teacher's)."""
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
PLACEHOLDER_API_KEY = "EMPTY"
CANDIDATE_MODES = ("noun_chunks", "none")
Candidates = Sequence[Union[Span, str]]
MAX_BACKOFF_S = 60.0
_RETRY_STATUSES = (408, 409, 429)
_KEY_HINT = "Check the API key in the environment variable {env}."
_FATAL_STATUSES = {401: _KEY_HINT, 403: _KEY_HINT, 404: "Check `model` and `base_url`."}


@dataclass
class LLMTeacherReport:
    """What a teacher did, summed over its calls. `requests` counts every HTTP request sent,
    retries included; `failed` docs got no answer, `malformed` ones an unusable answer (both are
    marked with TEACHER_FAILED_KEY); a returned mention is `aligned` (to >= 1 span), `unaligned`
    (empty, punctuation only or not found on token boundaries) or of an `unknown_type`."""

    docs: int = 0
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failed: int = 0
    malformed: int = 0
    mentions: int = 0
    aligned: int = 0
    unaligned: int = 0
    unknown_type: int = 0
    spans: int = 0

    def __str__(self) -> str:
        return "LLM teacher: " + " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)


@dataclass
class _Answer:
    content: Optional[str] = None
    cached: bool = False
    requests: int = 0
    retries: int = 0
    failure: Optional[str] = None  # no answer: "connection" or "http"
    reason: str = ""


def teacher_failed(doc: Doc) -> Optional[str]:
    """Why the teacher has no answer for `doc`, or None when it has one."""
    return doc.user_data.get(TEACHER_FAILED_KEY)


def drop_failed(docs: Iterable[Doc]) -> Iterator[Doc]:
    """The docs the teacher has an answer for (the ones to train on)."""
    return (doc for doc in docs if TEACHER_FAILED_KEY not in doc.user_data)


class LLMTeacher:
    """A Teacher (teachers/base.py) asking a chat model; see the module docstring."""

    def __init__(
        self,
        labels: LabelsArg,
        model: str,
        cache_dir: Optional[Union[str, Path]],
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: Optional[str] = "OPENAI_API_KEY",
        candidates: str = "none",
        candidate_pipeline: Any = None,
        max_concurrency: int = 4,
        batch_size: int = 64,
        timeout: float = 60.0,
        max_retries: int = 3,
        retry_backoff: float = 1.0,
        seed: Optional[int] = 42,
        temperature: float = 0.0,
        max_tokens: Optional[int] = 2048,
        name: str = "llm",
    ):
        self.label_set = LabelSet.from_arg(labels)
        if not self.label_set.names:
            raise GlinerError(Errors.E129)
        self.labels: Tuple[str, ...] = self.label_set.names
        self.model = _check_str("model", model)
        self.base_url = _check_str("base_url", base_url)
        if not re.match(r"https?://", self.base_url):
            raise GlinerError(Errors.E121.format(name="base_url", rule="an http:// or https:// URL", value=base_url))
        self.name = _check_str("name", name)
        if api_key_env is not None:
            _check_str("api_key_env", api_key_env)
        self.api_key_env = api_key_env
        if candidates not in CANDIDATE_MODES:
            raise GlinerError(Errors.E121.format(name="candidates", rule=f"one of {list(CANDIDATE_MODES)}", value=candidates))
        if candidates == "noun_chunks" and candidate_pipeline is None:
            raise GlinerError(Errors.E122)
        self.candidates = candidates
        self.candidate_pipeline = candidate_pipeline
        self._candidate_nlp = candidate_pipeline if isinstance(candidate_pipeline, Language) else None
        self.max_concurrency = check_positive_int("max_concurrency", max_concurrency)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.timeout = _check_number("timeout", timeout, "a number of seconds > 0", lambda v: v > 0)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise GlinerError(Errors.E121.format(name="max_retries", rule="an integer >= 0", value=max_retries))
        self.max_retries = max_retries
        self.retry_backoff = _check_number("retry_backoff", retry_backoff, "a number of seconds >= 0", lambda v: v >= 0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise GlinerError(Errors.E121.format(name="seed", rule="an integer or null", value=seed))
        self.seed = seed
        self.temperature = _check_number("temperature", temperature, "a number >= 0", lambda v: v >= 0)
        self.max_tokens = None if max_tokens is None else check_positive_int("max_tokens", max_tokens)
        try:
            import openai
        except ImportError:
            raise GlinerError(Errors.E120) from None
        self._openai = openai
        self.cache = AnswerCache(cache_dir)
        self.report = LLMTeacherReport()
        api_key = os.environ.get(api_key_env) if api_key_env else None
        # Kept only for scrubbing server messages; never logged, cached or formatted.
        self._secret = api_key or None
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or PLACEHOLDER_API_KEY, timeout=self.timeout, max_retries=0
        )
        self.system_prompt = SYSTEM_PROMPT.format(types=self._types_text())
        self.response_format = {
            "type": "json_schema",
            "json_schema": {"name": "entities", "strict": True, "schema": answer_schema(self.labels)},
        }
        self._type_of = {}
        for label, prompt in zip(self.label_set.names, self.label_set.prompts):
            self._type_of.setdefault(prompt.casefold(), label)
        for label in self.labels:  # a name wins over another label's description
            self._type_of[label.casefold()] = label

    def __repr__(self) -> str:
        return f"LLMTeacher(name={self.name!r}, model={self.model!r}, base_url={self.base_url!r}, labels={list(self.labels)!r})"

    # -- the Teacher protocol --------------------------------------------------------------------
    def __call__(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        return self.annotate(docs)

    def annotate(self, docs: Iterable[Doc], candidates: Optional[Iterable[Optional[Candidates]]] = None) -> Iterator[Doc]:
        """The docs, in order, annotated (or marked failed). `candidates`: one list of spans or
        strings (or None) per doc, listed in its prompt before any noun chunks."""
        pairs = ((doc, None) for doc in docs) if candidates is None else _strict_pairs(docs, candidates)
        warned: Dict[str, bool] = {}
        executor = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="llm-teacher")
        try:
            while True:
                batch = list(islice(pairs, self.batch_size))
                if not batch:
                    break
                yield from self._annotate_batch(batch, executor, warned)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    # -- prompts ----------------------------------------------------------------------------------
    def _types_text(self) -> str:
        lines = []
        for label, prompt in zip(self.label_set.names, self.label_set.prompts):
            lines.append(f"- {label}" if prompt == label else f"- {label}: {prompt}")
        return "\n".join(lines)

    def build_request(self, text: str, candidates: Sequence[str] = ()) -> Dict[str, Any]:
        """The JSON body of the chat-completions request for one text (also its cache identity)."""
        user = USER_PROMPT.format(text=text)
        if candidates:
            user += USER_CANDIDATES.format(candidates=json.dumps(list(candidates), ensure_ascii=False))
        user += USER_TASK
        request: Dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": user}],
            "response_format": self.response_format,
            "temperature": self.temperature,
        }
        if self.seed is not None:
            request["seed"] = self.seed
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        return request

    def _doc_candidates(self, doc: Doc, index: int, given: Optional[Candidates]) -> List[str]:
        if given is None and CANDIDATES_KEY in doc.spans:
            given = list(doc.spans[CANDIDATES_KEY])
        out = []
        for i, cand in enumerate(given or ()):
            if isinstance(cand, Span) and cand.doc is doc:
                out.append(cand.text)
            elif isinstance(cand, str):
                out.append(cand)
            else:
                kind = "Span of another doc" if isinstance(cand, Span) else type(cand).__name__
                raise GlinerError(Errors.E128.format(index=i, doc=index, type=kind))
        return out

    def _noun_chunks(self, texts: List[str]) -> List[List[str]]:
        nlp = self._load_candidate_pipeline()
        found = []
        for cdoc in nlp.pipe(texts):
            try:
                chunks = list(cdoc.noun_chunks)
            except (ValueError, NotImplementedError):
                raise GlinerError(Errors.E124.format(name=str(self.candidate_pipeline), pipes=nlp.pipe_names)) from None
            phrases = []
            for chunk in chunks:
                if chunk.root.pos_ == "PRON":
                    continue
                start = chunk.start
                while start < chunk.end and cdoc[start].pos_ == "DET":
                    start += 1
                if start < chunk.end:
                    phrases.append(cdoc[start : chunk.end].text)
            found.append(phrases)
        return found

    def _load_candidate_pipeline(self):
        if self._candidate_nlp is None:
            try:
                self._candidate_nlp = spacy.load(self.candidate_pipeline)
            except (OSError, ValueError, ImportError, KeyError) as err:
                raise GlinerError(Errors.E123.format(name=str(self.candidate_pipeline), err=err)) from None
        return self._candidate_nlp

    # -- requests ---------------------------------------------------------------------------------
    def _annotate_batch(self, batch, executor, warned: Dict[str, bool]) -> Iterator[Doc]:
        texts = [doc.text for doc, _ in batch]
        lists = [self._doc_candidates(doc, i, given) for i, (doc, given) in enumerate(batch)]
        if self.candidates == "noun_chunks":
            for own, chunks in zip(lists, self._noun_chunks(texts)):
                own.extend(chunks)
        keys: List[Optional[str]] = []
        futures = {}
        for text, cands in zip(texts, lists):
            if not text.strip():
                keys.append(None)  # nothing to ask: a blank text mentions nothing
                continue
            request = self.build_request(text, list(dict.fromkeys(cands)))
            key = request_key(request)
            keys.append(key)
            if key not in futures:  # the same request twice in a batch is sent once
                futures[key] = executor.submit(self._fetch, key, request)
        answers = {key: future.result() for key, future in futures.items()}
        report = self.report
        for answer in answers.values():
            report.requests += answer.requests
            report.retries += answer.retries
            report.cache_hits += int(answer.cached)
        sent = [a for a in answers.values() if not a.cached]
        if sent and all(a.failure == "connection" for a in sent):
            raise GlinerError(
                Errors.E125.format(n=len(sent), base_url=self.base_url, reason=sent[0].reason, retries=self.max_retries)
            )
        failed: List[str] = []
        malformed: List[str] = []
        for (doc, _), key in zip(batch, keys):
            report.docs += 1
            if key is None:
                self._finish(doc, [])
                yield doc
                continue
            answer = answers[key]
            if answer.failure is not None:
                failed.append(answer.reason)
                self._mark_failed(doc, f"no answer: {answer.reason}")
                yield doc
                continue
            try:
                mentions = parse_answer(answer.content)
            except _Malformed as err:
                malformed.append(str(err))
                self._mark_failed(doc, f"malformed answer: {err}")
                yield doc
                continue
            self._finish(doc, self._align(doc, mentions))
            yield doc
        report.failed += len(failed)
        report.malformed += len(malformed)
        if failed and not warned.get("failed"):
            warned["failed"] = True
            message = Warnings.W010.format(
                n=len(failed), base_url=self.base_url, reason=failed[0], retries=self.max_retries, key=TEACHER_FAILED_KEY
            )
            warn(message)
        if malformed and not warned.get("malformed"):
            warned["malformed"] = True
            message = Warnings.W011.format(
                n=len(malformed), model=self.model, base_url=self.base_url, reason=malformed[0], key=TEACHER_FAILED_KEY
            )
            warn(message)

    def _fetch(self, key: str, request: Dict[str, Any]) -> _Answer:
        """One request's answer: from the cache, or from the server with retries (in a worker thread)."""
        cached = self.cache.get(key)
        if cached is not None:
            return _Answer(content=cached, cached=True)
        oa = self._openai
        answer = _Answer()
        for attempt in range(self.max_retries + 1):
            if attempt:
                answer.retries += 1
            answer.requests += 1
            retry_after = None
            try:
                response = self._client.chat.completions.create(**request)
            except oa.APITimeoutError:
                answer.failure, answer.reason = "connection", f"timed out after {self.timeout:g} s"
            except oa.APIConnectionError as err:
                cause = type(err.__cause__ or err).__name__
                answer.failure, answer.reason = "connection", f"connection failed: {cause}"
            except oa.APIStatusError as err:
                status = err.status_code
                if status in _FATAL_STATUSES:
                    message = "" if status in (401, 403) else f" ({self._scrub(err.message)})"
                    hint = _FATAL_STATUSES[status].format(env=self.api_key_env)
                    raise GlinerError(
                        Errors.E126.format(base_url=self.base_url, model=self.model, status=status, message=message, hint=hint)
                    ) from None
                answer.failure, answer.reason = "http", f"HTTP {status}"
                if status not in _RETRY_STATUSES and status < 500:
                    return answer  # a request the server will not take (e.g. 400: too long): no retry
                retry_after = _retry_after(err)
            except oa.APIError as err:  # e.g. an answer that is not a chat completion
                answer.failure, answer.reason = "http", self._scrub(f"{type(err).__name__}: {err}")
                return answer
            else:
                try:
                    content = response.choices[0].message.content
                except (AttributeError, IndexError, TypeError):
                    content = None
                answer.failure, answer.reason = None, ""
                answer.content = content if isinstance(content, str) else ""
                if isinstance(content, str):
                    self.cache.put(key, request, content)
                return answer
            if attempt < self.max_retries:
                time.sleep(self._backoff(attempt, retry_after))
        return answer

    def _backoff(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(MAX_BACKOFF_S, retry_after)
        return min(MAX_BACKOFF_S, self.retry_backoff * 2**attempt) * random.uniform(0.5, 1.5)

    def _scrub(self, text: str) -> str:
        text = str(text)
        if self._secret:
            text = text.replace(self._secret, "***")
        return text[:300]

    # -- answers ----------------------------------------------------------------------------------
    def _align(self, doc: Doc, mentions: List[Tuple[str, str]]) -> List[Span]:
        report = self.report
        spans: List[Span] = []
        for text, type_ in mentions:
            report.mentions += 1
            label = self._type_of.get(type_.strip().casefold())
            if label is None:
                report.unknown_type += 1
                continue
            found = align_mention(doc, text, label)
            if found:
                report.aligned += 1
                spans.extend(found)
            else:
                report.unaligned += 1
        return spans

    def _finish(self, doc: Doc, spans: List[Span]) -> None:
        doc.user_data.pop(TEACHER_FAILED_KEY, None)
        finish_synthetic_doc(doc, spans, self.labels, self.name)
        self.report.spans += len(doc.spans[GOLD_KEY])

    def _mark_failed(self, doc: Doc, reason: str) -> None:
        doc.spans[GOLD_KEY] = []
        doc.ents = []
        doc.user_data.pop(LABELS_KEY, None)
        doc.user_data.pop(NEGATIVES_KEY, None)
        doc.user_data[DATASET_KEY] = SYNTHETIC_PREFIX + self.name
        doc.user_data[SPLIT_KEY] = "train"
        doc.user_data[TEACHER_FAILED_KEY] = reason


def _strict_pairs(docs: Iterable[Doc], candidates: Iterable) -> Iterator[Tuple[Doc, Any]]:
    end = object()
    for i, (doc, cands) in enumerate(zip_longest(docs, candidates, fillvalue=end)):
        if doc is end:
            raise GlinerError(Errors.E127.format(problem=f"more candidate lists than the {i} docs"))
        if cands is end:
            raise GlinerError(Errors.E127.format(problem=f"candidate lists for only {i} docs"))
        yield doc, cands


def _retry_after(err) -> Optional[float]:
    try:
        value = err.response.headers.get("retry-after")
        return None if value is None else max(0.0, float(value))
    except (AttributeError, TypeError, ValueError):
        return None


def _check_str(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GlinerError(Errors.E121.format(name=name, rule="a non-empty string", value=value))
    return value


def _check_number(name: str, value, rule: str, ok) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
        raise GlinerError(Errors.E121.format(name=name, rule=rule, value=value))
    return float(value)


@spacy.util.registry.misc("spacy_gliner_biomed.LLMTeacher.v1")
def make_llm_teacher(
    labels: Union[List[str], Dict[str, str]],
    model: str,
    cache_dir: Optional[str],
    base_url: str = DEFAULT_BASE_URL,
    api_key_env: Optional[str] = "OPENAI_API_KEY",
    candidates: str = "none",
    candidate_pipeline: Optional[str] = None,
    max_concurrency: int = 4,
    batch_size: int = 64,
    timeout: float = 60.0,
    max_retries: int = 3,
    retry_backoff: float = 1.0,
    seed: Optional[int] = 42,
    temperature: float = 0.0,
    max_tokens: Optional[int] = 2048,
    name: str = "llm",
) -> LLMTeacher:
    """The LLM teacher (module docstring). `cache_dir` has no default: give a folder (answers are
    reused, runs are reproducible and resumable) or null to cache nothing."""
    return LLMTeacher(
        labels,
        model,
        cache_dir,
        base_url=base_url,
        api_key_env=api_key_env,
        candidates=candidates,
        candidate_pipeline=candidate_pipeline,
        max_concurrency=max_concurrency,
        batch_size=batch_size,
        timeout=timeout,
        max_retries=max_retries,
        retry_backoff=retry_backoff,
        seed=seed,
        temperature=temperature,
        max_tokens=max_tokens,
        name=name,
    )
