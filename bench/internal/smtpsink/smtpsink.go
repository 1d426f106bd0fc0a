// Package smtpsink is the benchmarks' in-process SMTP server: it accepts
// every message, keeps nothing of it but its Message-ID and times, and
// counts what arrived, so a benchmark can tell deliveries, duplicates and
// the moments they came.
package smtpsink

import (
	"bytes"
	"io"
	"net"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Delivery is one message the server accepted.
type Delivery struct {
	MessageID string
	MailAt    time.Time // when its MAIL FROM came: the start of the SMTP conversation
	At        time.Time // when its DATA was read: the server answers 250 right after
}

// Sink is the server and its record.
type Sink struct {
	Port int
	srv  *smtp.Server

	mu         sync.Mutex
	deliveries []Delivery
	seen       map[string]int
	mailAt     map[string]time.Time // Message-ID → MAIL FROM of its last copy
}

// Start listens on a free loopback port. timeout bounds each read and write
// of the server.
func Start(timeout time.Duration) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{Port: ln.Addr().(*net.TCPAddr).Port}
	s.Reset()
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	s.srv.Domain, s.srv.AllowInsecureAuth = "localhost", true
	s.srv.ReadTimeout, s.srv.WriteTimeout = timeout, timeout
	go s.srv.Serve(ln) //nolint:errcheck
	return s, nil
}

// Close stops the server.
func (s *Sink) Close() error { return s.srv.Close() }

// Reset forgets every delivery.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries, s.seen, s.mailAt = nil, map[string]int{}, map[string]time.Time{}
}

// Count is how many messages arrived, copies included.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deliveries)
}

// Copies is how many copies of the message arrived.
func (s *Sink) Copies(messageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[messageID]
}

// MailAt is when the SMTP conversation of the message began.
func (s *Sink) MailAt(messageID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.mailAt[messageID]
	return at, ok
}

// Span is the first and last delivery's time and the number of copies
// beyond the first of each message.
func (s *Sink) Span() (first, last time.Time, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.deliveries); n > 0 {
		first, last = s.deliveries[0].At, s.deliveries[n-1].At
	}
	return first, last, len(s.deliveries) - len(s.seen)
}

// Deliveries returns every delivery, in the order they arrived.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

type session struct {
	sink   *Sink
	mailAt time.Time
}

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }
func (x *session) Mail(string, *smtp.MailOptions) error {
	x.mailAt = time.Now()
	return nil
}
func (x *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *session) AuthPlain(string, string) error       { return nil }
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	id := m.Header.Get("Message-Id")
	now := time.Now()
	s := x.sink
	s.mu.Lock()
	s.deliveries = append(s.deliveries, Delivery{MessageID: id, MailAt: x.mailAt, At: now})
	s.seen[id]++
	s.mailAt[id] = x.mailAt
	s.mu.Unlock()
	return nil
}
