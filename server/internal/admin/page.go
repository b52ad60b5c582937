package admin

import (
	"errors"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/store"
)

// Page is one page of a listing; NextCursor is null on the last page.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// Bounds of the limit query parameter.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

var (
	errBadLimit  = apierror.New("bad_request", "limit must be an integer from 1 to 1000.")
	errBadCursor = apierror.New("bad_request", "cursor is not one this relay issued; start again without it.")
)

type pageParams struct {
	limit  int
	cursor string
}

// page reads limit and cursor, answering 400 when limit is unusable.
func (c call) page() (pageParams, bool) {
	q := c.r.URL.Query()
	p := pageParams{limit: DefaultLimit, cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			c.fail(errBadLimit)
			return p, false
		}
		p.limit = n
	}
	return p, true
}

// pageFailed answers a listing error: a bad cursor is the caller's.
func (c call) pageFailed(op string, err error) {
	if errors.Is(err, store.ErrBadCursor) {
		c.fail(errBadCursor)
		return
	}
	c.storeFailed(op, err)
}
