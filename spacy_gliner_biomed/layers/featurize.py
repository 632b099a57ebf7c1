"""Words + label prompts -> sub-token tensors, exactly as the reference tokenizes them.

The uni-encoder input is the word list `[<<ENT>>, label_1, <<ENT>>, label_2, ..., <<SEP>>, w_1, ...]`
given to the Hugging Face tokenizer with `is_split_into_words=True`; label vectors are read at the
`<<ENT>>` positions (found by token id, the checkpoint's `class_token_index`). Word vectors come
from each word's first sub-token. The bi-encoder tokenizes the words alone and the label prompts
separately with the labels tokenizer.

A word longer than `MAX_WORD_SUBTOKENS` sub-tokens keeps only its first ones: the model reads a word
at its first sub-token, and one pathological token (5,000 dots, a base64 blob, a long URL) must not
fill a window, or fail a document. No real word comes near the cap, so parity is unaffected.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from ..errors import Errors, GlinerError, Warnings, warn
from .span_model import EncodedBatch

MAX_WORD_SUBTOKENS = 64


class GlinerFeaturizer:
    def __init__(
        self,
        tokenizer,
        *,
        ent_token: str,
        sep_token: str,
        class_token_index: int,
        max_tokens: int,
        labels_tokenizer=None,
    ):
        if not getattr(tokenizer, "is_fast", False):
            raise GlinerError(Errors.E030.format(name=type(tokenizer).__name__))
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.ent_token = ent_token
        self.sep_token = sep_token
        self.class_token_index = class_token_index
        self.max_tokens = max_tokens
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._prompt_cost: Dict[Tuple[str, ...], int] = {}
        self._label_inputs: Dict[Tuple[str, ...], Dict[str, torch.Tensor]] = {}
        self._warned_long_word = False

    @property
    def is_bi_encoder(self) -> bool:
        return self.labels_tokenizer is not None

    def prompt_words(self, prompts: Sequence[str]) -> List[str]:
        if self.is_bi_encoder:
            return []
        words: List[str] = []
        for prompt in prompts:
            words += [self.ent_token, prompt]
        return words + [self.sep_token]

    def prompt_cost(self, prompts: Tuple[str, ...]) -> int:
        """Sub-tokens a window spends before its text: special tokens plus the label prompt."""
        if prompts not in self._prompt_cost:
            cost = self.tokenizer.num_special_tokens_to_add(pair=False)
            words = self.prompt_words(prompts)
            if words:
                cost += len(self.tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"])
            self._prompt_cost[prompts] = cost
        return self._prompt_cost[prompts]

    def subtoken_counts(self, docs_words: Sequence[Sequence[str]]) -> List[List[int]]:
        """Sub-tokens of each word as the model gets them (0 for words the tokenizer drops entirely,
        at most MAX_WORD_SUBTOKENS), for the docs that have words."""
        docs_words = [list(words) for words in docs_words if words]
        counts: List[List[int]] = []
        if not docs_words:
            return counts
        # verbose=False: whole docs are counted here to plan windows, so transformers' warning about
        # sequences longer than the model's maximum would be a false alarm.
        encoded = self.tokenizer(docs_words, is_split_into_words=True, add_special_tokens=False, verbose=False)
        for i, words in enumerate(docs_words):
            row = [0] * len(words)
            for wid in encoded.word_ids(i):
                if wid is not None:
                    row[wid] += 1
            if max(row) > MAX_WORD_SUBTOKENS:
                for w, count in enumerate(row):
                    if count > MAX_WORD_SUBTOKENS:
                        self._warn_long_word(words[w], count)
                        row[w] = MAX_WORD_SUBTOKENS
            counts.append(row)
        return counts

    def _warn_long_word(self, word: str, n_tokens: int) -> None:
        if not self._warned_long_word:
            self._warned_long_word = True
            warn(Warnings.W002.format(n_tokens=n_tokens, word=word[:40], cap=MAX_WORD_SUBTOKENS))

    def _read_row(
        self, ids: List[int], word_ids: List[Optional[int]], n_prompt_words: int, n_words: int
    ) -> Tuple[List[int], List[int], List[int]]:
        """One pass over a row's sub-tokens: the ids the model gets (a text word's sub-tokens past
        its first MAX_WORD_SUBTOKENS left out; the prompt is never cut), each text word's first
        sub-token position (-1 for a word with none), and the positions of the label markers."""
        kept: List[int] = []
        positions = [-1] * n_words
        ent_positions: List[int] = []
        previous: Optional[int] = None
        run = 0
        for token, wid in zip(ids, word_ids):
            if wid is None:
                previous = None
                kept.append(token)
                continue
            if wid < n_prompt_words:
                if token == self.class_token_index:
                    ent_positions.append(len(kept))
            elif wid != previous:
                positions[wid - n_prompt_words] = len(kept)
                run = 1
            else:
                run += 1
                if run > MAX_WORD_SUBTOKENS:
                    continue
            previous = wid
            kept.append(token)
        return kept, positions, ent_positions

    def label_inputs(self, prompts: Tuple[str, ...]) -> Dict[str, torch.Tensor]:
        if prompts not in self._label_inputs:
            enc = self.labels_tokenizer(list(prompts), return_tensors="pt", truncation=True, padding="longest")
            self._label_inputs[prompts] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        return self._label_inputs[prompts]

    def encode(self, windows: Sequence[Sequence[str]], prompts: Sequence[Tuple[str, ...]]) -> EncodedBatch:
        """Tokenize a batch of word windows, row i prompted with the label prompts `prompts[i]`."""
        n_rows = len(windows)
        prompt_words = [self.prompt_words(p) for p in prompts]
        texts = [pw + list(words) for pw, words in zip(prompt_words, windows)]
        enc = self.tokenizer(texts, is_split_into_words=True, add_special_tokens=True, truncation=False)
        rows = [self._read_row(enc["input_ids"][i], enc.word_ids(i), len(prompt_words[i]), len(windows[i])) for i in range(n_rows)]
        n_tokens = max(len(ids) for ids, _, _ in rows)
        n_words = max(len(w) for w in windows)
        n_labels = max(len(p) for p in prompts)
        input_ids = torch.full((n_rows, n_tokens), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((n_rows, n_tokens), dtype=torch.long)
        word_index = torch.full((n_rows, n_words), -1, dtype=torch.long)
        prompt_index = torch.full((n_rows, n_labels), -1, dtype=torch.long)
        label_mask = torch.zeros((n_rows, n_labels), dtype=torch.bool)
        for i, (ids, positions, ent_positions) in enumerate(rows):
            input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[i, : len(ids)] = 1
            word_index[i, : len(positions)] = torch.tensor(positions, dtype=torch.long)
            label_mask[i, : len(prompts[i])] = True
            if not self.is_bi_encoder:
                if len(ent_positions) != len(prompts[i]):
                    raise GlinerError(
                        Errors.E031.format(n_markers=len(ent_positions), token=self.ent_token, n_labels=len(prompts[i]))
                    )
                prompt_index[i, : len(ent_positions)] = torch.tensor(ent_positions, dtype=torch.long)
        word_lengths = torch.tensor([len(w) for w in windows], dtype=torch.long)
        batch = EncodedBatch(
            input_ids=input_ids,
            attention_mask=attention_mask,
            word_token_index=word_index,
            word_lengths=word_lengths,
            label_mask=label_mask,
        )
        if not self.is_bi_encoder:
            batch.prompt_index = prompt_index
            return batch
        shared = all(p == prompts[0] for p in prompts)
        if shared:
            batch.label_prompts = tuple(prompts[0])
        else:
            union = tuple(dict.fromkeys(p for row in prompts for p in row))
            where = {p: j for j, p in enumerate(union)}
            label_rows = torch.zeros((n_rows, n_labels), dtype=torch.long)
            for i, row in enumerate(prompts):
                label_rows[i, : len(row)] = torch.tensor([where[p] for p in row], dtype=torch.long)
            batch.label_prompts = union
            batch.label_rows = label_rows
        batch.label_inputs = self.label_inputs(batch.label_prompts)
        return batch
