//go:build linux

package rlimit

import (
	"errors"
	"syscall"
	"testing"
)

func TestRaiseNoFileLiftsSoftToHard(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Max < 128 {
		t.Skipf("hard RLIMIT_NOFILE is %d: too low to lower and raise", orig.Max)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	})
	low := syscall.Rlimit{Cur: 64, Max: orig.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}

	before, after, err := RaiseNoFile()
	if err != nil {
		t.Fatalf("RaiseNoFile: %v", err)
	}
	if before != 64 || after != orig.Max {
		t.Errorf("RaiseNoFile() = %d, %d; want 64, %d", before, after, orig.Max)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != orig.Max || now.Max != orig.Max {
		t.Errorf("limit now %d/%d, want %d/%d", now.Cur, now.Max, orig.Max, orig.Max)
	}

	// Already at the hard limit: nothing to do, same answer.
	before, after, err = RaiseNoFile()
	if err != nil || before != orig.Max || after != orig.Max {
		t.Errorf("second RaiseNoFile() = %d, %d, %v; want %d, %d, nil", before, after, err, orig.Max, orig.Max)
	}
}

var errGet = errors.New("getrlimit failed")

// fake is an in-memory RLIMIT_NOFILE with injectable failures.
type fake struct {
	lim             syscall.Rlimit
	getErr, setErr  error
	sets            int
	failGetAfterSet bool // the re-read after a successful set fails
}

func (f *fake) get(l *syscall.Rlimit) error {
	if f.getErr != nil || (f.failGetAfterSet && f.sets > 0) {
		return errGet
	}
	*l = f.lim
	return nil
}

func (f *fake) set(l *syscall.Rlimit) error {
	if f.setErr != nil {
		return f.setErr
	}
	f.sets++
	f.lim = *l
	return nil
}

func TestRaiseCases(t *testing.T) {
	ceiling := func() uint64 { return 1048576 }
	errPerm := syscall.EPERM
	cases := []struct {
		name          string
		f             fake
		before, after uint64
		wantErr       bool
		wantCur       uint64
	}{
		{name: "soft below hard", f: fake{lim: syscall.Rlimit{Cur: 1024, Max: 65536}}, before: 1024, after: 65536, wantCur: 65536},
		{name: "go runtime left one", f: fake{lim: syscall.Rlimit{Cur: 19999, Max: 20000}}, before: 19999, after: 20000, wantCur: 20000},
		{name: "already at hard", f: fake{lim: syscall.Rlimit{Cur: 4096, Max: 4096}}, before: 4096, after: 4096, wantCur: 4096},
		{name: "infinite hard takes nr_open", f: fake{lim: syscall.Rlimit{Cur: 1024, Max: rlimInfinity}}, before: 1024, after: 1048576, wantCur: 1048576},
		{name: "set refused", f: fake{lim: syscall.Rlimit{Cur: 1024, Max: 65536}, setErr: errPerm}, before: 1024, after: 1024, wantErr: true, wantCur: 1024},
		{name: "get fails", f: fake{getErr: errPerm}, wantErr: true},
		{name: "re-read fails after set", f: fake{lim: syscall.Rlimit{Cur: 1024, Max: 8192}, failGetAfterSet: true}, before: 1024, after: 8192, wantCur: 8192},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			before, after, err := raise(f.get, f.set, ceiling)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if before != tc.before || after != tc.after {
				t.Errorf("raise() = %d, %d; want %d, %d", before, after, tc.before, tc.after)
			}
			if f.lim.Cur != tc.wantCur {
				t.Errorf("soft limit now %d, want %d", f.lim.Cur, tc.wantCur)
			}
			if f.lim.Max != tc.f.lim.Max {
				t.Errorf("hard limit changed: %d, want %d", f.lim.Max, tc.f.lim.Max)
			}
		})
	}
}

func TestNrOpen(t *testing.T) {
	if n := nrOpen(); n < 1024 {
		t.Errorf("nrOpen() = %d, want the kernel's fs.nr_open (≥ 1024)", n)
	}
}
