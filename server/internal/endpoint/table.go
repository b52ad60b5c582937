package endpoint

import (
	"net/http"

	"github.com/relayapi/relayapi/server/internal/usage"
)

const (
	post = http.MethodPost
	get  = http.MethodGet
	del  = http.MethodDelete
)

// table is the built-in catalog. Sources, checked 2026-12:
//   - OpenAI: the API reference and its spec, github.com/openai/openai-openapi
//     (paths, usage objects, stream_options.include_usage, n / best_of).
//   - Anthropic: docs.anthropic.com/en/api/messages (usage in message_start
//     and message_delta), /en/api/messages-count-tokens (free),
//     /en/api/creating-message-batches.
//   - Gemini: ai.google.dev/api/generate-content (generateContent,
//     streamGenerateContent, usageMetadata, generationConfig),
//     ai.google.dev/api/tokens (countTokens), ai.google.dev/api/embeddings
//     (no usage reported), ai.google.dev/api/caching.
//   - Azure OpenAI: learn.microsoft.com/azure/ai-foundry/openai/reference
//     (deployment paths; the deployment, not the body, picks the model).
//
// Account entries name the common stored objects for the docs; anything
// not listed is Unknown, which is treated the same way.
//
// "**" in front lets a client's base URL carry any prefix (DeepSeek's
// /chat/completions, Azure's /openai/v1/…, Gemini's /v1beta/openai/…);
// specificity (literal segments) keeps deployment paths apart.
var table = []Endpoint{
	// OpenAI and OpenAI-compatible APIs.
	{Name: "openai.chat", Family: OpenAI, Method: post, Pattern: "/**/chat/completions", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ChatCap, Choices: NChoices, Context: ChatContext, IncludeUsage: true},
	{Name: "openai.completions", Family: OpenAI, Method: post, Pattern: "/**/completions", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: MaxTokensCap, Choices: NBestOfChoices, Context: CompletionsContext, IncludeUsage: true},
	{Name: "openai.responses", Family: OpenAI, Method: post, Pattern: "/**/responses", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ResponsesCap, Context: ResponsesContext},
	{Name: "openai.embeddings", Family: OpenAI, Method: post, Pattern: "/**/embeddings", Kind: Inference,
		Format: usage.OpenAI, Metered: true},
	// Token-billed image models (gpt-image-*) report usage; DALL·E does not
	// (the relay checks the model against the model catalog).
	{Name: "openai.images.generations", Family: OpenAI, Method: post, Pattern: "/**/images/generations", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ImageCap, Choices: NChoices},
	{Name: "openai.images.edits", Family: OpenAI, Method: post, Pattern: "/**/images/edits", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ImageCap, Choices: NChoices},
	{Name: "openai.images.variations", Family: OpenAI, Method: post, Pattern: "/**/images/variations", Kind: Inference, Format: usage.OpenAI},
	// Audio is billed by duration or characters, or reports usage only for
	// some models, and nothing bounds its output: not metered.
	{Name: "openai.audio.transcriptions", Family: OpenAI, Method: post, Pattern: "/**/audio/transcriptions", Kind: Inference, Format: usage.OpenAI},
	{Name: "openai.audio.translations", Family: OpenAI, Method: post, Pattern: "/**/audio/translations", Kind: Inference, Format: usage.OpenAI},
	{Name: "openai.audio.speech", Family: OpenAI, Method: post, Pattern: "/**/audio/speech", Kind: Inference, Format: usage.OpenAI},
	{Name: "openai.responses.input_tokens", Family: OpenAI, Method: post, Pattern: "/**/responses/input_tokens", Kind: Utility, Format: usage.OpenAI},
	{Name: "openai.moderations", Family: OpenAI, Method: post, Pattern: "/**/moderations", Kind: Utility, Format: usage.OpenAI},
	{Name: "openai.models", Family: OpenAI, Method: get, Pattern: "/**/models", Kind: Utility, Format: usage.OpenAI, ListsModels: true},
	{Name: "openai.model", Family: OpenAI, Method: get, Pattern: "/**/models/{model}", Kind: Utility, Format: usage.OpenAI},
	// Stored objects: other end users' data and the account's.
	{Name: "openai.chat.list", Family: OpenAI, Method: get, Pattern: "/**/chat/completions", Kind: Account},
	{Name: "openai.chat.stored", Family: OpenAI, Method: get, Pattern: "/**/chat/completions/*", Kind: Account},
	{Name: "openai.chat.stored.messages", Family: OpenAI, Method: get, Pattern: "/**/chat/completions/*/messages", Kind: Account},
	{Name: "openai.chat.update", Family: OpenAI, Method: post, Pattern: "/**/chat/completions/*", Kind: Account},
	{Name: "openai.chat.delete", Family: OpenAI, Method: del, Pattern: "/**/chat/completions/*", Kind: Account},
	{Name: "openai.responses.stored", Family: OpenAI, Method: get, Pattern: "/**/responses/*", Kind: Account},
	{Name: "openai.responses.input_items", Family: OpenAI, Method: get, Pattern: "/**/responses/*/input_items", Kind: Account},
	{Name: "openai.responses.cancel", Family: OpenAI, Method: post, Pattern: "/**/responses/*/cancel", Kind: Account},
	{Name: "openai.responses.delete", Family: OpenAI, Method: del, Pattern: "/**/responses/*", Kind: Account},
	{Name: "openai.model.delete", Family: OpenAI, Method: del, Pattern: "/**/models/*", Kind: Account},
	{Name: "openai.files.list", Family: OpenAI, Method: get, Pattern: "/**/files", Kind: Account},
	{Name: "openai.files.read", Family: OpenAI, Method: get, Pattern: "/**/files/*", Kind: Account},
	{Name: "openai.files.content", Family: OpenAI, Method: get, Pattern: "/**/files/*/content", Kind: Account},
	{Name: "openai.files.create", Family: OpenAI, Method: post, Pattern: "/**/files", Kind: Account},
	{Name: "openai.files.delete", Family: OpenAI, Method: del, Pattern: "/**/files/*", Kind: Account},

	// Anthropic.
	{Name: "anthropic.messages", Family: Anthropic, Method: post, Pattern: "/**/v1/messages", Kind: Inference,
		Format: usage.Anthropic, Metered: true, Cap: MaxTokensCap, Context: MessagesContext},
	{Name: "anthropic.count_tokens", Family: Anthropic, Method: post, Pattern: "/**/v1/messages/count_tokens", Kind: Utility, Format: usage.Anthropic},
	{Name: "anthropic.complete", Family: Anthropic, Method: post, Pattern: "/**/v1/complete", Kind: Inference, Format: usage.Anthropic},
	{Name: "anthropic.models", Family: Anthropic, Method: get, Pattern: "/**/v1/models", Kind: Utility, Format: usage.Anthropic, ListsModels: true},
	{Name: "anthropic.model", Family: Anthropic, Method: get, Pattern: "/**/v1/models/{model}", Kind: Utility, Format: usage.Anthropic},
	{Name: "anthropic.batches.create", Family: Anthropic, Method: post, Pattern: "/**/v1/messages/batches", Kind: Account},
	{Name: "anthropic.batches.list", Family: Anthropic, Method: get, Pattern: "/**/v1/messages/batches", Kind: Account},
	{Name: "anthropic.batches.read", Family: Anthropic, Method: get, Pattern: "/**/v1/messages/batches/*", Kind: Account},
	{Name: "anthropic.batches.results", Family: Anthropic, Method: get, Pattern: "/**/v1/messages/batches/*/results", Kind: Account},

	// Gemini native API: the model is in the path.
	{Name: "gemini.generate", Family: Gemini, Method: post, Pattern: "/**/models/{model}:generateContent", Kind: Inference,
		Format: usage.Gemini, Metered: true, Cap: GeminiCap, Choices: CandidateCount, Context: GeminiContext},
	{Name: "gemini.generate.tuned", Family: Gemini, Method: post, Pattern: "/**/tunedModels/{model}:generateContent", Kind: Inference,
		Format: usage.Gemini, Metered: true, Cap: GeminiCap, Choices: CandidateCount, Context: GeminiContext},
	{Name: "gemini.stream", Family: Gemini, Method: post, Pattern: "/**/models/{model}:streamGenerateContent", Kind: Inference,
		Format: usage.Gemini, Metered: true, Cap: GeminiCap, Choices: CandidateCount, Context: GeminiContext, StreamInPath: true},
	{Name: "gemini.stream.tuned", Family: Gemini, Method: post, Pattern: "/**/tunedModels/{model}:streamGenerateContent", Kind: Inference,
		Format: usage.Gemini, Metered: true, Cap: GeminiCap, Choices: CandidateCount, Context: GeminiContext, StreamInPath: true},
	{Name: "gemini.count_tokens", Family: Gemini, Method: post, Pattern: "/**/models/{model}:countTokens", Kind: Utility, Format: usage.Gemini},
	{Name: "gemini.embed", Family: Gemini, Method: post, Pattern: "/**/models/{model}:embedContent", Kind: Inference, Format: usage.Gemini},
	{Name: "gemini.embed.batch", Family: Gemini, Method: post, Pattern: "/**/models/{model}:batchEmbedContents", Kind: Inference, Format: usage.Gemini},
	{Name: "gemini.predict", Family: Gemini, Method: post, Pattern: "/**/models/{model}:predict", Kind: Inference, Format: usage.Gemini},
	{Name: "gemini.predict.long", Family: Gemini, Method: post, Pattern: "/**/models/{model}:predictLongRunning", Kind: Inference, Format: usage.Gemini},
	{Name: "gemini.batch", Family: Gemini, Method: post, Pattern: "/**/models/{model}:batchGenerateContent", Kind: Account},
	{Name: "gemini.models", Family: Gemini, Method: get, Pattern: "/**/models", Kind: Utility, Format: usage.Gemini, ListsModels: true},
	{Name: "gemini.model", Family: Gemini, Method: get, Pattern: "/**/models/{model}", Kind: Utility, Format: usage.Gemini},
	{Name: "gemini.cached.list", Family: Gemini, Method: get, Pattern: "/**/cachedContents", Kind: Account},
	{Name: "gemini.cached.read", Family: Gemini, Method: get, Pattern: "/**/cachedContents/*", Kind: Account},
	{Name: "gemini.cached.create", Family: Gemini, Method: post, Pattern: "/**/cachedContents", Kind: Account},

	// Azure OpenAI: the deployment in the path picks the model.
	{Name: "azure.chat", Family: Azure, Method: post, Pattern: "/**/openai/deployments/{model}/chat/completions", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ChatCap, Choices: NChoices, Context: ChatContext, IncludeUsage: true},
	{Name: "azure.completions", Family: Azure, Method: post, Pattern: "/**/openai/deployments/{model}/completions", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: MaxTokensCap, Choices: NBestOfChoices, Context: CompletionsContext, IncludeUsage: true},
	{Name: "azure.embeddings", Family: Azure, Method: post, Pattern: "/**/openai/deployments/{model}/embeddings", Kind: Inference,
		Format: usage.OpenAI, Metered: true},
	{Name: "azure.images.generations", Family: Azure, Method: post, Pattern: "/**/openai/deployments/{model}/images/generations", Kind: Inference,
		Format: usage.OpenAI, Metered: true, Cap: ImageCap, Choices: NChoices},
	{Name: "azure.audio", Family: Azure, Method: post, Pattern: "/**/openai/deployments/{model}/audio/*", Kind: Inference, Format: usage.OpenAI},
}
