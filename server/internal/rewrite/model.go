package rewrite

import "encoding/json"

// setModel replaces every "model" member (a duplicated key included: a
// provider may read either) unless it already names model.
func (o object) setModel(model string) bool {
	if model == "" {
		return false
	}
	quoted, _ := json.Marshal(model)
	changed := false
	for i := range o {
		if keyIs(o[i].key, "model") && !stringIs(o[i].value, model) {
			o[i].value, changed = quoted, true
		}
	}
	return changed
}
