package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synthfm/synthfm/baseline"
)

// slowModel is the flood fill with an embedding that takes delay (or until
// its context ends), to see the server's timeouts and responsiveness.
type slowModel struct {
	*baseline.FloodFill
	delay time.Duration
}

func (m slowModel) Embed(ctx context.Context, img Image) (Embedding, error) {
	select {
	case <-time.After(m.delay):
		return m.FloodFill.Embed(ctx, img)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestSlowEmbeddingTimesOutAndOthersAreStillAnswered(t *testing.T) {
	_, ts := testServer(t, slowModel{baseline.NewFloodFill(), time.Hour}, func(c *Config) { c.EmbedTimeout = 300 * time.Millisecond })
	img, _, _ := sceneImage()
	s := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	done := make(chan struct{})
	var status int
	var body []byte
	go func() {
		defer close(done)
		status, body = do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"points":[{"x":30,"y":40,"label":1}]}`))
	}()
	// While the embedding hangs, 20 other clients are answered promptly.
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < 20; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uploadImage(t, ts.URL, map[string][]byte{"other.png": pngBytes(t, img)})
			var info InfoJSON
			doJSON(t, "GET", ts.URL+"/api/info", nil, &info)
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("20 clients took %v while an embedding hung", took)
	}
	<-done
	if status != http.StatusGatewayTimeout || !strings.Contains(errorMessage(body), "deadline") {
		t.Errorf("hung embedding: %d %s, want 504 naming the deadline", status, body)
	}
}

// TestSlowClientsAreCutOff sends headers, or a body, too slowly: the server
// closes the connection after its read timeout instead of waiting.
func TestSlowClientsAreCutOff(t *testing.T) {
	s, err := New(Config{DataDir: t.TempDir(), UploadTimeout: 300 * time.Millisecond, Logger: discardLogger()}, baseline.NewFloodFill())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Serve(ctx, ln) }()
	for _, partial := range []string{
		"GET /api/info HTTP/1.1\r\nHost: x\r\n",                                                // headers never finished
		"POST /api/sessions?name=a.png HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc", // body never finished
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(partial)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(conn) // returns when the server closes the connection
		conn.Close()
		if took := time.Since(start); took > 3*time.Second || err != nil {
			t.Errorf("%q: connection held %v (err %v), want it closed after about 300 ms", partial, took, err)
		}
	}
}
