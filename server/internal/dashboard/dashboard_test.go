package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	"X-Frame-Options":        "DENY",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	h := New()
	for _, target := range []string{"/admin", "/admin/", "/admin/assets/app.js", "/admin/assets/charts.js", "/admin/assets/style.css", "/admin/assets/nope.js"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp := get(t, h, method, target)
			for name, want := range securityHeaders {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s %s: %s = %q, want %q", method, target, name, got, want)
				}
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	h := New()
	resp := get(t, h, "GET", "/admin")
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "admin/" {
		t.Fatalf("/admin: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for target, want := range map[string][2]string{
		"/admin/":                 {"text/html; charset=utf-8", "no-store"},
		"/admin/assets/app.js":    {"text/javascript; charset=utf-8", "no-cache"},
		"/admin/assets/charts.js": {"text/javascript; charset=utf-8", "no-cache"},
		"/admin/assets/style.css": {"text/css; charset=utf-8", "no-cache"},
	} {
		resp := get(t, h, "GET", target)
		b := body(t, resp)
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("%s: %d, %d bytes", target, resp.StatusCode, len(b))
		}
		if ct := resp.Header.Get("Content-Type"); ct != want[0] {
			t.Errorf("%s: Content-Type %q, want %q", target, ct, want[0])
		}
		if cc := resp.Header.Get("Cache-Control"); cc != want[1] {
			t.Errorf("%s: Cache-Control %q, want %q", target, cc, want[1])
		}
		head := get(t, h, "HEAD", target)
		if head.StatusCode != 200 || body(t, head) != "" || head.Header.Get("Content-Type") != want[0] {
			t.Errorf("HEAD %s: %d %q", target, head.StatusCode, head.Header.Get("Content-Type"))
		}
		// Revalidation: the ETag answers 304 without a body.
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", target)
			continue
		}
		if again := get(t, h, "GET", target, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d", target, again.StatusCode)
		}
	}
	for _, target := range []string{"/admin/assets/nope.js", "/admin/assets/", "/admin/assets/index.html", "/admin/assets/../assets/app.js", "/admin/assets/assets/app.js"} {
		resp := get(t, h, "GET", target)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body(t, resp), `"not_found"`) {
			t.Errorf("%s: %d", target, resp.StatusCode)
		}
	}
	// Only GET and HEAD, whatever routes the request here.
	for _, method := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		if resp := get(t, h, method, "/admin/"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /admin/: %d", method, resp.StatusCode)
		}
	}
}

func TestServes(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/admin", true}, {"HEAD", "/admin", true}, {"GET", "/admin/", true}, {"HEAD", "/admin/", true},
		{"GET", "/admin/assets/app.js", true}, {"GET", "/admin/assets/anything", true},
		{"POST", "/admin/", false}, {"POST", "/admin", false}, {"DELETE", "/admin/assets/app.js", false},
		{"GET", "/admin/tokens", false}, {"GET", "/admin/stats", false}, {"GET", "/admin/requests", false},
		{"GET", "/admin/assets", false}, {"GET", "/administrator", false}, {"GET", "/admin//", false},
		{"GET", "/v1/admin/", false},
	} {
		if got := Serves(c.method, c.path); got != c.want {
			t.Errorf("Serves(%s, %s) = %v", c.method, c.path, got)
		}
	}
}

// assetFiles is every embedded file, by name.
func assetFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		out[path.Base(p)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	srcHref    = regexp.MustCompile(`\s(?:src|href)="([^"]*)"`)
	jsImport   = regexp.MustCompile(`(?m)^\s*import\b[^'"]*['"]([^'"]+)['"]`)
	jsDynamic  = regexp.MustCompile(`import\(`)
	inlineOn   = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttr  = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	scriptTag  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	anyURL     = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	svgNSConst = "http://www.w3.org/2000/svg"
)

func TestEveryAssetTheIndexReferencesIsServed(t *testing.T) {
	h := New()
	index := body(t, get(t, h, "GET", "/admin/"))
	refs := srcHref.FindAllStringSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %d files", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "#"), ref == "data:,":
			continue
		case !strings.HasPrefix(ref, "assets/"):
			t.Errorf("index.html references %q: not one of the page's own assets (relative, under assets/)", ref)
			continue
		}
		// Relative to /admin/, which is where the page is served.
		if resp := get(t, h, "GET", "/admin/"+ref); resp.StatusCode != 200 {
			t.Errorf("index.html references %q, which answers %d", ref, resp.StatusCode)
		}
	}
	// ES module imports resolve next to the importer.
	for name, text := range assetFiles(t) {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		if jsDynamic.MatchString(text) {
			t.Errorf("%s: dynamic import()", name)
		}
		for _, m := range jsImport.FindAllStringSubmatch(text, -1) {
			target, ok := strings.CutPrefix(m[1], "./")
			if !ok {
				t.Errorf("%s imports %q: only ./ modules of the dashboard", name, m[1])
				continue
			}
			if resp := get(t, h, "GET", "/admin/assets/"+target); resp.StatusCode != 200 {
				t.Errorf("%s imports %q, which answers %d", name, m[1], resp.StatusCode)
			}
		}
	}
	// And every embedded file is reachable.
	for name := range assetFiles(t) {
		if name == "index.html" {
			continue
		}
		if !slices.Contains(h.Files(), name) {
			t.Errorf("%s is embedded but not served", name)
		}
		if !strings.Contains(index, `"assets/`+name+`"`) && !importedByAJSFile(t, name) {
			t.Errorf("%s is served but nothing loads it", name)
		}
	}
}

func importedByAJSFile(t *testing.T, name string) bool {
	for _, text := range assetFiles(t) {
		if strings.Contains(text, `'./`+name+`'`) {
			return true
		}
	}
	return false
}

// The CSP forbids inline script and style and any other origin; the assets
// must not need them (a violation would only show in a browser).
func TestAssetsNeedNothingTheCSPForbids(t *testing.T) {
	for name, text := range assetFiles(t) {
		rest := strings.ReplaceAll(text, svgNSConst, "")
		if strings.Contains(rest, "http://") || strings.Contains(rest, "https://") {
			t.Errorf("%s contains an absolute URL", name)
		}
		if m := anyURL.FindString(rest); m != "" {
			t.Errorf("%s contains what looks like another host: %q", name, m)
		}
		if strings.Contains(strings.ToLower(text), "javascript:") {
			t.Errorf("%s contains a javascript: URL", name)
		}
		switch path.Ext(name) {
		case ".html":
			if m := inlineOn.FindString(text); m != "" {
				t.Errorf("%s: inline event handler in %q", name, m)
			}
			if m := styleAttr.FindString(text); m != "" {
				t.Errorf("%s: inline style attribute in %q", name, m)
			}
			if strings.Contains(strings.ToLower(text), "<style") {
				t.Errorf("%s: a <style> element", name)
			}
			for _, m := range scriptTag.FindAllStringSubmatch(text, -1) {
				if !strings.Contains(m[1], `src="`) || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s: inline script %q", name, m[0])
				}
			}
		case ".js":
			// No HTML from strings (where a handler attribute could hide),
			// no string evaluation, no style attribute.
			for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'", `setAttribute("style"`, "setAttribute('on", "cssText"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s uses %s", name, bad)
				}
			}
		case ".css":
			if strings.Contains(text, "@import") || strings.Contains(text, "url(") {
				t.Errorf("%s loads something (@import or url())", name)
			}
		}
	}
}

// The key goes in the Authorization header only: never in a URL, a cookie
// or local (persistent) storage.
func TestTheKeyStaysInSessionStorageAndTheHeader(t *testing.T) {
	app := assetFiles(t)["app.js"]
	for _, want := range []string{"sessionStorage", "'relayapi.adminKey'", "Authorization: `Bearer ${key}`", "credentials: 'omit'", "redirect: 'error'"} {
		if !strings.Contains(app, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
	for _, bad := range []string{"localStorage", "document.cookie", "?key=", "&key="} {
		if strings.Contains(app, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
