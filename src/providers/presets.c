/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Provider presets: base URL, key variable and wire format for each service
 * agentc knows by name. Any other OpenAI-compatible server works through
 * base_url with the "openai" wire. Quirks per preset live in the backends
 * (keyed by name), not here.
 */
#include <string.h>

#include "agentc/provider.h"

static const agc_preset_info presets[] = {
    {"openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL",
     "OpenAI chat completions", true},
    {"anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY",
     "ANTHROPIC_BASE_URL", "Anthropic Messages API", true},
    {"azure-openai", "openai", NULL, "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
     "Azure OpenAI: base_url = https://RESOURCE.openai.azure.com/openai/deployments/DEPLOYMENT, "
     "api-key header, api-version query",
     true},
    {"ollama", "openai", "http://127.0.0.1:11434/v1", NULL, "OLLAMA_BASE_URL",
     "Ollama's OpenAI-compatible endpoint (no key)", false},
    {"llama.cpp", "openai", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY", "LLAMACPP_BASE_URL",
     "llama.cpp server (key optional)", false},
    {"vllm", "openai", "http://127.0.0.1:8000/v1", "VLLM_API_KEY", "VLLM_BASE_URL",
     "vLLM OpenAI-compatible server (key optional)", false},
    {"lm-studio", "openai", "http://127.0.0.1:1234/v1", NULL, "LMSTUDIO_BASE_URL",
     "LM Studio local server (no key)", false},
    {"openrouter", "openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", NULL,
     "OpenRouter (model names like openai/gpt-4o)", true},
    {"groq", "openai", "https://api.groq.com/openai/v1", "GROQ_API_KEY", NULL, "Groq", true},
    {"together", "openai", "https://api.together.xyz/v1", "TOGETHER_API_KEY", NULL, "Together AI",
     true},
    {"deepseek", "openai", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", NULL, "DeepSeek",
     true},
    {"mistral", "openai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", NULL, "Mistral AI", true},
    {"replay", "replay", NULL, NULL, NULL, "serves a recorded cassette offline (provider.cassette)",
     false},
    {NULL, NULL, NULL, NULL, NULL, NULL, false},
};

const agc_preset_info *agc_provider_presets(void)
{
    return presets;
}

const agc_preset_info *agc_provider_preset(const char *name)
{
    if (!name)
        return NULL;
    for (const agc_preset_info *p = presets; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}
