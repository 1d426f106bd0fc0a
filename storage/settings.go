package storage

import (
	"context"
	"fmt"
	"time"

	"changemaker/storage/internal/db"
)

// Settings is the site-settings singleton. SMTPPasswordEnc is the AES-GCM
// sealed SMTP password; no response type carries it.
type Settings struct {
	OrganizationName  string
	EmailFromName     string
	EmailFromAddress  string
	SMTPHost          string
	SMTPPort          int
	SMTPUsername      string
	SMTPTLS           string
	AllowRegistration bool
	EnableInfluence   bool
	EnableMap         bool
	EnableMedia       bool
	UpdatedAt         time.Time
	SMTPPasswordEnc   []byte
}

func settingsFromDB(r db.SiteSetting) Settings {
	return Settings{OrganizationName: r.OrganizationName, EmailFromName: r.EmailFromName,
		EmailFromAddress: r.EmailFromAddress, SMTPHost: r.SmtpHost, SMTPPort: int(r.SmtpPort),
		SMTPUsername: r.SmtpUsername, SMTPTLS: r.SmtpTls, AllowRegistration: r.AllowRegistration,
		EnableInfluence: r.EnableInfluence, EnableMap: r.EnableMap, EnableMedia: r.EnableMedia,
		UpdatedAt: r.UpdatedAt, SMTPPasswordEnc: r.SmtpPasswordEnc}
}

// GetSettings reads the singleton.
func (s *Store) GetSettings(ctx context.Context) (Settings, error) {
	r, err := s.q().GetSettings(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return settingsFromDB(r), nil
}

// SettingsPatch holds the fields UpdateSettings changes; nil stays as is.
type SettingsPatch struct {
	OrganizationName  *string
	EmailFromName     *string
	EmailFromAddress  *string
	SMTPHost          *string
	SMTPPort          *int
	SMTPUsername      *string
	SMTPTLS           *string
	AllowRegistration *bool
	EnableInfluence   *bool
	EnableMap         *bool
	EnableMedia       *bool
	// SMTPPasswordEnc is applied only when SetSMTPPassword is true; nil clears it.
	SetSMTPPassword bool
	SMTPPasswordEnc []byte
}

// UpdateSettings applies p to the singleton and returns the result.
func (s *Store) UpdateSettings(ctx context.Context, p SettingsPatch) (Settings, error) {
	r, err := s.q().UpdateSettings(ctx, db.UpdateSettingsParams{
		OrganizationName:  p.OrganizationName,
		EmailFromName:     p.EmailFromName,
		EmailFromAddress:  p.EmailFromAddress,
		SmtpHost:          p.SMTPHost,
		SmtpPort:          int32Ptr(p.SMTPPort),
		SmtpUsername:      p.SMTPUsername,
		SmtpTls:           p.SMTPTLS,
		AllowRegistration: p.AllowRegistration,
		EnableInfluence:   p.EnableInfluence,
		EnableMap:         p.EnableMap,
		EnableMedia:       p.EnableMedia,
		SetSmtpPassword:   p.SetSMTPPassword,
		SmtpPasswordEnc:   p.SMTPPasswordEnc,
	})
	if err != nil {
		return Settings{}, fmt.Errorf("update settings: %w", err)
	}
	return settingsFromDB(r), nil
}
