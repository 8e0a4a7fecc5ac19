package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/synthfm/synthfm/baseline"
)

// BenchmarkLoad20Clients is issue 12's load test: 20 clients, each from
// its own loopback address (127.0.0.2 to 127.0.0.21) with its own 512×512
// image, click at the same time on the flood-fill model (the cheapest, so
// that the server's own costs show: routing, session lookup, render and
// hash of the slice, cache hit, three PNG masks in JSON). b.N clicks are
// shared among the clients. It reports the click latency (p50, p95, p99
// in ms), the clicks per second, the failed clicks (any answer other than
// 200 with three masks: it must stay 0) and the process's resident memory
// before the server starts and after the clicks (Linux; the benchmark and
// the server are one process). Run it with
//
//	go test ./server -run '^$' -bench Load20Clients -benchtime 2000x
//
// (docs/benchmarks.md, "Interactive server under load").
func BenchmarkLoad20Clients(b *testing.B) {
	const clients = 20
	rssBefore := residentBytes()
	_, ts := testServer(b, baseline.NewFloodFill(), nil)
	type client struct {
		http *http.Client
		url  string
		body []byte
	}
	cs := make([]client, clients)
	for c := range cs {
		hc := clientFrom(b, ts.URL, fmt.Sprintf("127.0.0.%d", 2+c))
		cx, cy := 200+3*c, 220+2*c
		status, id := uploadImageAs(b, hc, ts.URL, "scene.png", loadScene(cx, cy))
		if status != http.StatusCreated {
			b.Fatalf("client %d upload: %d %s", c, status, id)
		}
		body, _ := json.Marshal(map[string]any{"points": []map[string]any{{"x": cx, "y": cy, "label": 1}}, "multimask": true})
		cs[c] = client{hc, ts.URL + "/api/sessions/" + id + "/predict", body}
		if _, err := click(hc, cs[c].url, body); err != nil { // computes the embedding
			b.Fatalf("client %d first click: %v", c, err)
		}
	}
	var next, failed atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if _, err := click(cs[c].http, cs[c].url, cs[c].body); err != nil {
					failed.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "clicks/s")
	b.ReportMetric(float64(failed.Load()), "errors")
	if rssBefore > 0 {
		b.ReportMetric(float64(rssBefore)/(1<<20), "rss-before-MiB")
		b.ReportMetric(float64(residentBytes())/(1<<20), "rss-after-MiB")
	}
}

// click posts one prompt and checks the answer: 200 and three masks.
func click(c *http.Client, url string, body []byte) (PredictResponse, error) {
	var pr PredictResponse
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return pr, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return pr, fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		return pr, err
	}
	if len(pr.Masks) != 3 {
		return pr, fmt.Errorf("%d masks", len(pr.Masks))
	}
	return pr, nil
}

// loadScene is a 512×512 picture with a disc of radius 90 at (cx, cy): each
// client's own image, so each has its own embedding.
func loadScene(cx, cy int) Image {
	const n = 512
	img := Image{Width: n, Height: n, Pix: make([]uint8, 3*n*n)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(40 + (x+y)%7)
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= 90*90 {
				v = 200
			}
			img.Pix[3*(y*n+x)], img.Pix[3*(y*n+x)+1], img.Pix[3*(y*n+x)+2] = v, v, v
		}
	}
	return img
}

// residentBytes returns the process's resident memory (VmRSS), or 0 where
// /proc is not there.
func residentBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
