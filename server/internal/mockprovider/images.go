package mockprovider

import (
	"fmt"
	"net/http"
	"strings"
)

// gptImageOutputTokens is the output (image) token count of one image by
// quality and size, from the "Cost and latency" table of
// https://platform.openai.com/docs/guides/image-generation#cost-and-latency
// (the same table is reproduced in
// https://community.openai.com/t/rate-limits-for-new-gpt-image-model/1243630).
var gptImageOutputTokens = map[string]map[string]int{
	"low":    {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
	"medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
	"high":   {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}

// imageAuto is what "auto" (the default) resolves to: "auto will
// automatically select the best quality for the given model"
// (https://platform.openai.com/docs/api-reference/images/create), so the
// mock bills high; an auto size is billed as square.
var imageAuto = map[string]string{"quality": "high", "size": "1024x1024"}

type imageRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	N              *int   `json:"n"`
	ResponseFormat string `json:"response_format"`
	Quality        string `json:"quality"`
	Size           string `json:"size"`
}

// images answers POST /v1/images/generations. GPT image models report
// token usage; dall-e-2/3 report none, as the real API (the `usage` of
// ImagesResponse is "For gpt-image-1 only").
func (c *call) images() {
	var req imageRequest
	if !c.decode(apiOpenAI, &req) {
		return
	}
	if c.model != "" {
		req.Model = c.model
	}
	if req.Prompt == "" {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "prompt", "missing_required_parameter",
			"Missing required parameter: 'prompt'.")
		return
	}
	n, ok := c.checkRange("n", req.N, 1, 1, 10)
	if !ok {
		return
	}
	gptImage := strings.HasPrefix(req.Model, "gpt-image")
	perImage := 0
	if gptImage {
		if perImage, ok = c.imageTokens(req.Quality, req.Size); !ok {
			return
		}
	}
	resp := map[string]any{"created": c.p.opts.Now().Unix(), "data": c.imageData(req, n, gptImage)}
	in := PromptTokens(req.Prompt)
	if gptImage {
		c.bill(in, perImage*n, 0)
		if !c.omitUsage {
			resp["usage"] = map[string]any{
				"input_tokens": in, "output_tokens": perImage * n, "total_tokens": in + perImage*n,
				"input_tokens_details": map[string]int{"text_tokens": in, "image_tokens": 0},
			}
		}
	}
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, resp, true)
}

// imageTokens looks up the output tokens of one image, answering 400 for
// a quality or size GPT image models do not offer.
func (c *call) imageTokens(quality, size string) (int, bool) {
	for param, v := range map[string]*string{"quality": &quality, "size": &size} {
		if *v == "" || *v == "auto" {
			*v = imageAuto[param]
		}
	}
	sizes, ok := gptImageOutputTokens[quality]
	if !ok {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "quality", "invalid_value", fmt.Sprintf(
			"Invalid value: '%s'. Supported values are: 'low', 'medium', 'high', and 'auto'.", quality))
		return 0, false
	}
	tokens, ok := sizes[size]
	if !ok {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "size", "invalid_value", fmt.Sprintf(
			"Invalid value: '%s'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.", size))
		return 0, false
	}
	return tokens, true
}

// imageData is n tiny images: base64 for GPT image models (they only
// return b64_json) or when asked, URLs otherwise.
func (c *call) imageData(req imageRequest, n int, gptImage bool) []any {
	data := make([]any, 0, n)
	for i := 0; i < n; i++ {
		if gptImage || req.ResponseFormat == "b64_json" {
			data = append(data, map[string]any{"b64_json": tinyPNG})
			continue
		}
		data = append(data, map[string]any{
			"url":            "https://mock.invalid/images/" + c.newID("img-") + ".png",
			"revised_prompt": req.Prompt,
		})
	}
	return data
}
