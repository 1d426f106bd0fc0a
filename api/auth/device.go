package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
)

// DeviceCookie marks a browser or client that has signed in to one account
// before (OWASP's device cookies). Its failed guesses count on its own key,
// so an attacker's guesses from elsewhere, however many, never lock the
// owner out of a device they already used.
const DeviceCookie = "cm_device"

const deviceCookieTTL = 365 * 24 * time.Hour

// checkLoginLimits counts one login attempt for email. A known device is
// limited on its own; any other client is limited per address and, more
// loosely, per account, which is what stops a guesser rotating addresses.
func (h *Handler) checkLoginLimits(c *fiber.Ctx, email string) error {
	if nonce, ok := h.knownDevice(c, email); ok {
		return h.Limiter.Check(c, h.LoginLimit, "device:"+nonce)
	}
	if err := h.Limiter.Check(c, h.LoginLimit, "ip:"+httpx.ClientKey(c)); err != nil {
		return err
	}
	return h.Limiter.Check(c, h.AccountLimit, "email:"+email)
}

// knownDevice returns the nonce of a valid device cookie issued for email.
func (h *Handler) knownDevice(c *fiber.Ctx, email string) (string, bool) {
	nonce, sig, ok := strings.Cut(c.Cookies(DeviceCookie), ".")
	if !ok || nonce == "" || len(nonce) > 64 {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.deviceSignature(email, nonce)) {
		return "", false
	}
	return nonce, true
}

// rememberDevice hands the client a device cookie for email, keeping the one
// it has when it is still valid so its count carries on.
func (h *Handler) rememberDevice(c *fiber.Ctx, email string) error {
	nonce, ok := h.knownDevice(c, email)
	if !ok {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generate device cookie: %w", err)
		}
		nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	value := nonce + "." + base64.RawURLEncoding.EncodeToString(h.deviceSignature(email, nonce))
	c.Cookie(&fiber.Cookie{Name: DeviceCookie, Value: value, Path: "/api/auth", Expires: time.Now().Add(deviceCookieTTL),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: h.SecureCookies})
	return nil
}

// deviceSignature binds a device nonce to one account, keyed with a key
// derived from JWT_REFRESH_SECRET so the cookie cannot be forged.
func (h *Handler) deviceSignature(email, nonce string) []byte {
	k := hmac.New(sha256.New, h.RefreshSecret)
	k.Write([]byte("device-cookie"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(email + "\x00" + nonce))
	return m.Sum(nil)
}
