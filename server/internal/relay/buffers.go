package relay

import "sync"

// copyBufferSize is the copy buffer of one response. An open stream holds
// one for its whole life, so it is sized for SSE events, not for bulk
// downloads.
const copyBufferSize = 4 << 10

// bufferPool recycles copy buffers: without it every response allocates
// (and the garbage collector later scans) a fresh one.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) get() *[]byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return p
	}
	buf := make([]byte, copyBufferSize)
	return &buf
}

func (b *bufferPool) put(p *[]byte) { b.pool.Put(p) }
