// Package settings serves the site-settings singleton: the full view for
// SUPER_ADMIN and a public view without secrets or addresses.
package settings

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// Handler serves /api/settings and /api/public/settings.
type Handler struct {
	Options
}

// Options are what the settings module needs.
type Options struct {
	Store            *storage.Store
	Auth             *httpx.Auth
	Box              *storage.SecretBox
	AllowPrivateSMTP bool // SMTP_ALLOW_PRIVATE
}

// New builds the module.
func New(o Options) (*Handler, error) {
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	r.Get("/settings", h.Auth.Require(storage.RoleSuperAdmin), h.get)
	r.Put("/settings", h.Auth.Require(storage.RoleSuperAdmin), h.put)
	r.Get("/public/settings", h.public)
}

func (h *Handler) get(c *fiber.Ctx) error {
	st, err := h.Store.GetSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settings": toAdminView(st)})
}

type putRequest struct {
	OrganizationName  *string `json:"organizationName"`
	EmailFromName     *string `json:"emailFromName"`
	EmailFromAddress  *string `json:"emailFromAddress"`
	SMTPHost          *string `json:"smtpHost"`
	SMTPPort          *int    `json:"smtpPort"`
	SMTPUsername      *string `json:"smtpUsername"`
	SMTPPassword      *string `json:"smtpPassword"` // "" clears it
	SMTPTLS           *string `json:"smtpTls"`
	AllowRegistration *bool   `json:"allowRegistration"`
	EnableInfluence   *bool   `json:"enableInfluence"`
	EnableMap         *bool   `json:"enableMap"`
	EnableMedia       *bool   `json:"enableMedia"`
}

func (h *Handler) put(c *fiber.Ctx) error {
	var req putRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	for _, f := range []struct {
		name string
		val  *string
	}{{"organizationName", req.OrganizationName}, {"emailFromName", req.EmailFromName},
		{"smtpHost", req.SMTPHost}, {"smtpUsername", req.SMTPUsername}} {
		if f.val != nil {
			v.MaxLen(f.name, *f.val, 200)
			v.SingleLine(f.name, *f.val)
		}
	}
	if req.OrganizationName != nil {
		v.Required("organizationName", *req.OrganizationName)
	}
	if req.EmailFromAddress != nil {
		trimmed := strings.TrimSpace(*req.EmailFromAddress)
		req.EmailFromAddress = &trimmed
		if trimmed != "" {
			v.Email("emailFromAddress", trimmed)
		}
	}
	if req.SMTPHost != nil {
		if p := smtpHostProblem(*req.SMTPHost, h.AllowPrivateSMTP); p != "" {
			v.Add("smtpHost", p)
		}
	}
	if req.SMTPPort != nil {
		v.Check(*req.SMTPPort >= 1 && *req.SMTPPort <= 65535, "smtpPort", "must be from 1 to 65535")
	}
	if req.SMTPTLS != nil {
		v.OneOf("smtpTls", *req.SMTPTLS, []string{"none", "starttls", "tls"})
	}
	if req.SMTPPassword != nil {
		v.MaxLen("smtpPassword", *req.SMTPPassword, 500)
	}
	if err := v.Err(); err != nil {
		return err
	}
	p := storage.SettingsPatch{
		OrganizationName: req.OrganizationName, EmailFromName: req.EmailFromName,
		EmailFromAddress: req.EmailFromAddress, SMTPHost: req.SMTPHost, SMTPPort: req.SMTPPort,
		SMTPUsername: req.SMTPUsername, SMTPTLS: req.SMTPTLS, AllowRegistration: req.AllowRegistration,
		EnableInfluence: req.EnableInfluence, EnableMap: req.EnableMap, EnableMedia: req.EnableMedia,
	}
	if req.SMTPPassword != nil {
		p.SetSMTPPassword = true
		if *req.SMTPPassword != "" {
			sealed, err := h.Box.Seal([]byte(*req.SMTPPassword))
			if err != nil {
				return err
			}
			p.SMTPPasswordEnc = sealed
		}
	}
	st, err := h.Store.UpdateSettings(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settings": toAdminView(st)})
}

// publicView is what anyone may read: no secrets, no addresses.
type publicView struct {
	OrganizationName  string `json:"organizationName"`
	AllowRegistration bool   `json:"allowRegistration"`
	EnableInfluence   bool   `json:"enableInfluence"`
	EnableMap         bool   `json:"enableMap"`
	EnableMedia       bool   `json:"enableMedia"`
}

func (h *Handler) public(c *fiber.Ctx) error {
	st, err := h.Store.GetSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settings": publicView{
		OrganizationName: st.OrganizationName, AllowRegistration: st.AllowRegistration,
		EnableInfluence: st.EnableInfluence, EnableMap: st.EnableMap, EnableMedia: st.EnableMedia,
	}})
}
