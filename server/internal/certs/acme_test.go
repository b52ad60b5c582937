package certs

import (
	"context"
	"testing"
)

func TestHostPolicyAllowsTheConfiguredNamesWithOrWithoutAPort(t *testing.T) {
	allow := hostPolicy([]string{"relay.example.com"})
	for _, host := range []string{"relay.example.com", "relay.example.com:80", "relay.example.com:5002"} {
		if err := allow(context.Background(), host); err != nil {
			t.Errorf("%s refused: %v", host, err)
		}
	}
	for _, host := range []string{"other.example.com", "other.example.com:80", "relay.example.com.evil.test", "", ":80"} {
		if allow(context.Background(), host) == nil {
			t.Errorf("%q allowed", host)
		}
	}
}
