package rewrite

var includeUsageTrue = []byte(`{"include_usage":true}`)

// includeUsage sets stream_options.include_usage on an OpenAI streaming
// chat or completions request. Not elsewhere: OpenAI refuses
// stream_options when "stream" is not true, and the Responses API always
// reports usage and knows no include_usage.
func (o object) includeUsage(p Plan) (object, bool) {
	if !p.IncludeUsage || !p.Route.Known() || !p.Route.IncludeUsage {
		return o, false
	}
	if string(o.get("stream")) != "true" {
		return o, false
	}
	found, changed := false, false
	for i := range o {
		if !keyIs(o[i].key, "stream_options") {
			continue
		}
		found = true
		if v, ok := withIncludeUsage(o[i].value); ok {
			o[i].value, changed = v, true
		}
	}
	if !found {
		return o.add("stream_options", includeUsageTrue), true
	}
	return o, changed
}

// withIncludeUsage merges include_usage:true into a stream_options value,
// keeping its other members; a value that is no object is replaced.
func withIncludeUsage(value []byte) ([]byte, bool) {
	if len(value) == 0 || value[0] != '{' {
		return includeUsageTrue, true
	}
	opts, err := parseObject(value)
	if err != nil {
		return includeUsageTrue, true
	}
	found, changed := false, false
	for i := range opts {
		if !keyIs(opts[i].key, "include_usage") {
			continue
		}
		found = true
		if string(opts[i].value) != "true" {
			opts[i].value, changed = []byte("true"), true
		}
	}
	if !found {
		opts, changed = opts.add("include_usage", []byte("true")), true
	}
	if !changed {
		return value, false
	}
	return opts.encode(len(value) + 24), true
}
