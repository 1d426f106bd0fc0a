package smtppool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"changemaker/internal/smtppool"
)

// server is a real SMTP server (go-smtp) that misbehaves on purpose:
// dropEvery closes the connection after every dropEvery-th message of a
// connection (1: between every two messages), loseReply stores the next
// loseReply messages and then closes the connection instead of answering
// 250 (the message is accepted, the client never hears it).
type server struct {
	addr string
	port int

	mu        sync.Mutex
	got       map[string]int // Message-ID -> copies
	order     []string
	conns     int
	dropEvery int
	loseReply int
	refuse    int // refuse the next RCPTs with 550
}

func newServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{got: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	return s
}

func (s *server) srv() smtppool.Server {
	return smtppool.Server{Host: "127.0.0.1", Port: s.port, TLS: "none", Timeout: 5 * time.Second}
}

func (s *server) copies(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[id]
}

func (s *server) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

func (s *server) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

type session struct {
	srv  *server
	conn *smtp.Conn
	sent int  // messages on this connection
	drop bool // close once the 250 is out
}

// Reset runs after the answer to each DATA: where a drop "between
// messages" happens.
func (x *session) Reset() {
	if x.drop {
		x.conn.Conn().Close()
	}
}
func (x *session) Logout() error                        { return nil }
func (x *session) Mail(string, *smtp.MailOptions) error { return nil }
func (x *session) Rcpt(string, *smtp.RcptOptions) error {
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if x.srv.refuse > 0 {
		x.srv.refuse--
		return &smtp.SMTPError{Code: 550, Message: "no such user"}
	}
	return nil
}
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
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.srv.got[id]++
	x.srv.order = append(x.srv.order, id)
	x.sent++
	if x.srv.loseReply > 0 {
		x.srv.loseReply--
		x.conn.Conn().Close() // stored, and no 250 goes out
		return nil
	}
	x.drop = x.srv.dropEvery > 0 && x.sent%x.srv.dropEvery == 0
	return nil
}

type body string

func (b body) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, string(b))
	return int64(n), err
}

func message(i int) (smtppool.Message, string) {
	id := fmt.Sprintf("<msg-%d@test.example>", i)
	return smtppool.Message{From: "org@test.example", To: []string{"rep@test.example"},
		Body: body("From: org@test.example\r\nTo: rep@test.example\r\nMessage-ID: " + id +
			"\r\nSubject: hello\r\n\r\nDear representative.\r\n")}, id
}

// sendAll sends n messages in order and checks each went out exactly once.
func sendAll(t *testing.T, p *smtppool.Pool, s *server, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		m, id := message(i)
		if _, err := p.Send(context.Background(), s.srv(), m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := s.copies(id); got != 1 {
			t.Fatalf("message %d: the server holds %d copies, want 1", i, got)
		}
	}
}

func TestReusesOneConnection(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 20)
	if c := s.connections(); c != 1 {
		t.Errorf("20 messages one after another used %d connections, want 1", c)
	}
}

// A server that drops the connection after every message: each message
// after the first meets a dead connection, and goes out once on a new one.
func TestServerDropsBetweenMessages(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.dropEvery = 1
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 10)
	if got := s.total(); got != 10 {
		t.Errorf("the server got %d messages, want 10", got)
	}
}

// A server that closes a connection after 3 messages.
func TestServerClosesAfterN(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.dropEvery = 3
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 10)
	if got, c := s.total(), s.connections(); got != 10 || c != 4 {
		t.Errorf("the server got %d messages over %d connections, want 10 over 4", got, c)
	}
}

// Concurrent senders against a server that closes after 2 messages: every
// message exactly once, and never more connections at once than the pool's
// size allows.
func TestConcurrentSendsWithDrops(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.dropEvery = 2
	p := smtppool.New(smtppool.Options{MaxConns: 3})
	t.Cleanup(p.Close)
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, _ := message(i)
			if _, err := p.Send(context.Background(), s.srv(), m); err != nil {
				errs <- fmt.Errorf("message %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		if _, id := message(i); s.copies(id) != 1 {
			t.Errorf("message %d: %d copies, want 1", i, s.copies(id))
		}
	}
}

// The settings change mid-stream: the next messages go to the new server,
// and the old server's connection is closed.
func TestSettingsChangeMidStream(t *testing.T) {
	t.Parallel()
	a, b := newServer(t), newServer(t)
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, a, 0, 5)
	sendAll(t, p, b, 5, 5)
	if a.total() != 5 || b.total() != 5 {
		t.Errorf("old server %d, new server %d messages, want 5 and 5", a.total(), b.total())
	}
	// Same host and port, other credentials: a new connection too.
	before := b.connections()
	srv := b.srv()
	srv.Timeout = 6 * time.Second
	m, _ := message(10)
	if _, err := p.Send(context.Background(), srv, m); err != nil {
		t.Fatal(err)
	}
	if b.connections() != before+1 {
		t.Errorf("changed settings reused the old connection")
	}
}

// The server stores the message and the connection dies before its 250:
// the failure is returned, marked AfterData, and nothing is sent again.
func TestNoResendAfterTheEndOfData(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 1) // a connection to reuse
	s.mu.Lock()
	s.loseReply = 1
	s.mu.Unlock()
	m, id := message(1)
	_, err := p.Send(context.Background(), s.srv(), m)
	var se *smtppool.Error
	if !errors.As(err, &se) || !se.AfterData {
		t.Fatalf("Send = %v, want an error after the end of DATA", err)
	}
	if got := s.copies(id); got != 1 {
		t.Errorf("the server holds %d copies, want 1 (no resend on the spot)", got)
	}
	sendAll(t, p, s, 2, 2) // the pool recovers
}

// A refusal is the message's, not the connection's: it is returned and not
// retried, and the connection carries the next message.
func TestRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 1)
	s.mu.Lock()
	s.refuse = 1
	s.mu.Unlock()
	m, id := message(1)
	if _, err := p.Send(context.Background(), s.srv(), m); err == nil {
		t.Fatal("a refused recipient was not an error")
	}
	if s.copies(id) != 0 {
		t.Errorf("the refused message arrived")
	}
	sendAll(t, p, s, 2, 2)
	if c := s.connections(); c != 1 {
		t.Errorf("%d connections, want 1 (the refusal did not cost the connection)", c)
	}
}

// An idle connection older than IdleTimeout is not reused.
func TestIdleConnectionsAreDropped(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := smtppool.New(smtppool.Options{IdleTimeout: time.Millisecond})
	t.Cleanup(p.Close)
	sendAll(t, p, s, 0, 1)
	deadline := time.Now().Add(10 * time.Second)
	for s.connections() < 2 && time.Now().Before(deadline) {
		// Any send after a millisecond of idling must dial anew.
		sendAll(t, p, s, 100+s.total(), 1)
	}
	if s.connections() < 2 {
		t.Error("an idle connection was reused past its idle timeout")
	}
}

// A server that is not there: the error comes back, bounded by the timeout.
func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := smtppool.New(smtppool.Options{})
	t.Cleanup(p.Close)
	m, _ := message(0)
	if _, err := p.Send(context.Background(), smtppool.Server{Host: "127.0.0.1", Port: port, TLS: "none",
		Timeout: 2 * time.Second}, m); err == nil {
		t.Fatal("sending to a closed port succeeded")
	}
}
