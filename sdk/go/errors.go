package relayapi

import (
	"errors"
	"fmt"
)

// Codes of errors the SDK raises itself. Errors the relay answers keep the
// relay's own code (invalid_token, unauthorized, not_found, rate_limited …;
// docs/api.md), like the Python and JavaScript SDKs.
const (
	CodeInvalidArgument = "invalid_argument" // a TokenRequest field the relay would refuse
	CodeInvalidConfig   = "invalid_config"   // the .rai file cannot be used
	CodeTokenTooLarge   = "token_too_large"  // the claims make a token over 8 KiB
	CodeMissingAdminKey = "missing_admin_key"
	CodeNetworkError    = "network_error" // the relay could not be reached
	CodeHTTPError       = "http_error"    // an answer that is not the relay's error shape
)

// Error is every error the SDK returns about a request or a key file; get it
// with errors.As. Status is the HTTP status for answers from the relay, 0
// for errors raised locally.
type Error struct {
	Code    string
	Message string
	Status  int
	// Param names the TokenRequest field at fault, for invalid_argument.
	Param string
	cause error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("relayapi: %s (%d): %s", e.Code, e.Status, e.Message)
	}
	return fmt.Sprintf("relayapi: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// CodeOf returns the Code of an *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func invalidArgument(param, message string) *Error {
	return &Error{Code: CodeInvalidArgument, Param: param, Message: param + ": " + message}
}

func configError(err error) *Error {
	return &Error{Code: CodeInvalidConfig, Message: "invalid .rai: " + err.Error(), cause: err}
}
