// Package smtppool keeps SMTP connections open between messages: a small
// pool of connected, authenticated go-mail clients for the SMTP server in
// force, so a worker does not pay the TCP (and TLS) handshake, EHLO and AUTH
// for every email.
//
// Between messages nothing is sent: after the server's 250 to the end of
// DATA the transaction is over (RFC 5321, 4.1.1.4) and the next MAIL FROM
// starts a new one, so a reused message costs MAIL, RCPT, DATA and the end of
// DATA, as on one long-lived connection. A transaction the server refused
// (an answer to MAIL, RCPT or DATA that is not a success) is reset with RSET
// before the connection goes back; a connection whose reset fails, that
// broke, or that idled longer than Options.IdleTimeout is closed. When the
// server's settings change (Server.Key differs) the connections of the old
// settings are closed and new ones dialled.
//
// Send retries a message once on a new connection when a reused connection
// failed before the end of DATA (the server dropped it while idle, closed it
// after its limit of messages, answered 421). It never retries once the end
// of DATA was written: the server may have accepted the message, and a
// second attempt could deliver it twice; that failure goes back to the
// caller.
package smtppool

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Server is one SMTP server and how to reach it.
type Server struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // "none", "starttls" or "tls"
	// Timeout bounds the dial and the whole handshake, and then each message
	// (MAIL FROM to the answer to the end of DATA).
	Timeout time.Duration
	// Dial makes the TCP connection; nil is a plain net.Dialer. The
	// settings' server goes through netguard's public-only dialer here.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialKey names Dial in Key (a different dialer is a different server).
	DialKey string
}

// Key identifies the server's settings: connections are reused only for
// the same key. The password enters it hashed.
func (s Server) Key() string {
	h := sha256.New()
	for _, part := range []string{s.Host, strconv.Itoa(s.Port), s.Username, s.Password, s.TLS, s.DialKey,
		s.Timeout.String()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Options size a pool.
type Options struct {
	// MaxConns is how many connections may be open at once; senders beyond
	// it wait for one. 0 is 10.
	MaxConns int
	// IdleTimeout closes a connection unused this long instead of reusing
	// it (servers drop idle clients, often after a minute or more). 0 is
	// 30 seconds.
	IdleTimeout time.Duration
}

// Pool is a set of SMTP connections to the server in force. It is safe for
// concurrent use.
type Pool struct {
	opts  Options
	slots chan struct{}

	mu     sync.Mutex
	key    string
	idle   []*conn // most recently used last
	closed bool
	dials  int // connections made, for tests and metrics
}

// New returns an empty pool.
func New(o Options) *Pool {
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	return &Pool{opts: o, slots: make(chan struct{}, o.MaxConns)}
}

type conn struct {
	c        *smtp.Client
	raw      net.Conn
	key      string
	lastUsed time.Time
}

// Dials is how many connections the pool has made.
func (p *Pool) Dials() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}

// Close ends the idle connections (QUIT) and closes those in use when their
// sender is done. Sends after Close use a connection each and close it.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.quit()
	}
}

// Message is one envelope and its content.
type Message struct {
	From string
	To   []string
	// Body writes the message (headers and body) as it goes after DATA;
	// *mail.Msg is one.
	Body io.WriterTo
}

// Error is a failed Send. AfterData reports that the end of DATA was
// written when it failed: the server may have accepted the message.
type Error struct {
	Err       error
	AfterData bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Send delivers m to srv and returns when the server accepted it: the moment
// it answered 250 to the end of DATA. A reused connection that fails before
// the end of DATA is closed and the message tried once more on a new one.
func (p *Pool) Send(ctx context.Context, srv Server, m Message) (time.Time, error) {
	if srv.Timeout <= 0 {
		srv.Timeout = 30 * time.Second
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("smtp: waiting for a connection: %w", ctx.Err())
	}
	defer func() { <-p.slots }()
	key := srv.Key()
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx, srv, key, attempt > 0)
		if err != nil {
			return time.Time{}, err
		}
		accepted, stage, err := c.send(ctx, srv.Timeout, m)
		if err == nil {
			p.put(c)
			return accepted, nil
		}
		var reply *textproto.Error
		answered := errors.As(err, &reply) && reply.Code != 421
		switch {
		case stage == stageEndOfData && !answered:
			// The dot went out and no answer came: accepted or not, we cannot
			// tell. Never again on the spot.
			c.close()
			return time.Time{}, &Error{Err: err, AfterData: true}
		case answered:
			// The server refused this message; the connection is fine once
			// the transaction is reset.
			if c.reset(srv.Timeout) {
				p.put(c)
			} else {
				c.close()
			}
			return time.Time{}, &Error{Err: err}
		}
		c.close()
		if !reused || attempt > 0 {
			return time.Time{}, &Error{Err: err}
		}
	}
}

// get returns a connection to srv: an idle one unless fresh, else a new one.
func (p *Pool) get(ctx context.Context, srv Server, key string, fresh bool) (*conn, bool, error) {
	now := time.Now()
	var stale []*conn
	p.mu.Lock()
	if p.key != key {
		// New settings: the old server's connections go.
		stale, p.idle, p.key = p.idle, nil, key
	}
	var got *conn
	for !fresh && len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(c.lastUsed) > p.opts.IdleTimeout {
			stale = append(stale, c)
			continue
		}
		got = c
		break
	}
	if got == nil {
		p.dials++
	}
	p.mu.Unlock()
	for _, c := range stale {
		go c.quit() // bounded by its deadline; not on this message's time
	}
	if got != nil {
		return got, true, nil
	}
	c, err := dial(ctx, srv, key)
	return c, false, err
}

// put hands c back for the next message.
func (p *Pool) put(c *conn) {
	c.lastUsed = time.Now()
	p.mu.Lock()
	if p.closed || c.key != p.key {
		p.mu.Unlock()
		go c.quit()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// dial connects, says EHLO, starts TLS and authenticates as srv says.
func dial(ctx context.Context, srv Server, key string) (*conn, error) {
	var (
		rawMu sync.Mutex
		raw   net.Conn
	)
	base := srv.Dial
	if base == nil {
		d := &net.Dialer{Timeout: srv.Timeout}
		base = d.DialContext
	}
	dialFn := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := base(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rawMu.Lock()
		raw = nc
		rawMu.Unlock()
		if srv.TLS != "tls" {
			return nc, nil
		}
		tc := tls.Client(nc, &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		return tc, nil
	}
	opts := []mail.Option{mail.WithPort(srv.Port), mail.WithTimeout(srv.Timeout), mail.WithDialContextFunc(dialFn)}
	switch srv.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if srv.Username != "" {
		auth := mail.SMTPAuthPlain
		if srv.TLS == "none" {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(srv.Username), mail.WithPassword(srv.Password))
	}
	client, err := mail.NewClient(srv.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, srv.Timeout)
	defer cancel()
	// A cancelled ctx must interrupt the handshake too, not only the dial.
	stop := context.AfterFunc(ctx, func() {
		rawMu.Lock()
		defer rawMu.Unlock()
		if raw != nil {
			raw.SetDeadline(time.Now()) //nolint:errcheck
		}
	})
	c, err := client.DialToSMTPClientWithContext(ctx)
	stop()
	rawMu.Lock()
	defer rawMu.Unlock()
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return nil, fmt.Errorf("smtp dial: %w", err)
	}
	return &conn{c: c, raw: raw, key: key, lastUsed: time.Now()}, nil
}

type stage int

const (
	stageEnvelope  stage = iota // MAIL, RCPT, DATA, writing the message
	stageEndOfData              // the dot was written: the server may have accepted it
)

// send runs one transaction on c, bounded by timeout and ctx.
func (c *conn) send(ctx context.Context, timeout time.Duration, m Message) (time.Time, stage, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.raw.SetDeadline(deadline); err != nil {
		return time.Time{}, stageEnvelope, err
	}
	// Cancellation interrupts whatever read or write is under way.
	stop := context.AfterFunc(ctx, func() { c.raw.SetDeadline(time.Now()) }) //nolint:errcheck
	defer stop()
	if err := c.c.Mail(m.From); err != nil {
		return time.Time{}, stageEnvelope, fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	for _, to := range m.To {
		if err := c.c.Rcpt(to); err != nil {
			return time.Time{}, stageEnvelope, fmt.Errorf("smtp RCPT TO: %w", err)
		}
	}
	w, err := c.c.Data()
	if err != nil {
		return time.Time{}, stageEnvelope, fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := m.Body.WriteTo(w); err != nil {
		// The dot was not written, so the server has not taken the message;
		// the connection is in the middle of DATA and cannot be reused.
		return time.Time{}, stageEnvelope, fmt.Errorf("smtp write message: %w", err)
	}
	if err := w.Close(); err != nil { // writes the dot, reads the server's answer
		return time.Time{}, stageEndOfData, fmt.Errorf("smtp end of DATA: %w", err)
	}
	return time.Now(), stageEndOfData, nil
}

// reset ends a refused transaction so the connection can carry the next.
func (c *conn) reset(timeout time.Duration) bool {
	if c.raw.SetDeadline(time.Now().Add(timeout)) != nil {
		return false
	}
	return c.c.Reset() == nil
}

// quit says goodbye, bounded by a short deadline, and closes.
func (c *conn) quit() {
	c.raw.SetDeadline(time.Now().Add(2 * time.Second)) //nolint:errcheck
	if c.c.Quit() != nil {
		c.close()
	}
}

func (c *conn) close() {
	c.c.Close() //nolint:errcheck
	c.raw.Close()
}
