package testenv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"changemaker/config"
)

// SMTPServer is a real SMTP server in the test process (go-smtp) that keeps
// every message it accepts.
type SMTPServer struct {
	Host string
	Port int

	mu       sync.Mutex
	messages []SMTPMessage
	failures []error       // answered to the next DATA commands, one each
	hold     time.Duration // see HoldAfterData
}

// SMTPMessage is one accepted message.
type SMTPMessage struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
	Body   string
	// AcceptedAt is when the server answered 250 to the end of DATA.
	AcceptedAt time.Time
}

// NewSMTPServer starts a server on a loopback port, stopped when t ends.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	return s
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Configure points the SMTP_* fallback of cfg at this server.
func (s *SMTPServer) Configure(cfg *config.Config) {
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = s.Host, s.Port, "none"
	cfg.SMTP.Username, cfg.SMTP.Password = "", ""
	cfg.SMTP.From, cfg.SMTP.FromName = "campaigns@org.example", "Test Organization"
}

// FailNext makes the next DATA commands fail with code (451: try again
// later, 550: refused for good), one per call.
func (s *SMTPServer) FailNext(code int, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.failures = append(s.failures, &smtp.SMTPError{Code: code, Message: "refused by the test server"})
	}
}

// HoldAfterData makes the server stall d after each message it accepts,
// before answering the client's next command (RSET or QUIT), as a slow or
// distant server does: what a client does after the 250 then visibly lags it.
func (s *SMTPServer) HoldAfterData(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = d
}

// Messages returns what the server has accepted so far.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// WaitFor waits until the server holds at least n messages and returns them.
func (s *SMTPServer) WaitFor(t testing.TB, n int, timeout time.Duration) []SMTPMessage {
	t.Helper()
	Eventually(t, timeout, strconv.Itoa(n)+" messages at the SMTP server", func() bool { return len(s.Messages()) >= n })
	return s.Messages()
}

type smtpSession struct {
	srv  *SMTPServer
	from string
	to   []string
	hold time.Duration // owed after the message just accepted
}

// Reset runs after each DATA and on RSET, before the server answers the
// client's next command: where HoldAfterData stalls.
func (x *smtpSession) Reset() {
	x.from, x.to = "", nil
	if d := x.hold; d > 0 {
		x.hold = 0
		time.Sleep(d)
	}
}
func (x *smtpSession) Logout() error { return nil }

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if len(x.srv.failures) > 0 {
		err := x.srv.failures[0]
		x.srv.failures = x.srv.failures[1:]
		return err
	}
	m := SMTPMessage{From: x.from, To: append([]string(nil), x.to...), Raw: raw}
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("unparseable message: " + err.Error())
	}
	m.Header = parsed.Header
	body, _ := io.ReadAll(parsed.Body)
	m.Body = string(body)
	m.AcceptedAt = time.Now()
	x.srv.messages = append(x.srv.messages, m)
	x.hold = x.srv.hold
	return nil
}

// Text is the body with its Content-Transfer-Encoding undone.
func (m SMTPMessage) Text() string {
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Body)))
		if err == nil {
			return string(b)
		}
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m.Body), ""))
		if err == nil {
			return string(b)
		}
	}
	return m.Body
}

// Subject is the decoded Subject header.
func (m SMTPMessage) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}
