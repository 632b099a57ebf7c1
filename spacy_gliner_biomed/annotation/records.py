"""What an annotation run writes per document: character offsets into the document's text
(title + " " + abstract for PubMed, as the readers build it), label, text, score, and the
entity-linking results when a linker is in the pipeline."""
from typing import Any, Dict, List, Optional

from spacy.tokens import Doc, Span


def entity_records(doc: Doc, spans_key: Optional[str] = None) -> List[Dict[str, Any]]:
    spans = doc.spans.get(spans_key, []) if spans_key else doc.ents
    has_score, has_kb_ents = Span.has_extension("score"), Span.has_extension("kb_ents")
    records = []
    for span in spans:
        record: Dict[str, Any] = {"start": span.start_char, "end": span.end_char, "text": span.text, "label": span.label_}
        score = span._.score if has_score else None
        if score is not None:
            record["score"] = round(float(score), 4)
        if span.kb_id_:
            record["kb_id"] = span.kb_id_
        if has_kb_ents and span._.kb_ents:
            record["kb_ents"] = [[concept, round(float(s), 4)] for concept, s in span._.kb_ents]
        records.append(record)
    return records


def doc_record(doc: Doc, doc_id: str, spans_key: Optional[str] = None) -> Dict[str, Any]:
    return {"id": doc_id, "entities": entity_records(doc, spans_key)}
