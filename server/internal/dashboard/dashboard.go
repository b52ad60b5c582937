// Package dashboard serves the operator dashboard: a static page (HTML, an
// ES module, SVG charts drawn by a second module, a style sheet) embedded in
// the binary, that signs in with the admin key and reads the admin API from
// the browser. The assets hold no data and need no key; every answer carries
// a strict Content-Security-Policy (no inline script or style, nothing from
// another origin) and may not be framed.
//
// Routes, below the relay's base path: GET/HEAD /admin/ (the page),
// /admin/assets/{file} (its assets) and /admin, which redirects (308) to
// /admin/. Everything else under /admin/ is the admin API.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/reqlog"
)

// CSP is the page's Content-Security-Policy: scripts, styles, images and
// fetches from the relay's own origin only (images also as data: URLs),
// no inline script or style, no framing, no <base>, forms posted nowhere else.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

//go:embed assets
var files embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the dashboard's routes.
type Handler struct {
	index  asset
	assets map[string]asset // by file name
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// New returns the dashboard handler.
func New() *Handler {
	h := &Handler{assets: map[string]asset{}}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	for _, e := range entries {
		body, err := files.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		a := asset{body: body, contentType: contentTypes[path.Ext(e.Name())], etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		if e.Name() == "index.html" {
			h.index = a
			continue
		}
		h.assets[e.Name()] = a
	}
	return h
}

// Serves reports whether path (below the base path) and method are the
// dashboard's: GET or HEAD of /admin, /admin/ or /admin/assets/...
func Serves(method, path string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	return path == "/admin" || path == "/admin/" || strings.HasPrefix(path, "/admin/assets/")
}

// Files lists the names of the assets served under /admin/assets/ (tests).
func (h *Handler) Files() []string {
	names := make([]string, 0, len(h.assets))
	for n := range h.assets {
		names = append(names, n)
	}
	return names
}

// SetHeaders writes the security headers every dashboard answer carries.
func SetHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// ServeHTTP answers a request Serves accepted; r.URL.Path is the path
// below the relay's base path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SetHeaders(w.Header())
	p := r.URL.Path
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.notFound(w, r)
	case p == "/admin":
		// Relative: the redirect stays right below whatever base path the
		// relay is mounted at, which this handler does not see.
		w.Header().Set("Location", "admin/")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusPermanentRedirect)
	case p == "/admin/":
		h.serve(w, r, h.index, "no-store")
	default:
		name, ok := strings.CutPrefix(p, "/admin/assets/")
		a, found := h.assets[name]
		if !ok || !found {
			h.notFound(w, r)
			return
		}
		h.serve(w, r, a, "no-cache")
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a asset, cache string) {
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	reqlog.From(r.Context()).Code = apierror.NotFound.Code
	apierror.Write(w, apierror.NotFound)
}
