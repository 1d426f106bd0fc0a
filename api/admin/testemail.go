package admin

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/wneessen/go-mail"

	"changemaker/api/httpx"
	"changemaker/internal/netguard"
	"changemaker/storage"
)

type testEmailRequest struct {
	To string `json:"to"`
}

// testEmailResponse says what happened. The password is never part of it.
type testEmailResponse struct {
	Sent bool `json:"sent"`
	// Server is host:port of the server tried; Source says where it came
	// from: "settings" or "environment" (SMTP_*).
	Server string `json:"server"`
	Source string `json:"source"`
	From   string `json:"from"`
	// Error is why the message did not go out ("" when it did).
	Error string `json:"error"`
}

// testEmail sends one short message to "to" through the SMTP server the
// email fleet uses now (the saved settings, else SMTP_*), synchronously:
// the answer says whether the server accepted it, and if not, what it said.
// An unreachable or refusing server is the test's result, not an error of
// the request, so it is a 200 with sent=false.
func (h *Handler) testEmail(c *fiber.Ctx) error {
	u := httpx.CurrentUser(c)
	if err := h.Limiter.Check(c, testEmailLimit, "user:"+strconv.FormatInt(u.ID, 10)); err != nil {
		return err
	}
	var req testEmailRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.To = strings.TrimSpace(req.To)
	var v httpx.Validator
	if v.Required("to", req.To) {
		v.MaxLen("to", req.To, 254)
		v.Email("to", req.To)
	}
	if err := v.Err(); err != nil {
		return err
	}
	st, err := h.Store.GetSettings(c.UserContext())
	if err != nil {
		return err
	}
	m, err := h.mailer(st)
	if err != nil {
		return err
	}
	out := testEmailResponse{Server: net.JoinHostPort(m.host, strconv.Itoa(m.port)), Source: m.source, From: m.fromAddr}
	msg, err := m.testMessage(req.To, st.OrganizationName, u.Email)
	if err != nil {
		out.Error = err.Error()
		return c.JSON(out)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), m.timeout)
	defer cancel()
	if err := m.send(ctx, msg); err != nil {
		h.Log.Info("test email not sent", "server", out.Server, "err", err)
		out.Error = err.Error()
		return c.JSON(out)
	}
	out.Sent = true
	return c.JSON(out)
}

// testMailer is the SMTP server in force, as the email fleet chooses it.
type testMailer struct {
	host, username, password, tls string
	port                          int
	fromAddr, fromName            string
	source                        string
	timeout                       time.Duration
	publicOnly                    bool
}

func (h *Handler) mailer(st storage.Settings) (testMailer, error) {
	env := h.SMTP
	m := testMailer{host: env.Host, port: env.Port, username: env.Username, password: env.Password, tls: env.TLS,
		fromAddr: env.From, fromName: env.FromName, source: "environment", timeout: h.SMTPTimeout}
	if st.SMTPHost != "" {
		m.host, m.port, m.username, m.tls, m.password = st.SMTPHost, st.SMTPPort, st.SMTPUsername, st.SMTPTLS, ""
		m.source = "settings"
		m.publicOnly = !h.AllowPrivateSMTP
		if len(st.SMTPPasswordEnc) > 0 && h.Box != nil {
			pw, err := h.Box.Open(st.SMTPPasswordEnc)
			if err != nil {
				return testMailer{}, fmt.Errorf("open SMTP password: %w", err)
			}
			m.password = string(pw)
		}
	}
	if st.EmailFromAddress != "" {
		m.fromAddr = st.EmailFromAddress
	}
	switch {
	case st.EmailFromName != "":
		m.fromName = st.EmailFromName
	case st.OrganizationName != "":
		m.fromName = st.OrganizationName
	}
	return m, nil
}

func (m testMailer) testMessage(to, org, by string) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(oneLine(m.fromName), m.fromAddr); err != nil {
		return nil, fmt.Errorf("the From address %q cannot be used: %v", m.fromAddr, err)
	}
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("the address %q cannot be used: %v", to, err)
	}
	if err := msg.To(addr.Address); err != nil {
		return nil, fmt.Errorf("the address %q cannot be used: %v", to, err)
	}
	if org == "" {
		org = "Changemaker"
	}
	msg.Subject(oneLine(org) + ": test email")
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, fmt.Sprintf(
		"This is a test email from %s, sent by %s at %s.\n\nIt came through %s:%d. If you read it, the email settings work.\n",
		oneLine(org), by, time.Now().UTC().Format(time.RFC1123), m.host, m.port))
	return msg, nil
}

// send delivers msg, bounded by ctx and the mailer's timeout.
func (m testMailer) send(ctx context.Context, msg *mail.Msg) error {
	opts := []mail.Option{mail.WithPort(m.port), mail.WithTimeout(m.timeout)}
	switch m.tls {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if m.username != "" {
		auth := mail.SMTPAuthPlain
		if m.tls == "none" {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(m.username), mail.WithPassword(m.password))
	}
	if m.publicOnly {
		opts = append(opts, mail.WithDialContextFunc(m.publicDial))
	}
	client, err := mail.NewClient(m.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// publicDial connects only to public addresses, as the email fleet does.
func (m testMailer) publicDial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := netguard.PublicDialer(net.DefaultResolver, m.timeout)(ctx, network, addr)
	if err != nil || m.tls != "tls" {
		return conn, err
	}
	tc := tls.Client(conn, &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// oneLine keeps header text on one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n' || r < 0x20 || (r >= 0x7f && r <= 0x9f)
	}), " ")
}
