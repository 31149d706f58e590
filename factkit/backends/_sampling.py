"""Greedy decoding under a grammar, checking the grammar against one token instead of the whole vocabulary.

llama-cpp-python samples with the chain [repetition penalties, grammar, greedy]; its grammar step tests every
one of the model's 151,936 tokens at every step, which cost ~27 ms a token here (~40% of generation time).
llama.cpp's own tools avoid that: take the best token first, ask the grammar about that one token only, and
run the full grammar pass only when the grammar refuses it. With greedy decoding the answer is the same
token either way (the highest-scoring token the grammar allows), so outputs are unchanged; only the work is.

Used only for temperature 0 with a grammar and no custom logits processors; everything else goes through
llama-cpp-python's own sampler. One deliberate difference: a list that starts repeating an item is ended
(:mod:`factkit.backends._jsonscan`), where the stock sampler lets a small model loop to the list's maxItems.
"""

from __future__ import annotations

import ctypes
from collections import deque
from typing import Any

import llama_cpp
import numpy as np

from ._jsonscan import JsonScanner

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class GreedyGrammarSampler:
    """A drop-in for llama-cpp-python's ``LlamaSampler`` (the ``sample(ctx, idx)`` it calls) for greedy runs."""

    def __init__(
        self,
        model: Any,
        grammar: Any,
        n_vocab: int,
        *,
        penalty_last_n: int = 64,
        penalty_repeat: float = 1.0,
        penalty_freq: float = 0.0,
        penalty_present: float = 0.0,
    ) -> None:
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.n_vocab = n_vocab
        self.recent: deque[int] = deque(maxlen=max(0, penalty_last_n))
        self.repeat = np.float32(penalty_repeat)
        self.freq = np.float32(penalty_freq)
        self.present = np.float32(penalty_present)
        neutral = penalty_repeat == 1.0 and penalty_freq == 0.0 and penalty_present == 0.0
        self._neutral = penalty_last_n == 0 or neutral
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        self._all = (llama_cpp.llama_token_data * n_vocab)()
        self._all_np = np.frombuffer(memoryview(self._all), dtype=_TOKEN_DATA)
        self._all_array = llama_cpp.llama_token_data_array(self._all, n_vocab, -1, False)
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self.full_passes = 0
        self.steps = 0
        self.list_stops = 0  # times a list that began repeating itself was ended
        self.scanner = JsonScanner()
        self._vocab = model.vocab
        self._pieces: dict[int, bytes] = {}

    def _penalised(self, logits: np.ndarray) -> np.ndarray:
        """llama.cpp's penalties sampler, on the tokens of the last ``penalty_last_n`` steps only."""
        if self._neutral or not self.recent:
            return logits
        out = logits.copy()
        ids, counts = np.unique(np.fromiter(self.recent, dtype=np.int64), return_counts=True)
        vals = out[ids]
        vals = np.where(vals <= 0, vals * self.repeat, vals / self.repeat).astype(np.float32)
        vals -= counts.astype(np.float32) * self.freq + np.float32(1.0) * self.present
        out[ids] = vals
        return out

    def sample(self, ctx: Any, idx: int = -1) -> int:
        self.steps += 1
        ptr = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = self._penalised(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)))
        token = int(np.argmax(logits))
        if not (self._grammar_allows(token, float(logits[token])) and self.scanner.allows(self._piece(token))):
            token = self._best_allowed(logits)
        llama_cpp.llama_sampler_accept(self._grammar, token)
        self.scanner.feed(self._piece(token))
        self.recent.append(token)
        return token

    def _grammar_allows(self, token: int, logit: float) -> bool:
        self._one[0].id = token  # type: ignore[assignment]
        self._one[0].logit = logit
        self._one_array.size = 1
        self._one_array.selected = -1
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(self._one_array))
        return bool(np.isfinite(self._one[0].logit))

    def _best_allowed(self, logits: np.ndarray) -> int:
        """The slow path: score the whole vocabulary under the grammar, take the best token it allows (the
        lowest id among equals, as llama.cpp's greedy sampler does) that doesn't continue a repeating list."""
        self.full_passes += 1
        self._all_np["id"] = self._ids
        self._all_np["logit"] = logits
        self._all_np["p"] = 0.0
        self._all_array.size = self.n_vocab
        self._all_array.selected = -1
        self._all_array.sorted = False
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(self._all_array))
        allowed = self._all_np["logit"]
        best = int(np.argmax(allowed))
        if not np.isfinite(allowed[best]):
            raise RuntimeError("the grammar allows no token here")
        if self.scanner.allows(self._piece(best)):
            return best
        ids = np.flatnonzero(np.isfinite(allowed))
        for i in ids[np.lexsort((ids, -allowed[ids]))]:
            if self.scanner.allows(self._piece(int(i))):
                self.list_stops += 1
                return int(i)
        return best  # nothing else fits: let the list go on

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            size = 64
            while True:
                buf = ctypes.create_string_buffer(size)
                n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, size, 0, False)
                if n >= 0:
                    break
                size = -n  # the piece is longer than the buffer: llama.cpp says how long
            piece = buf.raw[:n]
            self._pieces[token] = piece
        return piece

    def close(self) -> None:
        if self._grammar:
            llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None

    def __del__(self) -> None:
        self.close()


def make_llama_class(base: type) -> type:
    """A ``llama_cpp.Llama`` subclass that uses :class:`GreedyGrammarSampler` where it gives the same tokens."""

    class FastGrammarLlama(base):
        last_sampler: GreedyGrammarSampler | None = None

        def _init_sampler(self, **kw: Any) -> Any:
            if (
                kw.get("grammar") is None
                or kw.get("temp", 0.8) != 0.0
                or kw.get("logits_processor")
                or kw.get("mirostat_mode", 0)
            ):
                return super()._init_sampler(**kw)
            sampler = GreedyGrammarSampler(
                self._model,
                kw["grammar"],
                self.n_vocab(),
                penalty_last_n=self.last_n_tokens_size,
                penalty_repeat=kw.get("repeat_penalty", 1.0),
                penalty_freq=kw.get("frequency_penalty", 0.0),
                penalty_present=kw.get("presence_penalty", 0.0),
            )
            self.last_sampler = sampler
            return sampler

    return FastGrammarLlama
