package mockprovider

// responseStream sends the Responses API event sequence
// (https://platform.openai.com/docs/api-reference/responses-streaming):
// response.created, response.in_progress, [the reasoning item's
// output_item.added/done], response.output_item.added,
// response.content_part.added, response.output_text.delta…,
// response.output_text.done, response.content_part.done,
// response.output_item.done, then response.completed — or
// response.incomplete when max_output_tokens cut it — carrying the usage.
// Every event has a sequence_number, counted from 0.
func (c *call) responseStream(pl *rsPlan) {
	c.startStream(pl.input, []choice{pl.ch})
	s := c.startSSE()
	defer s.done()
	seq := 0
	emit := func(typ string, ev map[string]any) bool {
		ev["type"], ev["sequence_number"] = typ, seq
		seq++
		return s.event(typ, ev)
	}
	pending := c.responseObject(pl, "in_progress", []any{}, nil)
	if !emit("response.created", map[string]any{"response": pending}) ||
		!emit("response.in_progress", map[string]any{"response": pending}) {
		return
	}
	index := 0
	if pl.ch.reasoning > 0 {
		item := reasoningItem(pl)
		if !emit("response.output_item.added", map[string]any{"output_index": 0, "item": item}) ||
			!emit("response.output_item.done", map[string]any{"output_index": 0, "item": item}) {
			return
		}
		index = 1
	}
	if len(pl.ch.tokens) > 0 || !pl.ch.truncated {
		if !c.streamMessage(pl, index, s, emit) {
			return
		}
	}
	final := c.responseObject(pl, pl.status(), c.outputItems(pl, true), c.responsesUsage(pl))
	c.keep(pl, final)
	emit("response."+pl.status(), map[string]any{"response": final})
}

// streamMessage sends the events of the assistant message at output index.
func (c *call) streamMessage(pl *rsPlan, index int, s *sse, emit func(string, map[string]any) bool) bool {
	at := func(ev map[string]any) map[string]any {
		ev["item_id"], ev["output_index"], ev["content_index"] = messageID(pl), index, 0
		return ev
	}
	if !emit("response.output_item.added", map[string]any{"output_index": index, "item": messageItem(pl, "", false)}) ||
		!emit("response.content_part.added", at(map[string]any{"part": outputText("")})) {
		return false
	}
	for i, st := range c.steps([]choice{pl.ch}) {
		if !s.beforeChunk(i) || !emit("response.output_text.delta", at(map[string]any{"delta": st.text, "logprobs": []any{}})) {
			return false
		}
		c.produce(st.tokens)
	}
	text := pl.ch.text()
	return emit("response.output_text.done", at(map[string]any{"text": text, "logprobs": []any{}})) &&
		emit("response.content_part.done", at(map[string]any{"part": outputText(text)})) &&
		emit("response.output_item.done", map[string]any{"output_index": index, "item": messageItem(pl, text, true)})
}
