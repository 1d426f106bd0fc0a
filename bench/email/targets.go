package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"changemaker/bench/internal/smtpsink"
)

// target is an SMTP server the delivery runs measure against: the go-smtp
// server in this process (stores nothing) or a mailpit the script started
// (stores every message in SQLite, as the measurements did).
type target interface {
	name() string
	port() int
	// reset forgets every delivery.
	reset(ctx context.Context) error
	// delivered is how many messages the server has taken since reset.
	delivered(ctx context.Context) (int, error)
	// span is the time from the first delivery to the last, and how many
	// messages came more than once (by Message-ID), once all arrived.
	span(ctx context.Context) (first, last time.Time, dups int, err error)
	// cpu is the CPU time the server has used so far.
	cpu() time.Duration
}

// inProcess is the go-smtp server of this process. Its CPU is this
// process's (the bench's polling included).
type inProcess struct {
	sink *smtpsink.Sink
	smtp int
}

func (s *inProcess) name() string                           { return "go-smtp (in process)" }
func (s *inProcess) port() int                              { return s.smtp }
func (s *inProcess) reset(context.Context) error            { s.sink.Reset(); return nil }
func (s *inProcess) cpu() time.Duration                     { return selfCPU() }
func (s *inProcess) delivered(context.Context) (int, error) { return s.sink.Count(), nil }
func (s *inProcess) span(context.Context) (time.Time, time.Time, int, error) {
	first, last, dups := s.sink.Span()
	return first, last, dups, nil
}

// mailpit is a mailpit process: SMTP on smtp, its HTTP API at api
// (http://host:port). Deliveries are counted and timed through the API
// (each message's Created is when mailpit received it, to the millisecond).
type mailpit struct {
	api  string
	smtp int
	pid  int
	hc   *http.Client
}

func newMailpit(api string, smtp, pid int) *mailpit {
	return &mailpit{api: strings.TrimRight(api, "/"), smtp: smtp, pid: pid, hc: &http.Client{Timeout: 60 * time.Second}}
}

func (m *mailpit) name() string       { return "mailpit" }
func (m *mailpit) port() int          { return m.smtp }
func (m *mailpit) cpu() time.Duration { return cpuOf([]int{m.pid}) }

func (m *mailpit) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, m.api+path, nil)
	if err != nil {
		return err
	}
	res, err := m.hc.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("mailpit %s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// wait waits until mailpit's API answers.
func (m *mailpit) wait(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := m.delivered(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit at %s did not answer in 30 s: %w", m.api, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reset deletes every message (mailpit vacuums its database before it
// answers).
func (m *mailpit) reset(ctx context.Context) error {
	return m.do(ctx, http.MethodDelete, "/api/v1/messages", nil)
}

type mailpitList struct {
	Total    int `json:"total"`
	Messages []struct {
		MessageID string    `json:"MessageID"`
		Created   time.Time `json:"Created"`
	} `json:"messages"`
}

func (m *mailpit) delivered(ctx context.Context) (int, error) {
	var l mailpitList
	err := m.do(ctx, http.MethodGet, "/api/v1/messages?limit=1", &l)
	return l.Total, err
}

func (m *mailpit) span(ctx context.Context) (first, last time.Time, dups int, err error) {
	seen := map[string]int{}
	const page = 5000
	for start := 0; ; start += page {
		var l mailpitList
		if err := m.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/messages?start=%d&limit=%d", start, page), &l); err != nil {
			return first, last, 0, err
		}
		for _, msg := range l.Messages {
			if seen[msg.MessageID]++; seen[msg.MessageID] > 1 {
				dups++
			}
			if first.IsZero() || msg.Created.Before(first) {
				first = msg.Created
			}
			if msg.Created.After(last) {
				last = msg.Created
			}
		}
		if len(l.Messages) < page || start+page >= l.Total {
			break
		}
	}
	if first.IsZero() {
		return first, last, 0, errors.New("mailpit holds no message")
	}
	return first, last, dups, nil
}

// awaitDelivered polls t until it has n messages (or the deadline); every
// poll costs the server a little, so it polls every 20 ms.
func awaitDelivered(ctx context.Context, t target, n int, deadline time.Time) error {
	for {
		got, err := t.delivered(ctx)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d delivered by the deadline", t.name(), got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
