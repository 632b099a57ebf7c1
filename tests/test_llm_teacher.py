"""The LLM teacher against a scripted chat-completions server on 127.0.0.1 (stdlib http.server):
prompts and request settings, alignment, retries, timeouts, malformed answers, the cache, failed
docs and the API key never leaking."""
import json
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from spacy_gliner_biomed.errors import GlinerError
from spacy_gliner_biomed.keys import DATASET_KEY, GOLD_KEY, LABELS_KEY, NEGATIVES_KEY, SPLIT_KEY
from spacy_gliner_biomed.teachers.base import teacher_score
from spacy_gliner_biomed.teachers.llm import (
    CANDIDATES_KEY,
    TEACHER_FAILED_KEY,
    LLMTeacher,
    drop_failed,
    make_llm_teacher,
    teacher_failed,
)

SECRET = "sk-test-SECRET-0123456789abcdef"
LABELS = {"disease": "disease or syndrome", "chemical": "chemical or drug", "gene": "gene or gene product"}
MAX_REQUESTS = 200  # a test that loops on retries fails instead of hanging


class FakeLLM:
    """Answers by the first scripted marker found in the user prompt; a marker's actions are
    used in turn, the last one repeating. Actions: ("ok", entities), ("content", text),
    ("status", code, body, headers), ("sleep", seconds, action)."""

    def __init__(self):
        self.script = {}
        self.received = []
        self.lock = threading.Lock()
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def requests_for(self, marker):
        return [r for r in self.received if marker in r["body"]["messages"][-1]["content"]]

    def next_action(self, body):
        user = body["messages"][-1]["content"]
        with self.lock:
            for marker, actions in self.script.items():
                if marker in user:
                    return actions.pop(0) if len(actions) > 1 else actions[0]
        return ("ok", [])


def _handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = min(int(self.headers.get("Content-Length", 0)), 1 << 20)
            body = json.loads(self.rfile.read(length))
            with fake.lock:
                fake.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                too_many = len(fake.received) > MAX_REQUESTS
            action = ("status", 400, {"error": {"message": "too many requests in a test"}}, {}) if too_many else fake.next_action(body)
            try:
                self.answer(body, action)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout)

        def answer(self, body, action):
            if action[0] == "sleep":
                time.sleep(action[1])
                action = action[2]
            headers = {}
            if action[0] == "status":
                status, payload, headers = action[1], action[2], action[3]
            else:
                content = json.dumps({"entities": action[1]}) if action[0] == "ok" else action[1]
                status = 200
                payload = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "m"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_llm(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    fake = FakeLLM()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.server.daemon_threads = True
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def teacher(fake, tmp_path=None, **kwargs):
    settings = dict(base_url=fake.url, api_key_env="TEST_LLM_KEY", timeout=2.0, max_retries=2, retry_backoff=0.01)
    settings.update(kwargs)
    cache_dir = settings.pop("cache_dir", None if tmp_path is None else tmp_path / "cache")
    return LLMTeacher(settings.pop("labels", LABELS), settings.pop("model", "bio-llm"), cache_dir, **settings)


def spans_of(doc):
    return [(s.text, s.start_char, s.end_char, s.label_) for s in doc.spans[GOLD_KEY]]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def doc_state(doc):
    keys = (LABELS_KEY, NEGATIVES_KEY, DATASET_KEY, SPLIT_KEY, TEACHER_FAILED_KEY)
    return spans_of(doc), [(e.start, e.end, e.label_) for e in doc.ents], {k: doc.user_data.get(k) for k in keys}


TEXT = "Aspirin reduces fever. ASPIRIN and aspirin again; breast cancer is a cancer, not aspirinate."


def test_answers_align_to_every_case_insensitive_token_occurrence(fake_llm, nlp, tmp_path):
    fake_llm.script["breast cancer"] = [
        ("ok", [{"text": "aspirin", "type": "chemical"}, {"text": "Breast Cancer", "type": "disease"}, {"text": "cancer", "type": "disease"}])
    ]
    fake_llm.script["Nothing here"] = [("ok", [])]
    t = teacher(fake_llm, tmp_path)
    docs = list(t([nlp(TEXT), nlp("Nothing here.")]))
    assert spans_of(docs[0]) == [
        ("Aspirin", 0, 7, "chemical"),
        ("ASPIRIN", 23, 30, "chemical"),
        ("aspirin", 35, 42, "chemical"),
        ("breast cancer", 50, 63, "disease"),  # nested: "cancer" inside it is a span too
        ("cancer", 57, 63, "disease"),
        ("cancer", 69, 75, "disease"),
    ]  # "aspirinate" is no token-boundary occurrence of "aspirin"
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Aspirin", "chemical"), ("ASPIRIN", "chemical"), ("aspirin", "chemical"), ("breast cancer", "disease"), ("cancer", "disease")
    ]
    assert docs[0].user_data[LABELS_KEY] == ["disease", "chemical", "gene"]
    assert docs[0].user_data[NEGATIVES_KEY] == ["gene"]
    assert docs[0].user_data[DATASET_KEY] == "synthetic/llm" and docs[0].user_data[SPLIT_KEY] == "train"
    assert teacher_failed(docs[0]) is None and teacher_score(docs[0].spans[GOLD_KEY][0]) is None
    # an answer with no entities is a real answer: every label is a negative
    assert spans_of(docs[1]) == [] and docs[1].user_data[NEGATIVES_KEY] == ["disease", "chemical", "gene"]
    assert teacher_failed(docs[1]) is None
    r = t.report
    assert (r.docs, r.requests, r.cache_hits, r.retries, r.failed, r.malformed) == (2, 2, 0, 0, 0, 0)
    assert (r.mentions, r.aligned, r.unaligned, r.unknown_type, r.spans) == (3, 3, 0, 0, 6)
    assert str(r) == (
        "LLM teacher: docs=2 requests=2 cache_hits=0 retries=0 failed=0 malformed=0 mentions=3 aligned=3 "
        "unaligned=0 unknown_type=0 spans=6"
    )


def test_request_settings_prompt_and_candidates(fake_llm, nlp, tmp_path):
    t = teacher(fake_llm, tmp_path, labels={"disease": "disease or syndrome", "chemical": "chemical"}, max_tokens=512, seed=7)
    with_spans = nlp("Cisplatin caused nephrotoxicity.")
    with_spans.spans[CANDIDATES_KEY] = [with_spans[0:1]]
    given = nlp("Mutations cause cystic fibrosis.")
    list(t.annotate([with_spans, given], candidates=[None, [given[2:4], "mutations"]]))
    assert len(fake_llm.received) == 2
    first, second = sorted(fake_llm.received, key=lambda r: "Cisplatin" not in r["body"]["messages"][1]["content"])
    body = first["body"]
    assert first["path"] == "/v1/chat/completions"
    assert first["headers"]["authorization"] == f"Bearer {SECRET}"
    assert body["model"] == "bio-llm" and body["temperature"] == 0 and body["seed"] == 7 and body["max_tokens"] == 512
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["entities"]
    item = schema["properties"]["entities"]["items"]
    assert item["required"] == ["text", "type"] and item["properties"]["type"]["enum"] == ["disease", "chemical"]
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "- disease: disease or syndrome" in system["content"] and "- chemical\n" in system["content"]
    assert "JSON" in system["content"]
    assert 'Here is a text input: "Cisplatin caused nephrotoxicity."' in user["content"]
    assert 'candidate entities' in user["content"] and '["Cisplatin"]' in user["content"]
    assert '["cystic fibrosis", "mutations"]' in second["body"]["messages"][1]["content"]


def test_default_request_has_seed_42_and_no_candidates(fake_llm, nlp):
    t = teacher(fake_llm)
    list(t([nlp("Plain text.")]))
    body = fake_llm.received[0]["body"]
    assert body["seed"] == 42 and body["temperature"] == 0 and body["max_tokens"] == 2048
    assert "candidate" not in body["messages"][1]["content"]


@Language.component("test_fake_parser")
def _fake_parser(doc):
    """A parse of one sentence, enough for spaCy's English noun_chunks."""
    words = [t.text for t in doc]
    if words != ["The", "patient", "received", "the", "aspirin", "and", "it", "helped", "."]:
        return doc
    return Doc(
        doc.vocab,
        words=words,
        spaces=[bool(t.whitespace_) for t in doc],
        heads=[1, 2, 2, 4, 2, 2, 7, 2, 2],
        deps=["det", "nsubj", "ROOT", "det", "dobj", "cc", "nsubj", "conj", "punct"],
        pos=["DET", "NOUN", "VERB", "DET", "NOUN", "CCONJ", "PRON", "VERB", "PUNCT"],
    )


def test_noun_chunk_candidates_from_a_lazily_loaded_pipeline(fake_llm, nlp, tmp_path):
    parser = spacy.blank("en")
    parser.add_pipe("test_fake_parser")
    parser.to_disk(tmp_path / "parser")
    t = teacher(fake_llm, candidates="noun_chunks", candidate_pipeline=str(tmp_path / "parser"))
    assert t._candidate_nlp is None  # loaded on first use
    doc = nlp("The patient received the aspirin and it helped.")
    doc.spans[CANDIDATES_KEY] = [doc[4:5], doc[0:2]]
    list(t([doc]))
    user = fake_llm.received[0]["body"]["messages"][1]["content"]
    # given candidates first, then noun chunks without determiners or pronouns, no repeats
    assert '["aspirin", "The patient", "patient"]' in user


def test_candidate_pipeline_errors(fake_llm, nlp, tmp_path):
    with pytest.raises(GlinerError, match=r"E122"):
        teacher(fake_llm, candidates="noun_chunks")
    t = teacher(fake_llm, candidates="noun_chunks", candidate_pipeline=str(tmp_path / "missing"))
    with pytest.raises(GlinerError, match=r"E123.*missing"):
        list(t([nlp("Text.")]))
    spacy.blank("en").to_disk(tmp_path / "blank")
    t = teacher(fake_llm, candidates="noun_chunks", candidate_pipeline=str(tmp_path / "blank"))
    with pytest.raises(GlinerError, match=r"E124.*blank"):
        list(t([nlp("Text.")]))
    assert fake_llm.received == []


def test_given_candidates_must_match_the_docs(fake_llm, nlp):
    t = teacher(fake_llm)
    with pytest.raises(GlinerError, match=r"E127.*only 1 docs"):
        list(t.annotate([nlp("One."), nlp("Two.")], candidates=[["one"]]))
    with pytest.raises(GlinerError, match=r"E127.*more candidate lists"):
        list(t.annotate([nlp("One.")], candidates=[["one"], ["two"]]))
    other = nlp("Other.")
    with pytest.raises(GlinerError, match=r"E128.*Span of another doc"):
        list(t.annotate([nlp("One.")], candidates=[[other[0:1]]]))
    with pytest.raises(GlinerError, match=r"E128.*int"):
        list(t.annotate([nlp("One.")], candidates=[[3]]))


def test_500_then_success_is_retried_and_counted(fake_llm, nlp):
    err = {"error": {"message": "overloaded"}}
    fake_llm.script["fever"] = [("status", 500, err, {}), ("status", 503, err, {}), ("ok", [{"text": "fever", "type": "disease"}])]
    t = teacher(fake_llm)
    (doc,) = t([nlp("Aspirin reduces fever.")])
    assert spans_of(doc) == [("fever", 16, 21, "disease")]
    assert (t.report.requests, t.report.retries, t.report.failed) == (3, 2, 0)


def test_429_honours_retry_after(fake_llm, nlp):
    fake_llm.script["fever"] = [("status", 429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}), ("ok", [{"text": "fever", "type": "disease"}])]
    t = teacher(fake_llm, retry_backoff=30.0)  # the server's Retry-After: 0, not 30 s of back-off
    start = time.monotonic()
    (doc,) = t([nlp("Aspirin reduces fever.")])
    assert time.monotonic() - start < 5
    assert spans_of(doc) == [("fever", 16, 21, "disease")] and t.report.retries == 1


def test_persistent_server_errors_mark_docs_failed_with_one_warning(fake_llm, nlp, tmp_path):
    fake_llm.script["broken"] = [("status", 500, {"error": {"message": "boom"}}, {})]
    t = teacher(fake_llm, tmp_path, max_retries=1)
    texts = ["A broken one.", "Fine text.", "Another broken one."]
    with pytest.warns(UserWarning, match=r"W010.*2 doc\(s\).*" + fake_llm.url) as record:
        docs = list(t([nlp(x) for x in texts]))
    assert len([w for w in record if "W010" in str(w.message)]) == 1
    assert [teacher_failed(d) for d in docs] == ["no answer: HTTP 500", None, "no answer: HTTP 500"]
    failed = docs[0]
    assert spans_of(failed) == [] and LABELS_KEY not in failed.user_data and NEGATIVES_KEY not in failed.user_data
    assert failed.user_data[DATASET_KEY] == "synthetic/llm"
    assert [d.text for d in drop_failed(docs)] == ["Fine text."]
    assert (t.report.failed, t.report.requests, t.report.retries) == (2, 5, 2)
    # nothing cached for a request without an answer: a rerun asks for those again only
    n = len(fake_llm.received)
    fake_llm.script["broken"] = [("ok", [])]
    docs = list(teacher(fake_llm, tmp_path)([nlp(x) for x in texts]))
    assert len(fake_llm.received) - n == 2 and all(teacher_failed(d) is None for d in docs)


def test_a_400_is_not_retried(fake_llm, nlp):
    fake_llm.script["long"] = [("status", 400, {"error": {"message": "context length exceeded"}}, {})]
    t = teacher(fake_llm)
    with pytest.warns(UserWarning, match="W010"):
        docs = list(t([nlp("A long one."), nlp("Short.")]))
    assert teacher_failed(docs[0]) == "no answer: HTTP 400" and t.report.retries == 0


def test_slow_answer_times_out_and_fails_that_doc(fake_llm, nlp):
    fake_llm.script["slow"] = [("sleep", 1.0, ("ok", []))]
    t = teacher(fake_llm, timeout=0.3, max_retries=1)
    start = time.monotonic()
    with pytest.warns(UserWarning, match=r"W010.*timed out after 0.3 s"):
        docs = list(t([nlp("A slow one."), nlp("A quick one.")]))
    assert time.monotonic() - start < 3
    assert teacher_failed(docs[0]) == "no answer: timed out after 0.3 s" and teacher_failed(docs[1]) is None
    assert (t.report.failed, t.report.retries) == (1, 1)


def test_a_batch_that_only_times_out_raises(fake_llm, nlp):
    fake_llm.script["slow"] = [("sleep", 1.0, ("ok", []))]
    t = teacher(fake_llm, timeout=0.3, max_retries=0)
    with pytest.raises(GlinerError, match=r"E125.*" + fake_llm.url):
        list(t([nlp("A slow one.")]))


@pytest.mark.parametrize(
    "content,reason",
    [
        ("this is not JSON", "not JSON"),
        ('{"entities": "fever"}', '"entities" list'),
        ('{"mentions": []}', '"entities" list'),
        ('{"entities": [{"text": "fever"}]}', "an entity is not"),
        ('{"entities": [{"text": 3, "type": "disease"}]}', "an entity is not"),
        ("", "empty answer"),
    ],
)
def test_malformed_answers_mark_the_doc_failed(fake_llm, nlp, tmp_path, content, reason):
    fake_llm.script["fever"] = [("content", content)]
    t = teacher(fake_llm, tmp_path)
    with pytest.warns(UserWarning, match=r"W011.*bio-llm"):
        docs = list(t([nlp("Aspirin reduces fever."), nlp("Fine.")]))
    assert teacher_failed(docs[0]).startswith("malformed answer: ") and reason in teacher_failed(docs[0])
    assert spans_of(docs[0]) == [] and NEGATIVES_KEY not in docs[0].user_data and LABELS_KEY not in docs[0].user_data
    assert teacher_failed(docs[1]) is None
    assert (t.report.malformed, t.report.failed) == (1, 0)


def test_fenced_json_and_extra_keys_are_accepted(fake_llm, nlp):
    fake_llm.script["fever"] = [("content", '```json\n{"entities": [{"id": 0, "text": "fever", "type": "disease"}]}\n```')]
    (doc,) = teacher(fake_llm)([nlp("Aspirin reduces fever.")])
    assert spans_of(doc) == [("fever", 16, 21, "disease")]


def test_unknown_types_and_unalignable_mentions_are_counted_and_skipped(fake_llm, nlp):
    fake_llm.script["fever"] = [
        (
            "ok",
            [
                {"text": "fever", "type": "Disease"},  # a label, case aside
                {"text": "aspirin", "type": "chemical or drug"},  # a label's description
                {"text": "reduces", "type": "verb"},  # unknown type
                {"text": "headache", "type": "disease"},  # not in the text
                {"text": "spiri", "type": "chemical"},  # not on token boundaries
                {"text": " .. ", "type": "disease"},  # punctuation only
                {"text": "", "type": "disease"},  # empty
                {"text": "reduces\n fever", "type": "disease"},  # any whitespace run matches
            ],
        )
    ]
    t = teacher(fake_llm)
    (doc,) = t([nlp("Aspirin reduces fever.")])
    assert spans_of(doc) == [("Aspirin", 0, 7, "chemical"), ("reduces fever", 8, 21, "disease"), ("fever", 16, 21, "disease")]
    r = t.report
    assert (r.mentions, r.aligned, r.unaligned, r.unknown_type, r.malformed) == (8, 3, 4, 1, 0)


def test_connection_refused_raises_naming_the_url(nlp, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    url = f"http://127.0.0.1:{free_port()}/v1"
    t = LLMTeacher(["disease"], "m", None, base_url=url, api_key_env="TEST_LLM_KEY", timeout=0.5, max_retries=1, retry_backoff=0.01)
    with pytest.raises(GlinerError, match=r"E125") as info:
        list(t([nlp("One."), nlp("Two.")]))
    message = str(info.value)
    assert url in message and "2 request(s)" in message and "connection failed" in message
    assert SECRET not in message and (t.report.requests, t.report.retries) == (4, 2)


def test_auth_and_model_errors_stop_at_once_without_the_key(fake_llm, nlp, caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET}"}}
    fake_llm.script["x"] = [("status", 401, echo, {})]
    with pytest.raises(GlinerError, match=r"E126.*HTTP 401.*TEST_LLM_KEY") as info:
        list(teacher(fake_llm)([nlp("x")]))
    assert fake_llm.url in str(info.value) and SECRET not in str(info.value)
    fake_llm.script["x"] = [("status", 404, {"error": {"message": f"model bio-llm not found (key {SECRET})"}}, {})]
    with pytest.raises(GlinerError, match=r"E126.*HTTP 404.*not found") as info:
        list(teacher(fake_llm)([nlp("x")]))
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert len(fake_llm.received) == 2  # no retries
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_cache_second_run_makes_no_request_and_gives_identical_docs(fake_llm, nlp, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake_llm.script["fever"] = [("ok", [{"text": "fever", "type": "disease"}, {"text": "aspirin", "type": "chemical"}])]
    fake_llm.script["bad"] = [("content", "not json")]
    texts = [TEXT, "Aspirin reduces fever.", "A bad answer.", "Aspirin reduces fever."]
    with pytest.warns(UserWarning, match="W011"):
        first = [doc_state(d) for d in teacher(fake_llm, tmp_path)([nlp(x) for x in texts])]
    assert len(fake_llm.received) == 3  # the repeated text is asked once
    t = teacher(fake_llm, tmp_path)
    with pytest.warns(UserWarning, match="W011"):  # a malformed answer is cached too
        second = [doc_state(d) for d in t([nlp(x) for x in texts])]
    assert len(fake_llm.received) == 3 and first == second
    assert (t.report.requests, t.report.cache_hits) == (0, 3)
    files = sorted((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 3
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text and "TEST_LLM_KEY" not in text
        entry = json.loads(text)
        assert set(entry) == {"version", "key", "request", "content"} and path.stem == entry["key"]
        assert entry["request"]["seed"] == 42
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert SECRET not in str(t.report) and SECRET not in repr(t)


def test_an_interrupted_run_resumes_without_asking_twice(fake_llm, nlp, tmp_path):
    texts = [f"Text number {i}." for i in range(5)]
    stream = teacher(fake_llm, tmp_path, batch_size=2)([nlp(x) for x in texts])
    next(stream)
    stream.close()  # stopped after the first batch
    assert len(fake_llm.received) == 2
    list(teacher(fake_llm, tmp_path, batch_size=2)([nlp(x) for x in texts]))
    assert len(fake_llm.received) == 5
    assert len({r["body"]["messages"][1]["content"] for r in fake_llm.received}) == 5


def test_cache_key_covers_the_request_and_null_disables_it(fake_llm, nlp, tmp_path):
    list(teacher(fake_llm, tmp_path)([nlp("Text.")]))
    list(teacher(fake_llm, tmp_path, seed=1)([nlp("Text.")]))
    list(teacher(fake_llm, tmp_path, max_tokens=10)([nlp("Text.")]))
    list(teacher(fake_llm, tmp_path, model="other")([nlp("Text.")]))
    list(teacher(fake_llm, tmp_path, labels=["disease"])([nlp("Text.")]))
    assert len(fake_llm.received) == 5
    list(teacher(fake_llm, tmp_path, timeout=1.0, max_concurrency=1)([nlp("Text.")]))  # not part of the key
    assert len(fake_llm.received) == 5
    list(teacher(fake_llm, cache_dir=None)([nlp("Text.")]))
    list(teacher(fake_llm, cache_dir=None)([nlp("Text.")]))
    assert len(fake_llm.received) == 7


def test_concurrent_requests_keep_input_order(fake_llm, nlp):
    for i in range(8):
        fake_llm.script[f"Doc {i}."] = [("sleep", 0.05 * ((7 - i) % 4), ("ok", [{"text": f"{i}", "type": "gene"}]))]
    t = teacher(fake_llm, max_concurrency=4, batch_size=3)
    docs = list(t(nlp(f"Doc {i}.") for i in range(8)))
    assert [d.text for d in docs] == [f"Doc {i}." for i in range(8)]
    assert [spans_of(d) for d in docs] == [[(f"{i}", 4, 5, "gene")] for i in range(8)]


def test_blank_docs_make_no_request(fake_llm, nlp):
    t = teacher(fake_llm)
    (doc,) = t([nlp("  ")])
    assert fake_llm.received == [] and doc.user_data[NEGATIVES_KEY] == ["disease", "chemical", "gene"]


def test_a_previous_failure_mark_is_cleared_by_an_answer(fake_llm, nlp):
    doc = nlp("Text.")
    doc.user_data[TEACHER_FAILED_KEY] = "no answer: HTTP 500"
    (doc,) = teacher(fake_llm)([doc])
    assert teacher_failed(doc) is None


def test_registered_function_and_config(fake_llm, tmp_path):
    from thinc.api import Config

    cfg = Config().from_str(
        f"""
        [teacher]
        @misc = "spacy_gliner_biomed.LLMTeacher.v1"
        labels = {{"disease": "disease or syndrome", "chemical": "chemical"}}
        model = "bio-llm"
        cache_dir = null
        base_url = "{fake_llm.url}"
        max_concurrency = 2
        """
    )
    t = spacy.util.registry.resolve(cfg)["teacher"]
    assert isinstance(t, LLMTeacher) and t.labels == ("disease", "chemical") and t.name == "llm"
    assert t.cache.root is None and t.max_retries == 3 and t.seed == 42 and t.temperature == 0 and t.api_key_env == "OPENAI_API_KEY"
    assert spacy.util.registry.misc.get("spacy_gliner_biomed.LLMTeacher.v1") is make_llm_teacher
    missing = Config().from_str('[teacher]\n@misc = "spacy_gliner_biomed.LLMTeacher.v1"\nlabels = ["disease"]\nmodel = "m"')
    with pytest.raises(Exception, match="cache_dir"):
        spacy.util.registry.resolve(missing)


def test_no_key_in_the_environment_sends_a_placeholder(fake_llm, nlp, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    list(teacher(fake_llm, api_key_env="NO_SUCH_KEY_VAR")([nlp("Text.")]))
    assert fake_llm.received[0]["headers"]["authorization"] == "Bearer EMPTY"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(labels=["disease", "disease"]), "E003"),
        (dict(labels=[]), "E129"),
        (dict(model=""), r"E121.*model"),
        (dict(base_url="127.0.0.1:8000"), r"E121.*base_url"),
        (dict(candidates="chunks"), r"E121.*candidates"),
        (dict(timeout=0), r"E121.*timeout"),
        (dict(max_retries=-1), r"E121.*max_retries"),
        (dict(temperature=-0.5), r"E121.*temperature"),
        (dict(retry_backoff="1"), r"E121.*retry_backoff"),
        (dict(seed=1.5), r"E121.*seed"),
        (dict(name=" "), r"E121.*name"),
        (dict(api_key_env=""), r"E121.*api_key_env"),
        (dict(max_concurrency=0), r"E008.*max_concurrency"),
        (dict(batch_size=0), r"E008.*batch_size"),
        (dict(max_tokens=0), r"E008.*max_tokens"),
    ],
)
def test_settings_are_validated(fake_llm, kwargs, match):
    with pytest.raises(GlinerError, match=match):
        teacher(fake_llm, **kwargs)


def test_cache_dir_must_be_a_folder(fake_llm, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(GlinerError, match=r"E130.*not a folder"):
        teacher(fake_llm, cache_dir=tmp_path / "file")


def test_building_without_openai_says_how_to_install(fake_llm, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)  # `import openai` raises ImportError
    with pytest.raises(GlinerError, match=r"E120.*spacy-gliner-biomed\[llm\]"):
        teacher(fake_llm, tmp_path)
    assert not (tmp_path / "cache").exists()


def test_the_module_imports_openai_only_when_a_teacher_is_built():
    import ast

    import spacy_gliner_biomed.teachers.llm as module

    tree = ast.parse(open(module.__file__, encoding="utf8").read())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert not {n for n in names if n.split(".")[0] in ("openai", "httpx")}
