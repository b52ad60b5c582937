package mockprovider

import "sync"

// maxStored bounds the stored responses and conversations together; the
// oldest is forgotten first.
const maxStored = 10000

// store keeps Responses API state in memory: responses stored with
// `store` (the default, https://platform.openai.com/docs/api-reference/responses/create)
// and conversations, each with the context tokens a follow-up bills as
// input: "all previous input tokens for responses in the chain are billed
// as input tokens" (https://platform.openai.com/docs/guides/conversation-state).
type store struct {
	mu    sync.Mutex
	resps map[string]storedResponse
	convs map[string]int
	order []string // ids, oldest first
}

// storedResponse is a response kept for previous_response_id and GET.
type storedResponse struct {
	context int            // input and output tokens of the chain through it
	object  map[string]any // what GET /v1/responses/{id} returns
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resps, s.convs, s.order = nil, nil, nil
}

// remember records id as the newest entry, forgetting the oldest past maxStored.
func (s *store) remember(id string) {
	if s.resps == nil {
		s.resps, s.convs = map[string]storedResponse{}, map[string]int{}
	}
	if _, ok := s.resps[id]; ok {
		return
	}
	if _, ok := s.convs[id]; ok {
		return
	}
	s.order = append(s.order, id)
	for len(s.order) > maxStored {
		delete(s.resps, s.order[0])
		delete(s.convs, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *store) putResponse(id string, r storedResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(id)
	s.resps[id] = r
}

func (s *store) response(id string) (storedResponse, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.resps[id]
	return r, ok
}

func (s *store) conversation(id string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.convs[id]
	return t, ok
}

// growConversation adds a turn's new input and output to a conversation:
// "items from previous responses are prepended" to the next one's input
// (https://platform.openai.com/docs/guides/conversation-state#using-the-conversations-api).
func (s *store) growConversation(id string, tokens int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(id)
	s.convs[id] += tokens
}

// seed stores a response or conversation of the given context tokens
// (POST /_mock/stored).
func (s *store) seed(id string, tokens int, created int64) {
	if len(id) > 5 && id[:5] == "conv_" {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.remember(id)
		s.convs[id] = tokens
		return
	}
	s.putResponse(id, storedResponse{context: tokens, object: map[string]any{
		"id": id, "object": "response", "created_at": created, "status": "completed",
		"output": []any{}, "store": true,
		"usage": responsesUsage(tokens, 0, 0),
	}})
}
