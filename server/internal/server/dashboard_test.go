package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/dashboard"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// fetchNoRedirect GETs (or HEADs) url without following redirects.
func fetchNoRedirect(t *testing.T, method, url string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// isPage reports whether r is the dashboard's index page.
func isPage(r response) bool {
	return r.status == 200 && r.header.Get("Content-Security-Policy") == dashboard.CSP &&
		strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && strings.Contains(string(r.body), `src="assets/app.js"`)
}

// checkDashboard checks the dashboard's routes at base (a URL ending in
// the relay's base path, no slash).
func checkDashboard(t *testing.T, base string) {
	t.Helper()
	r := fetchNoRedirect(t, "GET", base+"/admin", nil)
	if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != "admin/" || r.header.Get("Content-Security-Policy") != dashboard.CSP {
		t.Errorf("GET %s/admin: %d Location %q", base, r.status, r.header.Get("Location"))
	}
	// Followed by a client, the relative redirect lands on the page.
	resp, err := http.Get(base + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != strings.TrimPrefix(base+"/admin/", "http://"+resp.Request.URL.Host) {
		t.Errorf("following /admin: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if r := fetchNoRedirect(t, "GET", base+"/admin/", nil); !isPage(r) || r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET %s/admin/: %d %v", base, r.status, r.header)
	}
	if r := fetchNoRedirect(t, "HEAD", base+"/admin/", nil); r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Security-Policy") != dashboard.CSP {
		t.Errorf("HEAD %s/admin/: %d", base, r.status)
	}
	for _, asset := range []string{"app.js", "charts.js", "style.css"} {
		r := fetchNoRedirect(t, "GET", base+"/admin/assets/"+asset, nil)
		if r.status != 200 || r.header.Get("Content-Security-Policy") != dashboard.CSP || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s/admin/assets/%s: %d", base, asset, r.status)
		}
	}
	if r := fetchNoRedirect(t, "GET", base+"/admin/assets/nope.js", nil); r.status != 404 {
		t.Errorf("unknown asset: %d", r.status)
	}
	// The rest of /admin/ is still the API, behind the key.
	if r := fetchNoRedirect(t, "POST", base+"/admin/", nil); r.status != 401 {
		t.Errorf("POST %s/admin/: %d %s", base, r.status, r.body)
	}
	if r := fetchNoRedirect(t, "GET", base+"/admin/tokens", nil); r.status != 401 {
		t.Errorf("GET %s/admin/tokens without the key: %d", base, r.status)
	}
	if r := fetchNoRedirect(t, "GET", base+"/admin/tokens", map[string]string{"Authorization": "Bearer " + adminKey}); r.status != 200 {
		t.Errorf("GET %s/admin/tokens: %d %s", base, r.status, r.body)
	}
}

func TestDashboardOnTheMainListener(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), nil)
	checkDashboard(t, s.url)
}

func TestDashboardBelowTheBasePath(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.BasePath = "/relay" })
	checkDashboard(t, s.url+"/relay")
	if r := fetchNoRedirect(t, "GET", s.url+"/admin/", nil); r.status != 404 || isPage(r) {
		t.Errorf("/admin/ outside the base path: %d", r.status)
	}
}

func TestNoDashboardWithoutAnAdminKey(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.Admin.Key = "" })
	for _, path := range []string{"/admin/", "/admin/assets/app.js", "/admin/assets/style.css"} {
		if r := fetchNoRedirect(t, "GET", s.url+path, nil); r.status != 404 || r.header.Get("Content-Security-Policy") != "" {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	if r := fetchNoRedirect(t, "GET", s.url+"/admin", nil); r.status == http.StatusPermanentRedirect || r.status == 200 {
		t.Errorf("/admin: %d", r.status)
	}
}

// freeAddr is a loopback address nothing listens on (a moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDashboardMovesToTheMetricsListener(t *testing.T) {
	metricsAddr := freeAddr(t)
	s := newLiveStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) {
		c.Metrics.Enabled = true
		c.Metrics.Listen = metricsAddr
	})
	ops := "http://" + metricsAddr
	checkDashboard(t, ops)
	if r := fetchNoRedirect(t, "GET", ops+"/metrics", nil); r.status != 200 || !strings.Contains(string(r.body), "relayapi_") {
		t.Errorf("/metrics on the metrics listener: %d", r.status)
	}
	// The admin API answers with the relay's error shape there too.
	if r := fetchNoRedirect(t, "GET", ops+"/admin/nope", map[string]string{"Authorization": "Bearer " + adminKey}); r.status != 404 || r.code() != "not_found" {
		t.Errorf("unknown admin route on the metrics listener: %d %s", r.status, r.body)
	}
	// The relay itself is not served there.
	if r := fetchNoRedirect(t, "GET", ops+"/health", nil); r.status != 404 {
		t.Errorf("/health on the metrics listener: %d", r.status)
	}

	// On the main listener: the API stays, the dashboard is gone.
	for _, path := range []string{"/admin/", "/admin/assets/app.js", "/admin"} {
		if r := fetchNoRedirect(t, "GET", s.url+path, nil); isPage(r) || r.status == 200 || r.status == http.StatusPermanentRedirect ||
			r.header.Get("Content-Security-Policy") != "" {
			t.Errorf("main listener %s: %d", path, r.status)
		}
	}
	if r := fetchNoRedirect(t, "GET", s.url+"/admin/tokens", map[string]string{"Authorization": "Bearer " + adminKey}); r.status != 200 {
		t.Errorf("main listener /admin/tokens: %d %s", r.status, r.body)
	}
	if r := fetchNoRedirect(t, "GET", s.url+"/metrics", nil); r.status == 200 {
		t.Errorf("main listener /metrics: %d", r.status)
	}
}

func TestMetricsListenerWithoutAnAdminKeyHasNoDashboard(t *testing.T) {
	metricsAddr := freeAddr(t)
	newLiveStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) {
		c.Admin.Key = ""
		c.Metrics.Enabled = true
		c.Metrics.Listen = metricsAddr
	})
	ops := "http://" + metricsAddr
	for _, path := range []string{"/admin/", "/admin/assets/app.js", "/admin", "/admin/tokens"} {
		if r := fetchNoRedirect(t, "GET", ops+path, map[string]string{"Authorization": "Bearer x"}); r.status != 404 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	if r := fetchNoRedirect(t, "GET", ops+"/metrics", nil); r.status != 200 {
		t.Errorf("/metrics: %d", r.status)
	}
}
