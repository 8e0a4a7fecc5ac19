package main

import (
	"context"
	"strings"
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
