//go:build !race && !msan && !asan

// (Those builds check unsafe pointer arithmetic and grow frames.)

package usage

import (
	"bytes"
	"runtime/debug"
	"testing"
	"unsafe"
)

// stackUse returns how many bytes of stack work used below the caller's
// frame, at most span. Go has no API for that: the stack below is
// painted, work runs, and the lowest word it changed is found. The
// goroutine must already have more than span of stack (so that it does
// not move), and nothing may shrink it meanwhile (no GC).
//
//go:noinline
func stackUse(work func()) uintptr {
	const span, reserve = 32 << 10, 256 // reserve: this frame
	const paint = 0x5ca1ab1e5ca1ab1e
	var anchor uint64
	words := unsafe.Slice((*uint64)(unsafe.Add(unsafe.Pointer(&anchor), -span)), (span-reserve)/8)
	for i := range words {
		words[i] = paint
	}
	work()
	for i, w := range words { // from the lowest address up
		if w != paint {
			return span - uintptr(i)*8
		}
	}
	return 0
}

//go:noinline
func growStack(n int) byte {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[1]
	}
	return growStack(n-1) + pad[(n*7)%len(pad)]
}

// stackUseOf runs work in a fresh goroutine grown beforehand.
func stackUseOf(work func()) uintptr {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	used := make(chan uintptr)
	go func() {
		growStack(48)
		used <- stackUse(work)
	}()
	return <-used
}

// longStream is every sample stream, n times over.
func longStream(t testing.TB, f Format, n int) []byte {
	var one []byte
	for _, c := range streamCases {
		if c.format == f {
			one = append(one, sample(t, c.file)...)
		}
	}
	return bytes.Repeat(one, n)
}

// maxStack bounds the stack the meter may use below Meter.Write. The
// relay calls Write from the request's handler goroutine, which has about
// 4.8 KiB of its 8 KiB stack left there (measured in internal/server's
// tests); encoding/json needed 7.6 KiB (19 KiB on a type's first decode)
// and grew every streaming goroutine to 16 KiB for good.
const maxStack = 3 << 10

// TestMeterStackUse runs the meter over long realistic streams and checks
// that its stack stays small: the scan must stay iterative (loops, not
// recursion per nesting level) and avoid deep-framed helpers.
func TestMeterStackUse(t *testing.T) {
	for _, f := range allFormats {
		stream := longStream(t, f, 50)
		scan := stackUseOf(func() {
			m := NewMeter(f)
			_, _ = m.Write(stream)
			_ = m.Close()
		})
		ref := func() {
			m := NewMeter(f)
			lf := bytes.ReplaceAll(stream, []byte("\r\n"), []byte("\n"))
			for _, ev := range bytes.Split(lf, []byte("\n\n")) {
				event, data := []byte(nil), []byte(nil)
				for _, line := range bytes.Split(ev, []byte("\n")) {
					if v, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
						data = v
					} else if v, ok := bytes.CutPrefix(line, []byte("event: ")); ok {
						event = v
					}
				}
				if data == nil {
					continue
				}
				switch f {
				case Anthropic:
					m.referenceObserveAnthropic(event, data)
				case Gemini:
					m.referenceObserveGemini(data)
				default:
					m.referenceObserveOpenAI(data)
				}
			}
		}
		// The first decode of a type also builds encoding/json's caches.
		first, then := stackUseOf(ref), stackUseOf(ref)
		t.Logf("%s: the meter uses %d bytes of stack; encoding/json's decoding used %d (%d the first time here: a type's first decode also fills its caches)", f, scan, then, first)
		if scan == 0 || scan > maxStack {
			t.Errorf("%s: the meter uses %d bytes of stack, want 1..%d", f, scan, maxStack)
		}
	}
}
