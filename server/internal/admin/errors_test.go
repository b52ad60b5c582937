package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestLimitOutsideOneToThousandOrNotAnIntegerIsBadRequest(t *testing.T) {
	f := newFixture(t, adminKey)
	for _, route := range []string{"/admin/tokens", "/admin/requests"} {
		for _, limit := range []string{"0", "-1", "1001", "abc", "1.5", "1e3"} {
			r := f.get(route + "?limit=" + limit)
			if r.status != http.StatusBadRequest || r.code(t) != "bad_request" {
				t.Errorf("%s limit=%s: %d %s", route, limit, r.status, r.body)
			}
		}
		for _, limit := range []string{"1", "1000"} {
			if r := f.get(route + "?limit=" + limit); r.status != http.StatusOK {
				t.Errorf("%s limit=%s: %d %s", route, limit, r.status, r.body)
			}
		}
	}
}

func TestCursorTheRelayDidNotIssueIsBadRequest(t *testing.T) {
	f := newFixture(t, adminKey)
	for _, path := range []string{"/admin/tokens?cursor=%21%21%21", "/admin/requests?cursor=%21%21%21", "/admin/requests?cursor=bm90LWFuLWlk"} {
		r := f.get(path)
		if r.status != http.StatusBadRequest || r.code(t) != "bad_request" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
		if strings.Contains(string(r.body), "!!!") || strings.Contains(string(r.body), "bm90LWFuLWlk") {
			t.Errorf("%s: the error echoes the cursor: %s", path, r.body)
		}
	}
}

func TestEveryRouteRefusesMissingWrongOrNonBearerKeys(t *testing.T) {
	f := newFixture(t, adminKey)
	auths := map[string]string{
		"none":         "-",
		"empty bearer": "Bearer ",
		"wrong":        "Bearer " + adminKey + "x",
		"prefix":       "Bearer " + adminKey[:10],
		"basic scheme": "Basic " + adminKey,
		"no scheme":    adminKey,
		"scheme only":  "Bearer",
	}
	routes := [][2]string{{"GET", "/admin/tokens/x"}, {"GET", "/admin/tokens"}, {"POST", "/admin/tokens/x/revoke"}, {"GET", "/admin/requests"},
		{"GET", "/admin/stats"}, {"GET", "/admin/providers"}}
	for name, auth := range auths {
		for _, rt := range routes {
			r := f.do(rt[0], rt[1], auth)
			if r.status != http.StatusUnauthorized || r.code(t) != "unauthorized" {
				t.Errorf("%s %s %s: %d %s", name, rt[0], rt[1], r.status, r.body)
			}
			if strings.Contains(string(r.body), adminKey[:10]) {
				t.Errorf("%s: the error echoes the key", name)
			}
		}
	}
	if strings.Contains(f.logs.String(), adminKey[:10]) {
		t.Fatal("the admin key reached the log")
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	f := newFixture(t, adminKey)
	if r := f.do("GET", "/admin/tokens", "bearer "+adminKey); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestEmptyAdminKeyDisablesTheAPI(t *testing.T) {
	f := newFixture(t, "")
	for _, auth := range []string{"-", "Bearer ", "Bearer anything"} {
		for _, path := range []string{"/admin/tokens", "/admin/stats", "/admin/providers"} {
			r := f.do("GET", path, auth)
			if r.status != http.StatusNotFound || r.code(t) != "not_found" {
				t.Errorf("%s %q: %d %s", path, auth, r.status, r.body)
			}
		}
	}
}

func TestUnknownRoutesAndWrongMethodsAreNotFound(t *testing.T) {
	f := newFixture(t, adminKey)
	for _, rt := range [][2]string{
		{"GET", "/admin/"}, {"GET", "/admin/tokens/"}, {"GET", "/admin/nope"},
		{"POST", "/admin/tokens"}, {"DELETE", "/admin/tokens/x"}, {"GET", "/admin/tokens/x/revoke"},
		{"POST", "/admin/tokens/x/revoke/more"}, {"POST", "/admin/requests"},
		{"POST", "/admin/stats"}, {"GET", "/admin/stats/"}, {"DELETE", "/admin/providers"}, {"GET", "/admin/providers/openai"},
	} {
		r := f.do(rt[0], rt[1])
		if r.status != http.StatusNotFound || r.code(t) != "not_found" {
			t.Errorf("%s %s: %d %s", rt[0], rt[1], r.status, r.body)
		}
	}
}

func TestStoreFailureIsServiceUnavailable(t *testing.T) {
	f := newFixture(t, adminKey)
	f.store.Close()
	for _, rt := range [][2]string{{"GET", "/admin/tokens/x"}, {"GET", "/admin/tokens"}, {"POST", "/admin/tokens/x/revoke"}, {"GET", "/admin/requests"},
		{"GET", "/admin/requests?status=5xx&since=2026-11-25T21:00:00Z"}, {"GET", "/admin/stats"}} {
		r := f.do(rt[0], rt[1])
		if r.status != http.StatusServiceUnavailable || r.code(t) != "store_unavailable" {
			t.Errorf("%s %s: %d %s", rt[0], rt[1], r.status, r.body)
		}
	}
}
