package main

import "testing"

func TestDeploymentFlagParsesNameEqualsModel(t *testing.T) {
	d := deploymentFlag{}
	for _, v := range []string{"prod-chat=gpt-4o-mini", "emb=text-embedding-3-small"} {
		if err := d.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if d["prod-chat"] != "gpt-4o-mini" || d["emb"] != "text-embedding-3-small" || len(d) != 2 {
		t.Errorf("deployments = %v", d)
	}
	for _, bad := range []string{"nomodel", "=gpt-4o", "name="} {
		if err := d.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestRunRejectsMalformedDeployment(t *testing.T) {
	if code := run([]string{"--listen", "127.0.0.1:0", "--deployment", "oops"}); code != 2 {
		t.Errorf("run = %d, want 2", code)
	}
}
