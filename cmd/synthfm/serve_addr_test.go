package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 12 item 8: `--addr :0` listened on every interface without a word.
// It now logs a warning that names the interfaces and addresses.
func TestServeOnEveryInterfaceWarns(t *testing.T) {
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		done <- runMain(ctx, &cliEnv{stdout: &out, stderr: &errb}, []string{"serve", "--addr", ":0", "--data", t.TempDir(), "--model", "flood-fill"})
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "serving"); {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; stderr %q", code, errb.String())
	}
	log := errb.String()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "every network interface") || !strings.Contains(log, "reachable_at=") || !strings.Contains(log, "127.0.0.1:") {
		t.Errorf("no warning naming the interfaces: %q", log)
	}

	// A loopback address gets no warning.
	var out2, errb2 syncBuffer
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		done <- runMain(ctx2, &cliEnv{stdout: &out2, stderr: &errb2}, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--model", "flood-fill"})
	}()
	for !strings.Contains(out2.String(), "serving") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done
	if strings.Contains(errb2.String(), "every network interface") {
		t.Errorf("warning for a loopback address: %q", errb2.String())
	}
}

// serve stops cleanly on SIGTERM (the synthfm process, a child running
// main): exit 0, and the session folders it made are removed.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	data := t.TempDir()
	cmd := helperCommand(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--model", "flood-fill")
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	urlRe := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/`)
	var base string
	for base == "" {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-exited:
			t.Fatalf("serve ended: %v; %s", err, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "a.png")
	png.Encode(w, image.NewGray(image.Rect(0, 0, 16, 16)))
	mw.Close()
	resp, err := http.Post(base+"/api/sessions", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	if names, _ := os.ReadDir(filepath.Join(data, "sessions")); len(names) != 1 {
		t.Fatalf("%d session folders while serving", len(names))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute): // a hang guard, not a timing check
		cmd.Process.Kill()
		t.Fatalf("serve still running a minute after SIGTERM; %s", errb.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM; %s", code, errb.String())
	}
	if names, _ := os.ReadDir(filepath.Join(data, "sessions")); len(names) != 0 {
		t.Errorf("session folders left after SIGTERM: %v", names)
	}
}
