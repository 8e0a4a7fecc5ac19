package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/synthfm/synthfm/baseline"
)

// clientFrom returns an HTTP client whose connections leave from the
// loopback address ip (127.0.0.2, ...), so that the server sees another
// client; the test is skipped where the system does not route it (Linux
// routes all of 127.0.0.0/8 to the loopback interface).
func clientFrom(t testing.TB, base, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Get(base + "/api/info")
	if err != nil {
		t.Skipf("cannot connect from %s: %v", ip, err)
	}
	resp.Body.Close()
	return c
}

// uploadAs uploads a small picture with client c and returns the status
// and the session ID (empty on failure) or the error message.
func uploadAs(t testing.TB, c *http.Client, base, name string) (int, string) {
	t.Helper()
	img, _, _ := sceneImage()
	return uploadImageAs(t, c, base, name, img)
}

// uploadImageAs uploads img as a PNG named name with client c (see
// uploadAs).
func uploadImageAs(t testing.TB, c *http.Client, base, name string, img Image) (int, string) {
	t.Helper()
	ct, body := multipartBody(t, "file", map[string][]byte{name: pngBytes(t, img)}, nil)
	resp, err := c.Post(base+"/api/sessions", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return resp.StatusCode, errorMessage(b)
	}
	var s SessionJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, s.ID
}

func statusOf(t testing.TB, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Issue 12 item 6: 64 uploads from one client filled every session place
// for the hour-long TTL, and a second client got 503.
func TestFairnessOneClientCannotLockOutAnother(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), nil)
	a := clientFrom(t, ts.URL, "127.0.0.1")
	b := clientFrom(t, ts.URL, "127.0.0.2")
	limit := srv.cfg.MaxSessionsPerClient
	var ids []string
	for i := 0; i < srv.cfg.MaxSessions; i++ {
		status, id := uploadAs(t, a, ts.URL, "a.png")
		if status != http.StatusCreated {
			t.Fatalf("client A's upload %d: %d %s", i+1, status, id)
		}
		ids = append(ids, id)
	}
	if n, _ := srv.sessions.stats(); n != limit {
		t.Errorf("client A holds %d sessions after %d uploads, want its limit %d", n, len(ids), limit)
	}
	// A's newest sessions are kept, its oldest made way for them.
	if got := statusOf(t, a, ts.URL+"/api/sessions/"+ids[len(ids)-1]); got != http.StatusOK {
		t.Errorf("A's newest session answers %d", got)
	}
	if got := statusOf(t, a, ts.URL+"/api/sessions/"+ids[0]); got != http.StatusNotFound {
		t.Errorf("A's oldest session answers %d, want 404", got)
	}
	if _, err := os.Stat(filepath.Join(srv.cfg.DataDir, "sessions", ids[0])); !os.IsNotExist(err) {
		t.Errorf("an evicted session's folder is still there (%v)", err)
	}
	status, id := uploadAs(t, b, ts.URL, "b.png")
	if status != http.StatusCreated {
		t.Fatalf("client B is locked out: %d %s", status, id)
	}
	if got := statusOf(t, b, ts.URL+"/api/sessions/"+id); got != http.StatusOK {
		t.Errorf("B's session answers %d", got)
	}
}

// At the server's limit, the client holding the most sessions gives its
// least recently used one back: a light client keeps its session.
func TestFairnessServerLimitEvictsTheHeaviestClientsOldest(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) {
		c.MaxSessions = 4
		c.MaxSessionsPerClient = 3
	})
	a := clientFrom(t, ts.URL, "127.0.0.1")
	b := clientFrom(t, ts.URL, "127.0.0.2")
	c := clientFrom(t, ts.URL, "127.0.0.3")
	var aIDs []string
	for i := 0; i < 3; i++ {
		_, id := uploadAs(t, a, ts.URL, "a.png")
		aIDs = append(aIDs, id)
	}
	_, bID := uploadAs(t, b, ts.URL, "b.png")
	// B's session is older than all but A's first; A then uses its first
	// again, so A's least recently used session is its second.
	if got := statusOf(t, a, ts.URL+"/api/sessions/"+aIDs[0]); got != http.StatusOK {
		t.Fatalf("A's first session answers %d", got)
	}
	status, cID := uploadAs(t, c, ts.URL, "c.png")
	if status != http.StatusCreated {
		t.Fatalf("client C at the server's limit: %d %s", status, cID)
	}
	for who, want := range map[string]int{aIDs[0]: 200, aIDs[1]: 404, aIDs[2]: 200, bID: 200, cID: 200} {
		if got := statusOf(t, a, ts.URL+"/api/sessions/"+who); got != want {
			t.Errorf("session %s answers %d, want %d", who, got, want)
		}
	}
	if n, _ := srv.sessions.stats(); n != 4 {
		t.Errorf("%d sessions held, want 4", n)
	}
}

// A client whose every place is an upload under way is refused (429)
// rather than let in past its limit.
func TestFairnessUploadsUnderWayAreNotEvicted(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { c.MaxSessionsPerClient = 2 })
	srv.sessions.mu.Lock()
	srv.sessions.pendingBy["127.0.0.1"] = 2
	srv.sessions.pending = 2
	srv.sessions.mu.Unlock()
	status, msg := uploadAs(t, http.DefaultClient, ts.URL, "a.png")
	if status != http.StatusTooManyRequests || !strings.Contains(msg, "--max-sessions-per-client") {
		t.Fatalf("upload past the uploads under way: %d %s", status, msg)
	}
	b := clientFrom(t, ts.URL, "127.0.0.2")
	if status, msg := uploadAs(t, b, ts.URL, "b.png"); status != http.StatusCreated {
		t.Fatalf("another client: %d %s", status, msg)
	}
}

// Session folders left by a server that was killed before Close are
// removed when the next one starts; other files in the data folder stay.
func TestFairnessLeftoverSessionFoldersAreRemovedAtStart(t *testing.T) {
	data := t.TempDir()
	left := filepath.Join(data, "sessions", strings.Repeat("ab", 16))
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "ct.nii"), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(data, "sessions", "README")
	if err := os.WriteFile(other, []byte("not a session"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { c.DataDir = data })
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the leftover session folder is still there (%v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is no session folder was removed: %v", err)
	}
	status, id := uploadAs(t, http.DefaultClient, ts.URL, "a.png")
	if status != http.StatusCreated {
		t.Fatalf("upload after the clean-up: %d %s", status, id)
	}
	if _, err := os.Stat(filepath.Join(data, "sessions", id)); err != nil {
		t.Errorf("new session's folder: %v", err)
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5000":                 "127.0.0.1",
		"[::ffff:10.0.0.7]:80":           "10.0.0.7",
		"[2001:db8:1:2:3:4:5:6]:443":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443":     "2001:db8:1:2::/64",
		"[fe80::1%eth0]:8000":            "fe80::/64",
		"not an address":                 "not an address",
		"192.168.1.9":                    "192.168.1.9",
		"[2001:db8:1:3:3:4:5:6]:443":     "2001:db8:1:3::/64",
		"[2001:db8:1:2:3:4:5:6%lo]:8443": "2001:db8:1:2::/64",
	} {
		if got := clientKey(addr); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

// Concurrent uploads of one client never leave it holding more than its
// limit, nor the server more than its own; each is answered 201, or 429
// when every place of the client is an upload under way, or 503 when every
// place of the server is.
func TestFairnessConcurrentUploadsStayWithinTheLimits(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) {
		c.MaxSessions = 6
		c.MaxSessionsPerClient = 4
	})
	b := clientFrom(t, ts.URL, "127.0.0.2")
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := 0; i < cap(statuses); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := http.DefaultClient
			if i%4 == 0 {
				c = b
			}
			status, _ := uploadAs(t, c, ts.URL, "x.png")
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusCreated && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("upload answered %d", s)
		}
	}
	srv.sessions.mu.Lock()
	defer srv.sessions.mu.Unlock()
	if n := len(srv.sessions.byID); n > 6 {
		t.Errorf("%d sessions held, server limit 6", n)
	}
	for _, client := range []string{"127.0.0.1", "127.0.0.2"} {
		if n := srv.sessions.heldByLocked(client); n < 1 || n > 4 {
			t.Errorf("client %s holds %d sessions, want 1 to 4", client, n)
		}
	}
	if srv.sessions.pending != 0 || len(srv.sessions.pendingBy) != 0 {
		t.Errorf("places still held after the uploads: %d, %v", srv.sessions.pending, srv.sessions.pendingBy)
	}
}
