package rewrite

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidAgreesWithEncodingJSONAtTheNestingLimit(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		b := []byte(strings.Repeat(`{"a":[`, depth/2) + strings.Repeat(`]}`, depth/2))
		if depth%2 == 1 {
			b = []byte(`[` + string(b) + `]`)
		}
		if got, want := valid(b), json.Valid(b); got != want {
			t.Errorf("depth %d: valid = %v, json.Valid = %v", depth, got, want)
		}
	}
}
