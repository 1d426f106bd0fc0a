package campaigns

import (
	"time"

	"changemaker/storage"
)

// The admin routes' response types: a campaign and what hangs off it, as
// the admins who manage it see them. The public routes have their own,
// narrower types (public.go, calls.go, send.go).

// campaignView is a whole campaign.
type campaignView struct {
	ID                     int64     `json:"id"`
	Slug                   string    `json:"slug"`
	Title                  string    `json:"title"`
	Description            string    `json:"description"`
	EmailSubject           string    `json:"emailSubject"`
	EmailBody              string    `json:"emailBody"`
	CallToAction           string    `json:"callToAction"`
	CoverPhoto             string    `json:"coverPhoto"`
	Status                 string    `json:"status"`
	TargetGovernmentLevels []string  `json:"targetGovernmentLevels"`
	AllowSMTPEmail         bool      `json:"allowSmtpEmail"`
	AllowMailtoLink        bool      `json:"allowMailtoLink"`
	CollectUserInfo        bool      `json:"collectUserInfo"`
	ShowEmailCount         bool      `json:"showEmailCount"`
	ShowCallCount          bool      `json:"showCallCount"`
	AllowEmailEditing      bool      `json:"allowEmailEditing"`
	AllowCustomRecipients  bool      `json:"allowCustomRecipients"`
	ShowResponseWall       bool      `json:"showResponseWall"`
	HighlightCampaign      bool      `json:"highlightCampaign"`
	EmailCount             int       `json:"emailCount"`
	CallCount              int       `json:"callCount"`
	CreatedBy              *int64    `json:"createdBy"`
	CreatedAt              time.Time `json:"createdAt"`
	UpdatedAt              time.Time `json:"updatedAt"`
}

func toCampaignView(c storage.Campaign) campaignView {
	return campaignView{ID: c.ID, Slug: c.Slug, Title: c.Title, Description: c.Description,
		EmailSubject: c.EmailSubject, EmailBody: c.EmailBody, CallToAction: c.CallToAction, CoverPhoto: c.CoverPhoto,
		Status: c.Status, TargetGovernmentLevels: c.TargetGovernmentLevels, AllowSMTPEmail: c.AllowSMTPEmail,
		AllowMailtoLink: c.AllowMailtoLink, CollectUserInfo: c.CollectUserInfo, ShowEmailCount: c.ShowEmailCount,
		ShowCallCount: c.ShowCallCount, AllowEmailEditing: c.AllowEmailEditing,
		AllowCustomRecipients: c.AllowCustomRecipients, ShowResponseWall: c.ShowResponseWall,
		HighlightCampaign: c.HighlightCampaign, EmailCount: c.EmailCount, CallCount: c.CallCount,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// recipientView is a custom recipient, address included.
type recipientView struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaignId"`
	Name       string    `json:"name"`
	Title      string    `json:"title"`
	Email      string    `json:"email"`
	CreatedAt  time.Time `json:"createdAt"`
}

func toRecipientView(r storage.Recipient) recipientView {
	return recipientView{ID: r.ID, CampaignID: r.CampaignID, Name: r.Name, Title: r.Title, Email: r.Email,
		CreatedAt: r.CreatedAt}
}

// emailView is one entry of the email log: the constituent's address and
// message included, which only the campaign's admins see.
type emailView struct {
	ID                int64      `json:"id"`
	CampaignID        int64      `json:"campaignId"`
	Method            string     `json:"method"`
	Status            string     `json:"status"`
	SenderName        string     `json:"senderName"`
	SenderEmail       string     `json:"senderEmail"`
	PostalCode        string     `json:"postalCode"`
	RecipientKind     string     `json:"recipientKind"`
	RecipientName     string     `json:"recipientName"`
	RecipientTitle    string     `json:"recipientTitle"`
	RecipientDistrict string     `json:"recipientDistrict"`
	RecipientLevel    string     `json:"recipientLevel"`
	RecipientEmail    string     `json:"recipientEmail"`
	Subject           string     `json:"subject"`
	Body              string     `json:"body"`
	Attempts          int        `json:"attempts"`
	LastError         string     `json:"lastError"`
	MessageID         string     `json:"messageId"`
	SentAt            *time.Time `json:"sentAt"`
	CreatedAt         time.Time  `json:"createdAt"`
	UpdatedAt         time.Time  `json:"updatedAt"`
}

func toEmailView(e storage.CampaignEmail) emailView {
	return emailView{ID: e.ID, CampaignID: e.CampaignID, Method: e.Method, Status: e.Status,
		SenderName: e.SenderName, SenderEmail: e.SenderEmail, PostalCode: e.PostalCode,
		RecipientKind: e.RecipientKind, RecipientName: e.RecipientName, RecipientTitle: e.RecipientTitle,
		RecipientDistrict: e.RecipientDistrict, RecipientLevel: e.RecipientLevel, RecipientEmail: e.RecipientEmail,
		Subject: e.Subject, Body: e.Body, Attempts: e.Attempts, LastError: e.LastError, MessageID: e.MessageID,
		SentAt: e.SentAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// emailStatsView counts a campaign's emails.
type emailStatsView struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"byStatus"`
	ByMethod map[string]int `json:"byMethod"`
}

func toEmailStatsView(st storage.EmailStats) emailStatsView {
	return emailStatsView{Total: st.Total, ByStatus: st.ByStatus, ByMethod: st.ByMethod}
}

// callCountView is how many calls one recipient received.
type callCountView struct {
	RecipientKind  string `json:"recipientKind"`
	RecipientName  string `json:"recipientName"`
	RecipientTitle string `json:"recipientTitle"`
	RecipientLevel string `json:"recipientLevel"`
	Calls          int    `json:"calls"`
}

func toCallCountView(c storage.CallCount) callCountView {
	return callCountView{RecipientKind: c.RecipientKind, RecipientName: c.RecipientName,
		RecipientTitle: c.RecipientTitle, RecipientLevel: c.RecipientLevel, Calls: c.Calls}
}
