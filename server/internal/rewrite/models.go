package rewrite

import "strings"

// FilterModels keeps, in a model listing, the models keep allows: the
// elements of "data" named by their "id" (OpenAI, Anthropic and every
// OpenAI-compatible API) and of "models" named by their "name" (Gemini,
// "models/gemini-2.0-flash"). Other members keep their bytes. A body that
// is not a JSON object is an ErrNotObject.
func FilterModels(body []byte, keep func(model string) bool) ([]byte, error) {
	o, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	for i := range o {
		switch {
		case keyIs(o[i].key, "data"):
			o[i].value = filterList(o[i].value, "id", keep)
		case keyIs(o[i].key, "models"):
			o[i].value = filterList(o[i].value, "name", keep)
		}
	}
	return o.encode(len(body)), nil
}

// filterList keeps the elements of a JSON array whose field names an
// allowed model; anything that is not an array becomes an empty one.
func filterList(v []byte, field string, keep func(string) bool) []byte {
	out := []byte{'['}
	for e := range elements(v) {
		item, err := parseObject(e)
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(stringValue(item.get(field)), "models/")
		if name == "" || !keep(name) {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	return append(out, ']')
}
