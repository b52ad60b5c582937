package rewrite

import "testing"

func TestFilterModelsKeepsOnlyAllowedModels(t *testing.T) {
	allow := func(m string) bool { return m == "gpt-4o-mini" || m == "gemini-2.0-flash" }
	cases := map[string]string{
		`{"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"gpt-4o-mini","object":"model"}]}`:    `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`,
		`{"data":[{"id":"claude-sonnet-4-5"}],"has_more":false}`:                                               `{"data":[],"has_more":false}`,
		`{"models":[{"name":"models/gemini-2.0-flash"},{"name":"models/gemini-2.5-pro"}],"nextPageToken":"x"}`: `{"models":[{"name":"models/gemini-2.0-flash"}],"nextPageToken":"x"}`,
		`{"data":"oops"}`: `{"data":[]}`,
	}
	for in, want := range cases {
		got, err := FilterModels([]byte(in), allow)
		if err != nil || string(got) != want {
			t.Errorf("%s:\n got %s %v\nwant %s", in, got, err, want)
		}
	}
	if _, err := FilterModels([]byte(`[1]`), allow); err == nil {
		t.Error("a list that is not an object passed")
	}
}
