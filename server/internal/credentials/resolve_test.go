package credentials

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		data, ok := files[p]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return []byte(data), nil
	}
}

func TestResolveReadsEnvAndTrimmedFilesInOrder(t *testing.T) {
	refs := []Ref{{Env: "K1"}, {File: "/s/k2"}, {Env: "K3"}}
	keys, err := Resolve(refs,
		fakeEnv(map[string]string{"K1": "one", "K3": " three\n"}),
		fakeFiles(map[string]string{"/s/k2": "two\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "one,two,three" {
		t.Fatalf("keys %q", keys)
	}
}

func TestResolveReadsRealFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := Resolve([]Ref{{File: path}}, os.Getenv, os.ReadFile)
	if err != nil || len(keys) != 1 || keys[0] != secret {
		t.Fatalf("keys %d, err %v", len(keys), err)
	}
}

func TestResolveOfNoRefsIsNoKeys(t *testing.T) {
	keys, err := Resolve(nil, fakeEnv(nil), fakeFiles(nil))
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys %d, err %v", len(keys), err)
	}
}

func TestResolveErrorsNameTheSourceButNeverTheKey(t *testing.T) {
	cases := []struct {
		name, wantIn string
		refs         []Ref
	}{
		{"unset env", "env MISSING", []Ref{{Env: "MISSING"}}},
		{"blank file", "file /s/blank", []Ref{{File: "/s/blank"}}},
		{"missing file", "file /s/nope", []Ref{{File: "/s/nope"}}},
		{"newline inside", "env TWO_LINES", []Ref{{Env: "TWO_LINES"}}},
		{"duplicate", "file /s/dup", []Ref{{Env: "K"}, {File: "/s/dup"}}},
		{"invalid ref", `"env" or "file"`, []Ref{{}}},
	}
	env := fakeEnv(map[string]string{"K": secret, "TWO_LINES": secret + "\n" + secret})
	files := fakeFiles(map[string]string{"/s/blank": " \n", "/s/dup": secret + "\n"})
	for _, c := range cases {
		_, err := Resolve(c.refs, env, files)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.wantIn) {
			t.Errorf("%s: error %q does not name %q", c.name, err, c.wantIn)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error leaks the key: %v", c.name, err)
		}
	}
}

func TestResolveKeepsTheFileErrorForCallers(t *testing.T) {
	_, err := Resolve([]Ref{{File: "/s/nope"}}, fakeEnv(nil), fakeFiles(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
	}
}
