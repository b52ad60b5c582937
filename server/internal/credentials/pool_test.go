package credentials

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func ids(p *Pool, now time.Time, n int) string {
	var out []string
	for range n {
		k, _ := p.Next(now)
		out = append(out, k.ID())
	}
	return strings.Join(out, " ")
}

func TestNextRotatesRoundRobin(t *testing.T) {
	p := NewPool([]string{"a", "b", "c"})
	if got := ids(p, t0, 4); got != "key#1 key#2 key#3 key#1" {
		t.Fatalf("order %s", got)
	}
}

func TestNextSkipsBenchedKeysUntilTheBenchEnds(t *testing.T) {
	p := NewPool([]string{"a", "b", "c"})
	k, _ := p.Next(t0)
	p.Bench(k, t0.Add(time.Minute), "401")
	if got := ids(p, t0, 4); got != "key#2 key#3 key#2 key#3" {
		t.Fatalf("while benched: %s", got)
	}
	if got := ids(p, t0.Add(time.Minute), 3); !strings.Contains(got, "key#1") {
		t.Fatalf("after the bench: %s", got)
	}
}

func TestWhenAllAreBenchedNextReturnsTheOneFreedSoonest(t *testing.T) {
	p := NewPool([]string{"a", "b", "c"})
	until := []time.Duration{time.Hour, time.Second, time.Minute}
	for _, d := range until {
		k, _ := p.Next(t0)
		p.Bench(k, t0.Add(d), "429")
	}
	k, ok := p.Next(t0)
	if !ok || k.ID() != "key#2" || k.Value() != "b" {
		t.Fatalf("got %s ok=%v, want key#2", k, ok)
	}
}

func TestBenchIsExtendedButNeverShortened(t *testing.T) {
	p := NewPool([]string{"a", "b"})
	k, _ := p.Next(t0)
	p.Bench(k, t0.Add(10*time.Minute), "401")
	p.Bench(k, t0.Add(30*time.Second), "429")
	st := p.Status(t0.Add(time.Minute))
	if !st[0].Benched || st[0].Reason != "401" {
		t.Fatalf("status %+v: a 429 cut a 401 bench short", st[0])
	}
}

func TestBenchIgnoresForeignAndZeroKeys(t *testing.T) {
	p, other := NewPool([]string{"a"}), NewPool([]string{"x"})
	k, _ := other.Next(t0)
	p.Bench(k, t0.Add(time.Hour), "401")
	p.Bench(Key{}, t0.Add(time.Hour), "401")
	if p.Status(t0)[0].Benched {
		t.Fatal("a key from another pool benched this one")
	}
}

func TestEmptyAndNilPoolsHaveNoKey(t *testing.T) {
	var nilPool *Pool
	for _, p := range []*Pool{NewPool(nil), nilPool} {
		if _, ok := p.Next(t0); ok {
			t.Fatal("empty pool handed out a key")
		}
		p.Bench(Key{}, t0, "x") // must not panic
	}
}

func TestKeyFormatsAsItsIDNeverItsValue(t *testing.T) {
	p := NewPool([]string{secret})
	k, _ := p.Next(t0)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprint(p.Status(t0))} {
		if strings.Contains(s, "SECRET") {
			t.Fatalf("formatted key leaks its value: %s", s)
		}
	}
	if k.Value() != secret {
		t.Fatal("Value does not return the key")
	}
}

func TestConcurrentNextSharesTheLoadEvenly(t *testing.T) {
	p := NewPool([]string{"a", "b", "c", "d"})
	const workers, each = 16, 1000
	counts := make([]int, p.Len())
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			local := make([]int, p.Len())
			for i := range each {
				k, _ := p.Next(t0)
				local[k.n-1]++
				if i%100 == 0 { // benches and failures racing with rotation
					p.Bench(k, t0.Add(-time.Duration(w)), "stale")
					p.Failed(k, t0, "timeout")
					_ = p.Status(t0)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i, c := range local {
				counts[i] += c
			}
		})
	}
	wg.Wait()
	for i, c := range counts {
		if c != workers*each/len(counts) {
			t.Errorf("key#%d served %d, want %d", i+1, c, workers*each/len(counts))
		}
	}
}

func TestStatusReportsLastUseAndLastFailure(t *testing.T) {
	p := NewPool([]string{"sk-first-key-0001", "sk-second-key-0002"})
	k1, _ := p.Next(t0)
	p.Failed(k1, t0.Add(time.Second), "429 Too Many Requests")
	p.Failed(k1, t0, "timeout") // an older failure reported late changes nothing
	p.Failed(Key{}, t0.Add(time.Hour), "connect")
	st := p.Status(t0)
	if st[0].LastUsed != t0 || st[0].LastError != "429 Too Many Requests" || st[0].LastErrorAt != t0.Add(time.Second) {
		t.Fatalf("key#1 %+v", st[0])
	}
	if !st[1].LastUsed.IsZero() || st[1].LastError != "" || st[1].Last4 != "0002" || st[0].Last4 != "0001" {
		t.Fatalf("key#2 %+v", st[1])
	}
	p.Next(t0.Add(time.Minute))
	k1, _ = p.Next(t0.Add(2 * time.Minute))
	p.Failed(k1, t0.Add(3*time.Minute), "502 Bad Gateway")
	st = p.Status(t0)
	if st[0].LastUsed != t0.Add(2*time.Minute) || st[1].LastUsed != t0.Add(time.Minute) || st[0].LastError != "502 Bad Gateway" {
		t.Fatalf("after more use %+v", st)
	}
	var nilPool *Pool
	nilPool.Failed(k1, t0, "x") // must not panic
}

func TestLast4ShowsNothingOfAShortKey(t *testing.T) {
	for key, want := range map[string]string{
		secret: "6789", "": "", "abcd": "", "sk-12345678": "", "sk-123456789": "6789", "sk-ключ-ключ-ключ": "ключ",
	} {
		if got := Last4(key); got != want {
			t.Errorf("Last4(%q) = %q, want %q", key, got, want)
		}
	}
}
