package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/synthfm/synthfm/promptable"
)

// Error is an error with the HTTP status it answers with. The message is
// for the person or script that sent the request.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// errorf returns an *Error with the status and a formatted message.
func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// StatusOf returns the HTTP status an error answers with: the status of an
// *Error, 413 for a body over its limit, 504 for a deadline, 503 for work
// cancelled (the server stopping), 400 for a prompt the model cannot take
// (promptable.ErrUnsupportedPrompt), 500 otherwise.
func StatusOf(err error) int {
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e.Status
	case errors.Is(err, promptable.ErrUnsupportedPrompt):
		return http.StatusBadRequest
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// MessageOf returns the message to send for an error: the error's own text
// for client errors, and also for server errors (they name no secrets: the
// server's errors carry file names relative to its data folder only).
func MessageOf(err error) string {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Sprintf("request body is larger than the limit of %d bytes", tooBig.Limit)
	}
	return err.Error()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with {"error": message} and the error's status.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	level := s.log.Info
	if status >= 500 {
		level = s.log.Error
	}
	level("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, map[string]string{"error": MessageOf(err)})
}
