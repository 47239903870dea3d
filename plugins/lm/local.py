"""The ``local`` backend: a causal LM from a GGUF file or a Hugging Face folder, run by
``transformers`` on CPU or CUDA. Nothing is ever fetched from a model hub
(``HF_HUB_OFFLINE=1``); the tokenizer comes from the GGUF file or the folder.

A GGUF file is de-quantized by transformers' GGUF loader (tens of seconds); the result is
kept as a safetensors folder beside the models (keyed by the GGUF's sha256), so later
loads take about a second.

A GGUF model's Q4_1/Q8_0 linear layers run on the file's own blocks for decode steps of at
most two rows (``plugins/lm/gguf_packed.py``; ``packed=0`` turns it off): the same weights,
a sixth of the bytes read per token.

Generation is a hand-written decode loop over the model's forward pass rather than
``model.generate``: left-padded batches whose common token prefix (the chat template's
system turn, a shared instruction) runs once and is shared through the key/value cache,
eager attention for decode steps and short prompts (SDPA's CPU path costs more than the
arithmetic of a model this small there) and SDPA for passes of 256 tokens or more, the
key/value cache of finished rows dropped, only the last position's logits computed. Greedy decoding is argmax; sampling draws from the
temperature-scaled, top-p-truncated distribution with one generator per request seeded by
(seed, sample_index), so a sampled answer does not depend on the batch it ran in.

Log-likelihood: for context c and continuation x with tokens x_1..x_n (the tokens of c+x
after those of c, as lm-evaluation-harness splits them),
log P(x | c) = Σ_i log softmax(f(c, x_<i))[x_i]; ``is_greedy`` says each x_i is the argmax.
Requests that share a context (a multiple-choice question's options) share one pass over
it: a batch is one forward pass over its distinct contexts (left-padded, key/value cache
kept, logits of the last position only) and one over all continuations, each row reusing
its context's cache rows. Logits are computed only where a continuation token is predicted
(the vocabulary projection is a fifth of the model's arithmetic per position).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from affrepro.errors import ContextTooLong, ModelError, ModelFileError
from affrepro.fileio import sha256_file
from affrepro.lm import (Capabilities, GenerateRequest, Generation, LanguageModel, Loglikelihood,
                         LoglikelihoodRequest)
from affrepro.plugins.lm import smollm2

_LL_TOKENS_PER_BATCH = 8192


_SDPA_FROM = 256  # query tokens per pass; see LocalModel._attention
_MIN_SHARED_PREFIX = 8  # tokens: a shorter common prefix is not worth its own pass
_MIN_SHARED_FRACTION = 0.25  # of a prefix group's context tokens that sharing must save


def _common_prefix(seqs: Sequence[Sequence[int]]) -> int:
    """The number of leading tokens every sequence shares."""
    first, n = seqs[0], min(map(len, seqs))
    for s in seqs[1:]:
        k = 0
        while k < n and s[k] == first[k]:
            k += 1
        n = k
    return n


def _prefix_groups(contexts: Sequence[tuple[int, ...]]) -> list[tuple[int, list[tuple[int, ...]]]]:
    """Distinct contexts, in token order, cut into runs that share a prefix worth one pass
    of its own: (prefix length, contexts); prefix length 0 for a context that goes alone.

    The cut maximises the tokens not recomputed, Σ_runs (size − 1) · prefix (dynamic
    programming over the sorted contexts; a run's prefix is the smallest common prefix of
    neighbours in it). Every member keeps at least one token of its own (its last position
    predicts the continuation); a prefix under ``_MIN_SHARED_PREFIX`` tokens is not shared."""
    cs = sorted(contexts)
    n = len(cs)
    lcp = [0] + [min(_common_prefix([cs[k - 1], cs[k]]), len(cs[k - 1]) - 1, len(cs[k]) - 1)
                 for k in range(1, n)]
    best = [0] * (n + 1)  # best[j]: the most tokens saved over cs[:j]
    start = [0] * (n + 1)  # where the last run of that cut starts
    for j in range(1, n + 1):
        best[j], start[j] = best[j - 1], j - 1  # cs[j-1] alone
        p = None
        for i in range(j - 2, -1, -1):  # run cs[i:j]
            p = lcp[i + 1] if p is None else min(p, lcp[i + 1])
            if p < _MIN_SHARED_PREFIX:
                break
            if best[i] + (j - i - 1) * p > best[j]:
                best[j], start[j] = best[i] + (j - i - 1) * p, i
    out: list[tuple[int, list[tuple[int, ...]]]] = []
    j = n
    while j > 0:
        i = start[j]
        run = cs[i:j]
        out.append((min(lcp[i + 1:j]), run) if len(run) > 1 else (0, run))
        j = i
    return out[::-1]


def _offline() -> None:
    from affrepro.plugins.lm._hf import import_transformers

    import_transformers()  # offline, and past the checkout's kernels/ folder


def _numba_threads(n: int) -> int:
    """Sets numba's threads (the packed kernels') to n, at most its pool; returns the old count."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    return before


def _say(msg: str) -> None:
    print(f"affrepro: {msg}", file=sys.stderr, flush=True)


def load(target: str, options: Mapping[str, str]) -> "LocalModel":
    """``target``: ``smollm2-135m`` (fetched on first use), a .gguf file or an HF folder."""
    if target == smollm2.NAME:
        path = smollm2.fetch(say=_say)
        return LocalModel(path, options, name=smollm2.NAME, known_sha256=smollm2.GGUF_SHA256)
    if not target:
        raise ModelError("local: give a path, e.g. local:/models/model.gguf or local:/models/hf-folder")
    path = Path(target).expanduser()
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file or folder")
    return LocalModel(path, options, name=path.name)


def _folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file()
                   and (p.suffix in {".safetensors", ".bin", ".json", ".model", ".jinja"}))
    if not any(p.suffix in {".safetensors", ".bin"} for p in files):
        raise ModelFileError(f"{folder}: no weights (*.safetensors or *.bin) in this folder")
    for p in files:
        h.update(p.name.encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


class LocalModel(LanguageModel):
    backend = "local"

    def __init__(self, path: Path, options: Mapping[str, str], name: str,
                 known_sha256: str | None = None):
        import torch

        self.path, self.name = Path(path), name
        opts = dict(options)
        self.device = opts.pop("device", "cpu")
        dtype_name = opts.pop("dtype", "float32")
        # int8: float32 weights, then every linear layer dynamically quantized to int8
        # (torch.ao, fbgemm on x86): a quarter of the bytes read per token, outputs differ
        self.int8 = dtype_name == "int8"
        if self.int8:
            if self.device != "cpu":
                raise ModelError("local: dtype=int8 runs on the CPU only")
            dtype_name = "float32"
        try:
            self.dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16,
                          "float16": torch.float16}[dtype_name]
        except KeyError:
            raise ModelError(f"local: dtype {dtype_name!r}: expected float32, bfloat16 or float16") from None
        max_context = opts.pop("max_context", None)
        self.preferred_batch_size = int(opts.pop("batch_size", 16))
        threads = opts.pop("threads", "auto")
        self.threads = None if threads == "auto" else int(threads)
        # packed: a GGUF file's linear layers run on its own Q4_1/Q8_0 blocks (see
        # plugins/lm/gguf_packed.py); on by default for a GGUF file on the CPU in float32
        packed = opts.pop("packed", "auto")
        if packed not in {"auto", "0", "1"}:
            raise ModelError(f"local: packed={packed!r}: expected 0 or 1")
        packed_rows = opts.pop("packed_rows", "0")
        if not packed_rows.isdigit():
            raise ModelError(f"local: packed_rows={packed_rows!r}: expected a whole number of rows")
        self.packed_rows = int(packed_rows) or None
        # fused: decode steps of packed models as one compiled call over every layer (see
        # plugins/lm/fused_decode.py); on wherever the packed path is and the model allows
        fused = opts.pop("fused", "auto")
        if fused not in {"auto", "0", "1"}:
            raise ModelError(f"local: fused={fused!r}: expected 0 or 1")
        if opts:
            raise ModelError(f"local: unknown option(s) {', '.join(sorted(opts))}; known: "
                             "device, dtype, max_context, batch_size, threads, packed, packed_rows, fused")
        if self.path.is_file():
            if known_sha256 is not None:
                smollm2.verify(self.path)
                self._fingerprint = "sha256:" + known_sha256
            else:
                self._fingerprint = "sha256:" + sha256_file(self.path)
            self._folder = None  # converted on first use
        else:
            self._folder = self.path
            self._fingerprint = "sha256-folder:" + _folder_fingerprint(self.path)
        if self.int8:  # other numbers: another cache key
            self._fingerprint += "+int8"
        plain = self.device == "cpu" and self.dtype == torch.float32 and not self.int8
        if packed == "1" and not (self.path.is_file() and plain):
            raise ModelError("local: packed=1 needs a GGUF file on the CPU in float32")
        # the same weights, the same arithmetic up to float32 rounding: the same cache key
        self.packed = packed != "0" and self.path.is_file() and plain
        self.packed_layers: dict[str, int] = {}
        if fused == "1" and not self.packed:
            raise ModelError("local: fused=1 needs the packed path (a GGUF file on the CPU in float32)")
        self._fused_option = fused
        self.fused = None  # DecodeWeights once loaded, where the model allows it
        self.fused_reason = "off (fused=0)" if fused == "0" else "decided when the weights load"
        self._max_context = max_context
        self._loaded = False

    # The weights load on first use: a run answered entirely from the request cache needs
    # only the fingerprint, so it never converts or loads the model.
    _LAZY = frozenset({"model", "tokenizer", "eos_ids", "pad_id", "_torch", "_cache_kw"})

    def __getattr__(self, name: str):
        if name in LocalModel._LAZY and not self.__dict__.get("_loaded", True):
            self._ensure_loaded()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def folder(self) -> Path:
        """The transformers folder (a GGUF file is converted once, on first use)."""
        if self._folder is None:
            self._folder = self._converted(self.path, self._fingerprint[7:].removesuffix("+int8"))
        return self._folder

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            self._load(self.folder)
        except BaseException:
            self._loaded = False
            raise
        self._caps = self._capabilities(
            int(getattr(self.model.config, "max_position_embeddings", 0) or 0),
            self.tokenizer.chat_template is not None)

    def _capabilities(self, positions: int, chat: bool) -> Capabilities:
        limit = positions
        if self._max_context is not None:
            limit = min(limit, int(self._max_context)) if limit else int(self._max_context)
        return Capabilities(chat=chat, logprobs=True, max_context=limit)

    def _capabilities_from_files(self) -> Capabilities:
        """From config.json and the tokenizer files, without loading the weights."""
        folder = self.folder
        try:
            cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            tok_cfg = folder / "tokenizer_config.json"
            chat = ((folder / "chat_template.jinja").is_file()
                    or (tok_cfg.is_file() and bool(json.loads(tok_cfg.read_text(encoding="utf-8")).get("chat_template"))))
        except (OSError, ValueError):
            self._ensure_loaded()
            return self._caps
        return self._capabilities(int(cfg.get("max_position_embeddings") or 0), chat)

    # -- loading -------------------------------------------------------------------------

    def _converted(self, gguf: Path, sha: str) -> Path:
        """The de-quantized safetensors folder of a GGUF file, made once."""
        folder = smollm2.models_dir() / "converted" / sha[:24]
        if (folder / "config.json").is_file():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        _say(f"converting {gguf.name} to a transformers folder (once; {folder})")
        _offline()
        import torch
        from safetensors.torch import save_file
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                         dtype=torch.float32)
        except Exception as exc:
            raise ModelFileError(f"{gguf}: cannot be read as a GGUF model "
                                 f"(sha256 {sha}): {type(exc).__name__}: {exc}") from exc
        cfg = model.config
        if hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if getattr(cfg, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=folder.parent))
        try:
            save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            tok.save_pretrained(tmp)
            cfg.save_pretrained(tmp)  # config.json last: it marks the folder complete
            (tmp / "source.json").write_text(json.dumps({"gguf": str(gguf), "sha256": sha}))
            try:
                os.replace(tmp, folder)
            except OSError:  # another process finished first
                if not (folder / "config.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def _load(self, folder: Path) -> None:
        _offline()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModelForCausalLM.from_pretrained(
                folder, dtype=self.dtype, attn_implementation="eager").to(self.device).eval()
            if self.int8:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.model = torch.ao.quantization.quantize_dynamic(
                        self.model, {torch.nn.Linear}, dtype=torch.qint8)
        except Exception as exc:
            raise ModelFileError(f"{folder}: cannot be loaded by transformers: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if self.packed:
            from affrepro.plugins.lm import gguf_packed

            self.packed_layers = gguf_packed.install(self.model, self.path, self._packed_max_rows(),
                                                     cache_dir=folder)
            if self._fused_option != "0":
                from affrepro.plugins.lm import fused_decode

                self.fused, self.fused_reason = fused_decode.weights(self.model)
                if self.fused is None and self._fused_option == "1":
                    raise ModelError(f"local: fused=1 but this model cannot use it: {self.fused_reason}")
        tok = self.tokenizer
        eos = {tok.eos_token_id}
        cfg_eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos.update(cfg_eos if isinstance(cfg_eos, list) else [cfg_eos])
        self.eos_ids = sorted(i for i in eos if i is not None)
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.eos_ids[0]
        self._torch = torch
        import inspect

        # transformers 5.x renamed past_key_values to cache
        params = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"

    # -- interface -----------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def capabilities(self) -> Capabilities:
        if "_caps" not in self.__dict__:
            self._caps = self._capabilities_from_files()
        return self._caps

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def describe(self) -> dict[str, Any]:
        if not self._loaded:  # answered from the cache: the weights were never needed
            d = {"backend": self.backend, "name": self.name, "fingerprint": self.fingerprint,
                 "weights_loaded": False}
        else:
            d = {**super().describe(), "weights_loaded": True}
        d.update(path=str(self.path), device=self.device,
                 dtype="int8" if self.int8 else str(self.dtype).replace("torch.", ""),
                 packed=self.packed, fused=(self.fused is not None) if self._loaded else None,
                 threads=self._threads_label())
        return d

    def prompt_ids(self, request: GenerateRequest) -> list[int]:
        if request.messages is not None:
            if self.tokenizer.chat_template is None:
                from affrepro.errors import CapabilityMissing

                raise CapabilityMissing(self.name, "chat", "the tokenizer has no chat template")
            text = self.tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in request.messages],
                add_generation_prompt=True, tokenize=False)
        else:
            text = request.prompt
        return self.tokenizer.encode(text, add_special_tokens=False)

    def _check_context(self, n: int, what: str) -> None:
        if self._caps.max_context and n > self._caps.max_context:
            raise ContextTooLong(self.name, n, self._caps.max_context, what)

    def _threads(self):
        """torch's CPU threads for one call. ``auto``: every core on an idle machine, one on a
        busy one — OpenMP's spinning threads lose 10x on oversubscribed cores (measured here:
        0.45 vs 4.4 tokens/s at load 11 on 2 cores) — decided once, at the model's first
        call, and kept: log-likelihoods differ in their last bits across thread counts, so
        a choice per call would make a run's numbers depend on how the load moved."""
        import contextlib

        torch = self._torch
        n = self.effective_threads()

        @contextlib.contextmanager
        def scope():
            before = torch.get_num_threads()
            torch.set_num_threads(n)
            numba_before = _numba_threads(n) if self.packed else None
            try:
                yield
            finally:
                torch.set_num_threads(before)
                if numba_before is not None:
                    _numba_threads(numba_before)

        return scope()

    def effective_threads(self) -> int:
        """The thread count every call of this model uses (``threads``, or ``auto``'s choice
        made at the first call)."""
        if self.threads is not None:
            return self.threads
        if self.__dict__.get("_auto_threads") is None:
            cores = os.cpu_count() or 1
            self._auto_threads = cores if os.getloadavg()[0] < 0.75 * cores else 1
        return self._auto_threads

    def _threads_label(self):
        """``threads`` as the report shows it: the number given, ``auto (N)`` once chosen."""
        if self.threads is not None:
            return self.threads
        chosen = self.__dict__.get("_auto_threads")
        return f"auto ({chosen})" if chosen else "auto"

    def _attention(self, query_tokens: int):
        """Eager attention for short passes (decode steps, short prompts: SDPA's CPU path
        costs more than the arithmetic there), SDPA from ``_SDPA_FROM`` query tokens on
        (its fused kernel never builds the T×T score matrix: 1.7× faster than eager on a
        4 × 900-token prefill here, logits within 1e-4)."""
        import contextlib

        cfg = self.model.config
        impl = "sdpa" if query_tokens >= _SDPA_FROM and self.device == "cpu" else "eager"

        @contextlib.contextmanager
        def scope():
            before = cfg._attn_implementation
            cfg._attn_implementation = impl
            try:
                yield
            finally:
                cfg._attn_implementation = before

        return scope()

    def _torch_serial(self, rows: int):
        """One torch thread for a pass whose linear layers all run the packed kernels (at
        most ``packed_rows`` rows): torch's ops there are tiny, and torch and numba bring
        two OpenMP runtimes whose idle threads spin — two pools on two cores fight."""
        import contextlib

        torch = self._torch
        if not (self.packed and self.packed_layers) or rows > self._packed_max_rows():
            return contextlib.nullcontext()

        @contextlib.contextmanager
        def scope():
            before = torch.get_num_threads()
            if before > 1:
                torch.set_num_threads(1)
            try:
                yield
            finally:
                if before > 1:
                    torch.set_num_threads(before)

        return scope()

    def _packed_max_rows(self) -> int:
        from affrepro.plugins.lm import gguf_packed

        return self.packed_rows or gguf_packed.DEFAULT_MAX_ROWS

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        with self._threads():
            return self._generate(requests)

    def _generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        prompts = [self.prompt_ids(r) for r in requests]
        for r, ids in zip(requests, prompts):
            self._check_context(len(ids) + r.settings.max_new_tokens,
                                f"prompt plus max_new_tokens ({len(ids)} + {r.settings.max_new_tokens})")
        out: list[Generation | None] = [None] * len(requests)
        order = sorted(range(len(requests)), key=lambda i: -len(prompts[i]))
        step = max(1, self.preferred_batch_size)
        for s in range(0, len(order), step):
            idx = order[s:s + step]
            for i, g in zip(idx, self._generate_batch([requests[i] for i in idx], [prompts[i] for i in idx])):
                out[i] = g
        return out  # type: ignore[return-value]

    def _generate_batch(self, requests: list[GenerateRequest], prompts: list[list[int]]) -> list[Generation]:
        torch = self._torch
        from transformers import DynamicCache

        from affrepro.plugins.lm.fused_decode import decode_cache

        B = len(prompts)
        cache = DynamicCache(config=self.model.config)
        shared = _common_prefix(prompts) if B > 1 else 0
        shared = min(shared, min(map(len, prompts)) - 1)  # every row keeps a token of its own
        if shared < _MIN_SHARED_PREFIX:
            shared = 0
        if shared:  # one pass over the prefix every prompt shares (a chat template's system turn, an instruction)
            with torch.inference_mode(), self._attention(shared):
                self.model(input_ids=torch.tensor([prompts[0][:shared]], device=self.device), use_cache=True,
                           logits_to_keep=1, **{self._cache_kw: cache})
            cache.batch_select_indices(torch.zeros(B, dtype=torch.long, device=self.device))
        rests = [p[shared:] for p in prompts]
        width = max(len(p) for p in rests)
        ids = torch.full((B, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((B, shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for b, p in enumerate(rests):  # left padding: every row's next token is at the end
            ids[b, width - len(p):] = torch.tensor(p)
            mask[b, shared + width - len(p):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        max_new = [r.settings.max_new_tokens for r in requests]
        generators = []
        for r in requests:
            if r.settings.greedy:
                generators.append(None)
            else:
                g = torch.Generator(device="cpu")
                g.manual_seed(int.from_bytes(hashlib.sha256(
                    f"{r.seed}:{r.sample_index}".encode()).digest()[:8], "little") & (2**63 - 1))
                generators.append(g)
        produced: list[list[int]] = [[] for _ in range(B)]
        finish = ["length"] * B
        alive = list(range(B))  # original row of each row still in the batch
        eos = set(self.eos_ids)
        fused = None  # the fused step's cache, once decoding has switched to it
        with torch.inference_mode():
            step_ids, step_pos, attn = ids, positions, mask
            while alive:
                if fused is None and self._fused_fits(step_ids, attn):
                    fused = decode_cache(cache, attn, max(max_new[a] - len(produced[a]) for a in alive))
                if fused is not None:
                    logits = torch.from_numpy(self._fused_step(fused, step_ids, step_pos))
                else:
                    with self._attention(step_ids.shape[1]), self._torch_serial(step_ids.numel()):
                        out = self.model(input_ids=step_ids, attention_mask=attn, position_ids=step_pos,
                                         use_cache=True, logits_to_keep=1, **{self._cache_kw: cache})
                    logits = out.logits[:, -1, :].float()
                next_tokens = self._choose(logits, [requests[a] for a in alive], [generators[a] for a in alive])
                keep = []
                for row, a in enumerate(alive):
                    t = next_tokens[row]
                    if t in eos:
                        finish[a] = "stop"
                        continue
                    produced[a].append(t)
                    stop = requests[a].settings.stop
                    if stop and self._hits_stop(produced[a], stop):
                        finish[a] = "stop"
                        continue
                    if len(produced[a]) >= max_new[a]:
                        continue
                    keep.append(row)
                if not keep:
                    break
                if len(keep) < len(alive):
                    sel = torch.tensor(keep, device=self.device)
                    if fused is not None:
                        fused.select(keep)
                    else:
                        cache.batch_select_indices(sel)
                    attn, step_pos = attn[sel], step_pos[sel]
                    alive = [alive[r] for r in keep]
                    chosen = [next_tokens[r] for r in keep]
                else:
                    chosen = next_tokens
                step_ids = torch.tensor(chosen, device=self.device).unsqueeze(1)
                step_pos = step_pos[:, -1:] + 1
                attn = torch.cat([attn, torch.ones((len(alive), 1), dtype=attn.dtype, device=self.device)], 1)
        results = []
        for b, r in enumerate(requests):
            text = self.tokenizer.decode(produced[b], skip_special_tokens=True)
            for s in r.settings.stop:
                cut = text.find(s)
                if cut >= 0:
                    text = text[:cut]
            results.append(Generation(text=text, prompt_tokens=len(prompts[b]),
                                      completion_tokens=len(produced[b]), finish_reason=finish[b]))
        return results

    def _fused_fits(self, step_ids, attn) -> bool:
        """A decode step (one new token a row, after at least one token in the cache) on a
        model the fused step can run, with no more rows than the packed layers take
        (their ``max_rows``: ``packed_rows``, or what ``gguf_packed.rows_limit`` set)."""
        return (self.fused is not None and step_ids.shape[1] == 1 and attn.shape[1] > 1
                and step_ids.shape[0] <= self.model.lm_head.max_rows)

    def _fused_step(self, fused, step_ids, step_pos):
        from affrepro.kernels.llama_decode import decode_step

        return decode_step(self.fused, fused, step_ids[:, 0].numpy(), step_pos[:, 0].numpy())

    def _hits_stop(self, produced: list[int], stop: tuple[str, ...]) -> bool:
        tail = self.tokenizer.decode(produced[-32:], skip_special_tokens=True)
        return any(s in tail for s in stop)

    def _choose(self, logits, requests: list[GenerateRequest], generators) -> list[int]:
        torch = self._torch
        greedy = logits.argmax(-1).tolist()
        for row, (r, g) in enumerate(zip(requests, generators)):
            if g is None:
                continue
            probs = torch.softmax(logits[row] / r.settings.temperature, -1).cpu()
            if r.settings.top_p < 1.0:
                sorted_p, order = probs.sort(descending=True)
                drop = sorted_p.cumsum(0) - sorted_p > r.settings.top_p  # keep the smallest nucleus
                sorted_p[drop] = 0.0
                probs = torch.zeros_like(probs).scatter_(0, order, sorted_p)
            greedy[row] = int(torch.multinomial(probs, 1, generator=g))
        return greedy

    # -- log-likelihood ------------------------------------------------------------------

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """lm-evaluation-harness's split: trailing spaces of the context move to the
        continuation; the continuation's tokens are those of context+continuation after the
        context's. An empty context is replaced by the end-of-text token."""
        n_space = len(context) - len(context.rstrip())
        if n_space:
            continuation = context[-n_space:] + continuation
            context = context[:-n_space]
        enc = lambda s: self.tokenizer.encode(s, add_special_tokens=False)
        whole = enc(context + continuation)
        ctx = enc(context)
        cont = whole[len(ctx):]
        if not ctx:
            ctx = [self.eos_ids[0]]
        if not cont:
            raise ModelError(f"continuation {continuation!r} has no tokens of its own after "
                             f"context {context[-40:]!r} (the tokenizer merged them)")
        return ctx, cont

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        with self._threads():
            return self._loglikelihood(requests)

    def _loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        pairs = [self.encode_pair(r.context, r.continuation) for r in requests]
        for ctx, cont in pairs:
            self._check_context(len(ctx) + len(cont), "context plus continuation")
        out: list[Loglikelihood | None] = [None] * len(requests)
        # requests with the same context (the options of a multiple-choice question) share
        # one pass over it
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (ctx, _) in enumerate(pairs):
            groups.setdefault(tuple(ctx), []).append(i)
        # contexts that share a long token prefix (a task's instruction and stimulus, its
        # demonstrations) share one pass over that prefix too; the rest go alone
        shared, alone = [], []
        for prefix_len, members in _prefix_groups(list(groups)):
            saved = (len(members) - 1) * prefix_len
            # sharing pays where it saves a good part of the group's tokens: its three passes
            # and the padding of its rests cost more than a short prefix saves (measured here:
            # 1.3-1.5x faster on zero-shot BIG-Bench calls, 0.8x on 5-shot ones without this)
            (shared if saved >= _MIN_SHARED_FRACTION * sum(map(len, members)) else alone).append(
                (prefix_len, members))
        # longest first, so a batch's first group sets its widths
        shared.sort(key=lambda g: -max(map(len, g[1])))
        self._score_prefixed(shared, groups, pairs, out)
        lone = [c for _, members in alone for c in members]
        # longest contexts first, so a batch's first group sets its width
        order = sorted(lone, key=lambda c: -(len(c) + max(len(pairs[i][1]) for i in groups[c])))
        batch: list[tuple[int, ...]] = []
        rows = 0
        for ctx in order:
            width = len(batch[0]) if batch else len(ctx)
            if batch and width * (rows + len(groups[ctx])) > _LL_TOKENS_PER_BATCH:
                self._score_shared(batch, groups, pairs, out)
                batch, rows = [], 0
            batch.append(ctx)
            rows += len(groups[ctx])
        if batch:
            self._score_shared(batch, groups, pairs, out)
        return out  # type: ignore[return-value]

    def _score_prefixed(self, prefix_groups, groups, pairs, out) -> None:
        """Score contexts that share a prefix: batches of whole prefix groups (a group too
        big for one batch is cut into pieces, each running the prefix again), each batch
        one pass over its distinct prefixes, one over the rest of every context, one over
        every continuation; each pass reuses the key/value cache of the one before."""
        batch: list[tuple[int, list[tuple[int, ...]]]] = []

        def cost(b):  # rows × (prefix width + rest width): the key/value cache held at the end
            rows = sum(len(groups[c]) for _, cs in b for c in cs)
            return rows * (max(p for p, _ in b) + max(len(c) - p for p, cs in b for c in cs))

        for p, members in prefix_groups:
            piece: list[tuple[int, ...]] = []
            for c in members:
                if piece and cost([(p, piece + [c])]) > _LL_TOKENS_PER_BATCH:
                    batch = self._add_piece(batch, (p, piece), cost, groups, pairs, out)
                    piece = []
                piece.append(c)
            if piece:
                batch = self._add_piece(batch, (p, piece), cost, groups, pairs, out)
        if batch:
            self._score_with_prefixes(batch, groups, pairs, out)

    def _add_piece(self, batch, piece, cost, groups, pairs, out):
        if batch and cost(batch + [piece]) > _LL_TOKENS_PER_BATCH:
            self._score_with_prefixes(batch, groups, pairs, out)
            batch = []
        return batch + [piece]

    def _score_with_prefixes(self, batch, groups, pairs, out) -> None:
        """Pass A: the distinct prefixes (left-padded); pass B: each context's tokens after
        its prefix (left-padded after the prefix block, so every row ends at the same column;
        logits of the last position only); pass C: every continuation, as in
        ``_score_shared``. Padding is masked and positions are counted over real tokens
        only, so each row sees exactly its own context."""
        torch = self._torch
        from transformers import DynamicCache

        dev = self.device
        wa = max(p for p, _ in batch)
        wb = max(len(c) - p for p, cs in batch for c in cs)
        ids_a = torch.full((len(batch), wa), self.pad_id, dtype=torch.long)
        mask_a = torch.zeros((len(batch), wa), dtype=torch.long)
        contexts, group_of, ids_b, mask_b = [], [], [], []
        for g, (p, cs) in enumerate(batch):
            ids_a[g, wa - p:] = torch.tensor(cs[0][:p])
            mask_a[g, wa - p:] = 1
            for c in cs:
                rest = c[p:]
                contexts.append(c)
                group_of.append(g)
                ids_b.append([self.pad_id] * (wb - len(rest)) + list(rest))
                mask_b.append([0] * (wb - len(rest)) + [1] * len(rest))
        ids_a, mask_a = ids_a.to(dev), mask_a.to(dev)
        cache = DynamicCache(config=self.model.config)
        members = [(k, i) for k, c in enumerate(contexts) for i in groups[c]]
        conts = [pairs[i][1] for _, i in members]
        with torch.inference_mode():
            with self._attention(wa):
                self.model(input_ids=ids_a, attention_mask=mask_a, position_ids=(mask_a.cumsum(-1) - 1).clamp(min=0),
                           use_cache=True, logits_to_keep=1, **{self._cache_kw: cache})
            cache.batch_select_indices(torch.tensor(group_of, device=dev))
            mask = torch.cat([mask_a[torch.tensor(group_of, device=dev)],
                              torch.tensor(mask_b, dtype=torch.long, device=dev)], 1)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with self._attention(wb):
                out1 = self.model(input_ids=torch.tensor(ids_b, dtype=torch.long, device=dev), attention_mask=mask,
                                  position_ids=positions[:, wa:], use_cache=True, logits_to_keep=1,
                                  **{self._cache_kw: cache})
            first = torch.log_softmax(out1.logits[:, -1, :].float(), -1)
            rest = self._continuations(cache, mask, members, conts)
        self._put(members, conts, first, rest, out)

    def _continuations(self, cache, mask, members, conts):
        """Log-softmax rows for every continuation token after the first: the contexts'
        cache rows repeated per member, the continuations right-padded (None: all have one
        token)."""
        torch = self._torch
        dev = self.device
        w2 = max(len(x) for x in conts) - 1
        if w2 <= 0:
            return None
        sel = torch.tensor([g for g, _ in members], device=dev)
        cache.batch_select_indices(sel)
        ids2 = torch.full((len(members), w2), self.pad_id, dtype=torch.long)
        mask2 = torch.zeros((len(members), w2), dtype=torch.long)
        for r, x in enumerate(conts):
            ids2[r, :len(x) - 1] = torch.tensor(x[:-1])
            mask2[r, :len(x) - 1] = 1
        ctx_len = mask.sum(-1)[sel]
        pos2 = ctx_len.unsqueeze(1) + torch.arange(w2, device=dev).unsqueeze(0)
        with self._attention(w2):
            out2 = self.model(input_ids=ids2.to(dev), attention_mask=torch.cat([mask[sel], mask2.to(dev)], 1),
                              position_ids=pos2, use_cache=True, **{self._cache_kw: cache})
        return torch.log_softmax(out2.logits.float(), -1)

    def _put(self, members, conts, first, rest, out) -> None:
        torch = self._torch
        for r, ((g, i), x) in enumerate(zip(members, conts)):
            rows = first[g:g + 1] if rest is None or len(x) == 1 else torch.cat([first[g:g + 1], rest[r, :len(x) - 1]])
            target = torch.tensor(x, device=rows.device)
            lp = rows.gather(1, target.unsqueeze(1)).sum().item()
            greedy = bool((rows.argmax(-1) == target).all().item())
            out[i] = Loglikelihood(logprob=float(lp), is_greedy=greedy, n_tokens=len(x))

    def _score_shared(self, contexts: list[tuple[int, ...]], groups, pairs, out) -> None:
        """One forward pass over the distinct contexts (left-padded, key/value cache kept,
        logits of the last position only), then one over every continuation (its rows reuse
        its context's cache; right-padded; logits of the continuation's positions only)."""
        torch = self._torch
        from transformers import DynamicCache

        dev = self.device
        G, width = len(contexts), max(map(len, contexts))
        ids = torch.full((G, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((G, width), dtype=torch.long)
        for g, c in enumerate(contexts):
            ids[g, width - len(c):] = torch.tensor(c)
            mask[g, width - len(c):] = 1
        ids, mask = ids.to(dev), mask.to(dev)
        cache = DynamicCache(config=self.model.config)
        members = [(g, i) for g, c in enumerate(contexts) for i in groups[c]]
        conts = [pairs[i][1] for _, i in members]
        with torch.inference_mode():
            with self._attention(width):
                out1 = self.model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                                  use_cache=True, logits_to_keep=1, **{self._cache_kw: cache})
            first = torch.log_softmax(out1.logits[:, -1, :].float(), -1)  # predicts each first token
            rest = self._continuations(cache, mask, members, conts)
        self._put(members, conts, first, rest, out)

    def close(self) -> None:
        if self._loaded:
            self.model = None  # type: ignore[assignment]
