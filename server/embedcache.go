package server

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// embeddingCache keeps image embeddings, least recently used first out,
// within a byte budget. It computes each missing embedding once however
// many requests ask for it at the same time, runs at most a fixed number of
// computations at once, and reports the progress of those under way.
type embeddingCache struct {
	capacity int64
	slots    chan struct{} // one token per computation allowed to run

	mu       sync.Mutex
	used     int64
	order    *list.List // of *cacheEntry, most recently used at the front
	entries  map[string]*list.Element
	inflight map[string]*embedCall
	// typical is a running average of how long one embedding takes, for
	// progress estimates.
	typical time.Duration
	stats   CacheStats
}

type cacheEntry struct {
	key  string
	emb  Embedding
	size int64
}

// embedCall is one computation under way; done closes when it ends.
type embedCall struct {
	done    chan struct{}
	emb     Embedding
	err     error
	queued  time.Time
	started time.Time // zero while waiting for a slot
}

// CacheStats counts what the cache did.
type CacheStats struct {
	Hits      int64 `json:"hits"`
	Misses    int64 `json:"misses"`
	Evictions int64 `json:"evictions"`
	Entries   int   `json:"entries"`
	UsedBytes int64 `json:"used_bytes"`
	Capacity  int64 `json:"capacity_bytes"`
}

func newEmbeddingCache(capacity int64, concurrent int) *embeddingCache {
	if concurrent < 1 {
		concurrent = 1
	}
	return &embeddingCache{
		capacity: capacity,
		slots:    make(chan struct{}, concurrent),
		order:    list.New(),
		entries:  map[string]*list.Element{},
		inflight: map[string]*embedCall{},
	}
}

// get returns the embedding stored under key, computing it with compute
// when absent. The computation runs in its own goroutine under runCtx (the
// server's lifetime), so a caller that gives up (ctx ends) neither cancels
// it for the others waiting nor wastes the work: the result is cached.
func (c *embeddingCache) get(ctx, runCtx context.Context, key string, compute func(context.Context) (Embedding, error)) (Embedding, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.order.MoveToFront(el)
		c.stats.Hits++
		c.mu.Unlock()
		return el.Value.(*cacheEntry).emb, nil
	}
	call, ok := c.inflight[key]
	if !ok {
		c.stats.Misses++
		call = &embedCall{done: make(chan struct{}), queued: time.Now()}
		c.inflight[key] = call
		go c.run(runCtx, key, call, compute)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.emb, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *embeddingCache) run(ctx context.Context, key string, call *embedCall, compute func(context.Context) (Embedding, error)) {
	defer close(call.done)
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		c.finish(key, call, nil, ctx.Err(), 0)
		return
	}
	defer func() { <-c.slots }()
	start := time.Now()
	c.mu.Lock()
	call.started = start
	c.mu.Unlock()
	emb, err := compute(ctx)
	c.finish(key, call, emb, err, time.Since(start))
}

func (c *embeddingCache) finish(key string, call *embedCall, emb Embedding, err error, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, key)
	call.emb, call.err = emb, err
	if err != nil {
		return
	}
	if c.typical == 0 {
		c.typical = took
	} else {
		c.typical = (3*c.typical + took) / 4
	}
	size := emb.SizeBytes()
	if size > c.capacity {
		return // served to the waiting callers, too large to keep
	}
	for c.used+size > c.capacity {
		c.evictOldest()
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, emb: emb, size: size})
	c.used += size
}

func (c *embeddingCache) evictOldest() {
	el := c.order.Back()
	e := el.Value.(*cacheEntry)
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.used -= e.size
	c.stats.Evictions++
}

// EmbedStatus says where the embedding of one image stands.
type EmbedStatus struct {
	// State is "ready", "computing", "queued" (waiting for a free slot) or
	// "absent" (neither cached nor under way).
	State string `json:"state"`
	// ElapsedMS is how long the computation has run (or waited, when
	// queued).
	ElapsedMS int64 `json:"elapsed_ms"`
	// ExpectedMS is the running average of past computations, 0 before the
	// first one.
	ExpectedMS int64 `json:"expected_ms"`
	// Progress is an estimate in [0, 1): elapsed over expected, held below
	// 1 until the embedding is ready (then it is 1). It is 0 when nothing
	// is known yet.
	Progress float64 `json:"progress"`
}

func (c *embeddingCache) status(key string) EmbedStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := EmbedStatus{State: "absent", ExpectedMS: c.typical.Milliseconds()}
	if _, ok := c.entries[key]; ok {
		st.State, st.Progress = "ready", 1
		return st
	}
	call, ok := c.inflight[key]
	if !ok {
		return st
	}
	if call.started.IsZero() {
		st.State = "queued"
		st.ElapsedMS = time.Since(call.queued).Milliseconds()
		return st
	}
	st.State = "computing"
	elapsed := time.Since(call.started)
	st.ElapsedMS = elapsed.Milliseconds()
	if c.typical > 0 {
		st.Progress = min(0.95, float64(elapsed)/float64(c.typical))
	}
	return st
}

func (c *embeddingCache) snapshot() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.entries)
	s.UsedBytes = c.used
	s.Capacity = c.capacity
	return s
}
