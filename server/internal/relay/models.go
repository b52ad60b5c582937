package relay

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/rewrite"
)

// maxModelList bounds a model listing read to filter it; real ones are
// tens of KiB.
const maxModelList = 8 << 20

var errModelList = errors.New("the provider's model list could not be read")

// filterModelList replaces a 2xx model listing by the models the token
// allows, so a token restricted to some models does not learn (or offer
// its page) the rest of the account's.
func (c *call) filterModelList(resp *http.Response) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	var body io.Reader = io.LimitReader(resp.Body, maxModelList+1)
	switch contentEncoding(resp.Header) {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return errModelList
		}
		body = io.LimitReader(zr, maxModelList+1)
	default:
		return errModelList
	}
	raw, err := io.ReadAll(body)
	resp.Body.Close()
	if err != nil || len(raw) > maxModelList {
		return errModelList
	}
	out, err := rewrite.FilterModels(raw, c.tok.ModelAllowed)
	if err != nil {
		return errModelList
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Del("Content-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}
