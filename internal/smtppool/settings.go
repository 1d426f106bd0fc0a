package smtppool

import (
	"fmt"
	"net"
	"time"

	"changemaker/config"
	"changemaker/internal/netguard"
	"changemaker/storage"
)

// Sender is the SMTP server in force and the From it sends as.
type Sender struct {
	Server   Server
	FromAddr string
	FromName string
}

// SenderOptions are what InForce needs besides the settings.
type SenderOptions struct {
	// Env is the server of SMTP_*: used when the settings name none.
	Env config.SMTP
	// Box opens the settings' SMTP password; nil leaves it empty.
	Box *storage.SecretBox
	// AllowPrivate is SMTP_ALLOW_PRIVATE: when false, a server named in the
	// settings (a SUPER_ADMIN's choice) is reached only at public addresses,
	// whatever its name resolves to at dial time.
	AllowPrivate bool
	// Timeout bounds a dial and each message; 0 is 30 seconds.
	Timeout time.Duration
}

// InForce is the server and From the email fleet sends through: the
// settings' server when they name one (its password opened with o.Box),
// else SMTP_*; the settings' From address and name (or the organization's
// name) over the environment's. The email fleet and the admin's "send a
// test email" both use it, so a test email goes where campaign emails go.
func InForce(st storage.Settings, o SenderOptions) (Sender, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	env := o.Env
	s := Sender{
		Server: Server{Host: env.Host, Port: env.Port, Username: env.Username, Password: env.Password,
			TLS: env.TLS, Timeout: o.Timeout},
		FromAddr: env.From, FromName: env.FromName,
	}
	if st.SMTPHost != "" {
		s.Server = Server{Host: st.SMTPHost, Port: st.SMTPPort, Username: st.SMTPUsername, TLS: st.SMTPTLS,
			Timeout: o.Timeout}
		if len(st.SMTPPasswordEnc) > 0 && o.Box != nil {
			pw, err := o.Box.Open(st.SMTPPasswordEnc)
			if err != nil {
				return Sender{}, fmt.Errorf("open SMTP password: %w", err)
			}
			s.Server.Password = string(pw)
		}
		if !o.AllowPrivate {
			s.Server.Dial, s.Server.DialKey = netguard.PublicDialer(net.DefaultResolver, o.Timeout), "public"
		}
	}
	if st.EmailFromAddress != "" {
		s.FromAddr = st.EmailFromAddress
	}
	switch {
	case st.EmailFromName != "":
		s.FromName = st.EmailFromName
	case st.OrganizationName != "":
		s.FromName = st.OrganizationName
	}
	return s, nil
}
