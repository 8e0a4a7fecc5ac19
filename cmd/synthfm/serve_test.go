package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServeAnswersAndStopsOnCancel(t *testing.T) {
	serveAndStop(t, "flood-fill", "--model", "flood-fill")
	serveAndStop(t, "baseline", "--model", "baseline")
}

// serveAndStop runs `synthfm serve` with the model flags, checks that it
// answers with the named model, and stops it by ending its context.
func serveAndStop(t *testing.T, modelName string, modelArgs ...string) {
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, modelArgs...)
		done <- runMain(ctx, &cliEnv{stdout: &out, stderr: &errb}, args)
	}()
	urlRe := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address printed; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(base + "/api/info")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Model struct{ Name string }
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Model.Name != modelName {
		t.Fatalf("info: %+v %v", info, err)
	}
	resp, err = http.Get(base + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("page: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after cancel; stderr %q", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

func TestServeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"serve", "--help"}, 0, "Example:"},
		{[]string{"serve", "--cache-mb", "0", "--model", "flood-fill"}, 2, "--cache-mb must be positive"},
		{[]string{"serve", "--addr", "8000", "--model", "flood-fill"}, 2, "want HOST:PORT"},
		{[]string{"serve", "--model", "unet"}, 1, "unknown model"},
		{[]string{"serve", "--model", "flood-fill", "--checkpoint", "x.pth"}, 2, "are for weights files"},
		{[]string{"serve", "--model", "flood-fill", "--medsam"}, 2, "are for weights files"},
		{[]string{"serve", "extra"}, 2, "unexpected argument"},
		{[]string{"serve", "--checkpoint", "/nonexistent/sam.pth", "--addr", "127.0.0.1:0"}, 1, "sam.pth"},
	} {
		var out, errb syncBuffer
		code := runMain(context.Background(), &cliEnv{stdout: &out, stderr: &errb}, tc.args)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.out) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out.String()+errb.String(), tc.code, tc.out)
		}
	}
}
