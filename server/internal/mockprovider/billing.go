package mockprovider

// What the mock billed. Every recorded [Request] carries the usage the mock
// produced for it — what a real provider would charge — so tests can
// assert that a relay charged at least that: prompt tokens, completion
// tokens including hidden reasoning/thought tokens, and for a stream the
// client cut short, the completion tokens written before the mock noticed.
// Stats keep the totals. A request answered with an error produced nothing.

// bill sets the usage produced for this request (absolute values).
func (c *call) bill(prompt, completion, reasoning int) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	r, st := c.rec, &c.p.stats
	st.ProducedPromptTokens += int64(prompt - r.ProducedPromptTokens)
	st.ProducedCompletionTokens += int64(completion - r.ProducedCompletionTokens)
	r.ProducedPromptTokens, r.ProducedCompletionTokens, r.ProducedReasoningTokens = prompt, completion, reasoning
}

// produce adds completion tokens a stream has just written.
func (c *call) produce(tokens int) {
	if tokens == 0 {
		return
	}
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.rec.ProducedCompletionTokens += tokens
	c.p.stats.ProducedCompletionTokens += int64(tokens)
}

// startStream bills what a stream costs before its first content chunk:
// the prompt and the reasoning done before answering. Content tokens are
// added by produce as they are written.
func (c *call) startStream(prompt int, chs []choice) {
	_, reasoning := sumCompletion(chs)
	c.bill(prompt, reasoning, reasoning)
}
