package settings

import (
	"time"

	"changemaker/storage"
)

// adminView is the settings as SUPER_ADMIN sees them: the SMTP password is
// reduced to whether one is set.
type adminView struct {
	OrganizationName  string    `json:"organizationName"`
	EmailFromName     string    `json:"emailFromName"`
	EmailFromAddress  string    `json:"emailFromAddress"`
	SMTPHost          string    `json:"smtpHost"`
	SMTPPort          int       `json:"smtpPort"`
	SMTPUsername      string    `json:"smtpUsername"`
	SMTPTLS           string    `json:"smtpTls"`
	AllowRegistration bool      `json:"allowRegistration"`
	EnableInfluence   bool      `json:"enableInfluence"`
	EnableMap         bool      `json:"enableMap"`
	EnableMedia       bool      `json:"enableMedia"`
	UpdatedAt         time.Time `json:"updatedAt"`
	SMTPPasswordSet   bool      `json:"smtpPasswordSet"`
}

func toAdminView(st storage.Settings) adminView {
	return adminView{OrganizationName: st.OrganizationName, EmailFromName: st.EmailFromName,
		EmailFromAddress: st.EmailFromAddress, SMTPHost: st.SMTPHost, SMTPPort: st.SMTPPort,
		SMTPUsername: st.SMTPUsername, SMTPTLS: st.SMTPTLS, AllowRegistration: st.AllowRegistration,
		EnableInfluence: st.EnableInfluence, EnableMap: st.EnableMap, EnableMedia: st.EnableMedia,
		UpdatedAt: st.UpdatedAt, SMTPPasswordSet: len(st.SMTPPasswordEnc) > 0}
}
