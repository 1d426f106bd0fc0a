package storage

import (
	"context"
	"fmt"
	"time"
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

const settingsColumns = `organization_name, email_from_name, email_from_address, smtp_host, smtp_port,
	smtp_username, smtp_tls, allow_registration, enable_influence, enable_map, enable_media,
	updated_at, smtp_password_enc`

func (st *Settings) scanTargets() []any {
	return []any{&st.OrganizationName, &st.EmailFromName, &st.EmailFromAddress, &st.SMTPHost, &st.SMTPPort,
		&st.SMTPUsername, &st.SMTPTLS, &st.AllowRegistration, &st.EnableInfluence, &st.EnableMap,
		&st.EnableMedia, &st.UpdatedAt, &st.SMTPPasswordEnc}
}

// GetSettings reads the singleton.
func (s *Store) GetSettings(ctx context.Context) (Settings, error) {
	var st Settings
	err := s.Pool.QueryRow(ctx, `SELECT `+settingsColumns+` FROM site_settings WHERE id = 1`).Scan(st.scanTargets()...)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return st, nil
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
	var st Settings
	err := s.Pool.QueryRow(ctx, `
		UPDATE site_settings SET
			organization_name  = COALESCE($1, organization_name),
			email_from_name    = COALESCE($2, email_from_name),
			email_from_address = COALESCE($3, email_from_address),
			smtp_host          = COALESCE($4, smtp_host),
			smtp_port          = COALESCE($5, smtp_port),
			smtp_username      = COALESCE($6, smtp_username),
			smtp_tls           = COALESCE($7, smtp_tls),
			allow_registration = COALESCE($8, allow_registration),
			enable_influence   = COALESCE($9, enable_influence),
			enable_map         = COALESCE($10, enable_map),
			enable_media       = COALESCE($11, enable_media),
			smtp_password_enc  = CASE WHEN $12 THEN $13 ELSE smtp_password_enc END,
			updated_at         = now()
		WHERE id = 1
		RETURNING `+settingsColumns,
		p.OrganizationName, p.EmailFromName, p.EmailFromAddress, p.SMTPHost, p.SMTPPort, p.SMTPUsername,
		p.SMTPTLS, p.AllowRegistration, p.EnableInfluence, p.EnableMap, p.EnableMedia,
		p.SetSMTPPassword, p.SMTPPasswordEnc).Scan(st.scanTargets()...)
	if err != nil {
		return Settings{}, fmt.Errorf("update settings: %w", err)
	}
	return st, nil
}
