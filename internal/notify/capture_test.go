package notify_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// capture is an httptest server that answers 200 and keeps every request.
type capture struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

type captured struct {
	path   string
	header http.Header
	body   []byte
}

func newCapture(t *testing.T) *capture {
	c := &capture{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, captured{path: r.URL.RequestURI(), header: r.Header.Clone(), body: b})
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *capture) all() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]captured(nil), c.reqs...)
}

func (c *capture) only(t *testing.T) captured {
	t.Helper()
	all := c.all()
	if len(all) != 1 {
		t.Fatalf("server got %d requests, want 1", len(all))
	}
	return all[0]
}
