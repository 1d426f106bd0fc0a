package admin

import (
	"context"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/wneessen/go-mail"

	"changemaker/api/httpx"
	"changemaker/internal/smtppool"
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
	snd, err := smtppool.InForce(st, smtppool.SenderOptions{Env: h.SMTP, Box: h.Box,
		AllowPrivate: h.AllowPrivateSMTP, Timeout: h.SMTPTimeout})
	if err != nil {
		return err
	}
	source := "environment"
	if st.SMTPHost != "" {
		source = "settings"
	}
	out := testEmailResponse{Server: net.JoinHostPort(snd.Server.Host, strconv.Itoa(snd.Server.Port)), Source: source,
		From: snd.FromAddr}
	msg, err := testMessage(snd, req.To, st.OrganizationName, u.Email)
	if err != nil {
		out.Error = err.Error()
		return c.JSON(out)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), h.SMTPTimeout)
	defer cancel()
	// A pool of one connection, closed (QUIT) after this one message.
	pool := smtppool.New(smtppool.Options{MaxConns: 1})
	defer pool.Close()
	if _, err := pool.Send(ctx, snd.Server, smtppool.Message{From: snd.FromAddr, To: []string{msg.To}, Body: msg.Msg}); err != nil {
		h.Log.Info("test email not sent", "server", out.Server, "err", err)
		out.Error = err.Error()
		return c.JSON(out)
	}
	out.Sent = true
	return c.JSON(out)
}

// testMsg is the test message and its one recipient.
type testMsg struct {
	*mail.Msg
	To string
}

func testMessage(snd smtppool.Sender, to, org, by string) (testMsg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(oneLine(snd.FromName), snd.FromAddr); err != nil {
		return testMsg{}, fmt.Errorf("the From address %q cannot be used: %v", snd.FromAddr, err)
	}
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return testMsg{}, fmt.Errorf("the address %q cannot be used: %v", to, err)
	}
	if err := msg.To(addr.Address); err != nil {
		return testMsg{}, fmt.Errorf("the address %q cannot be used: %v", to, err)
	}
	if org == "" {
		org = "Changemaker"
	}
	msg.Subject(oneLine(org) + ": test email")
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, fmt.Sprintf(
		"This is a test email from %s, sent by %s at %s.\n\nIt came through %s:%d. If you read it, the email settings work.\n",
		oneLine(org), by, time.Now().UTC().Format(time.RFC1123), snd.Server.Host, snd.Server.Port))
	return testMsg{Msg: msg, To: addr.Address}, nil
}

// oneLine keeps header text on one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n' || r < 0x20 || (r >= 0x7f && r <= 0x9f)
	}), " ")
}
