// Package auth is the main API's authentication module: register, login,
// refresh-token rotation, logout and the current user.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/internal/password"
	"changemaker/storage"
)

// RefreshTokenTTL is how long a refresh token lives unused.
const RefreshTokenTTL = 7 * 24 * time.Hour

// Handler serves /api/auth.
type Handler struct {
	Options
	// dummyHash is compared against when the email is unknown, so that an
	// unknown email and a wrong password take the same time.
	dummyHash string
}

// Options are what the auth module needs.
type Options struct {
	Store         *storage.Store
	Tokens        *httpx.Tokens
	Auth          *httpx.Auth
	Limiter       *httpx.RateLimiter
	Log           *slog.Logger
	RefreshSecret []byte
	BcryptCost    int
	Hashing       *password.Gate // bounds bcrypt per process
	// KnownDevices is a lane of its own for logins from a device that signed
	// in to the account before, taken when Hashing is saturated: a flood of
	// guesses (which cannot carry a valid device cookie) then cannot keep
	// the owner out. nil: no such lane.
	KnownDevices  *password.Gate
	LoginLimit    httpx.Limit // applied per IP, and per known device instead
	AccountLimit  httpx.Limit // applied per email to logins from unknown devices
	RegisterLimit httpx.Limit // applied per IP
	SecureCookies bool
}

// New builds the module; it hashes the dummy password at BcryptCost.
func New(o Options) (*Handler, error) {
	dummy, err := password.Hash("not-a-real-password-at-all", o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash the dummy password: %w", err)
	}
	return &Handler{Options: o, dummyHash: dummy}, nil
}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	g := r.Group("/auth")
	g.Post("/register", h.register)
	g.Post("/login", h.login)
	g.Post("/refresh", h.refresh)
	g.Post("/logout", h.logout)
	g.Get("/me", h.Auth.Require(), h.me)
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// TokenResponse is what login and refresh answer.
type TokenResponse struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	User         User   `json:"user"`
}

func (h *Handler) register(c *fiber.Ctx) error {
	if err := h.Limiter.Check(c, h.RegisterLimit, httpx.ClientKey(c)); err != nil {
		return err
	}
	settings, err := h.Store.GetSettings(c.UserContext())
	if err != nil {
		return err
	}
	if !settings.AllowRegistration {
		return httpx.Forbidden("registration is switched off")
	}
	var req credentials
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Email = strings.TrimSpace(req.Email)
	var v httpx.Validator
	if v.Required("email", req.Email) {
		v.Email("email", req.Email)
	}
	if p := password.Problem(req.Password); p != "" {
		v.Add("password", p)
	}
	v.MaxLen("name", req.Name, 200)
	v.SingleLine("name", req.Name)
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := h.hasher().Hash(c.UserContext(), req.Password)
	if err != nil {
		return err
	}
	u, err := h.Store.CreateUser(c.UserContext(), storage.NewUser{
		Email: req.Email, Name: strings.TrimSpace(req.Name), PasswordHash: hash, Role: storage.RoleUser,
	})
	if err != nil {
		return httpx.Conflictf(fmt.Errorf("register user: %w", err), "an account with this email already exists")
	}
	return h.issue(c, fiber.StatusCreated, u)
}

func (h *Handler) login(c *fiber.Ctx) error {
	var req credentials
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	v.Required("email", req.Email)
	v.Required("password", req.Password)
	v.MaxLen("email", req.Email, 254)
	if err := v.Err(); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	// The hashing slot comes first: an attempt refused because hashing is
	// saturated (503) checked no password, so it must not count against
	// the limits — or a flood of other people's guesses would use up the
	// owner's attempts while the owner only ever saw 503s.
	release, err := h.Hashing.Acquire(c.UserContext())
	if errors.Is(err, password.ErrBusy) && h.KnownDevices != nil {
		if _, known := h.knownDevice(c, email); known {
			release, err = h.KnownDevices.Acquire(c.UserContext())
		}
	}
	if err != nil {
		return err
	}
	// Held for the password check only: the token and bookkeeping writes
	// that follow a success need no hashing slot.
	release = sync.OnceFunc(release)
	defer release()
	if err := h.checkLoginLimits(c, email); err != nil {
		return err
	}
	u, err := h.Store.UserByEmail(c.UserContext(), req.Email)
	if errors.Is(err, storage.ErrNotFound) {
		password.Check(h.dummyHash, req.Password) // the same time as a real check
		return httpx.Unauthorized("invalid email or password")
	}
	if err != nil {
		return err
	}
	ok := password.Check(u.PasswordHash, req.Password)
	release()
	if !ok {
		return httpx.Unauthorized("invalid email or password")
	}
	if u.EffectiveStatus(time.Now()) != storage.StatusActive {
		return httpx.Forbidden("this account is not active")
	}
	if at, err := h.Store.RecordLogin(c.UserContext(), u.ID); err != nil {
		h.Log.Warn("record login", "user_id", u.ID, "err", err)
	} else {
		u.LastLoginAt = &at // the answer shows this login, as /auth/me will
	}
	if err := h.issue(c, fiber.StatusOK, u); err != nil {
		return err
	}
	// After the access cookie, which clients that read one Set-Cookie expect.
	return h.rememberDevice(c, email)
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

func (h *Handler) refresh(c *fiber.Ctx) error {
	var req refreshRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	v.Required("refreshToken", req.RefreshToken)
	v.MaxLen("refreshToken", req.RefreshToken, 200)
	if err := v.Err(); err != nil {
		return err
	}
	next, err := newRefreshToken()
	if err != nil {
		return err
	}
	userID, err := h.Store.RotateRefreshToken(c.UserContext(),
		h.hashRefresh(req.RefreshToken), h.hashRefresh(next), time.Now().Add(RefreshTokenTTL))
	if err != nil {
		if errors.Is(err, storage.ErrTokenReused) {
			h.Log.Warn("refresh token reuse detected; family revoked", "ip", c.IP())
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	u, err := h.Store.UserByID(c.UserContext(), userID)
	if errors.Is(err, storage.ErrNotFound) {
		return httpx.Unauthorized("account no longer exists")
	}
	if err != nil {
		return err
	}
	if u.EffectiveStatus(time.Now()) != storage.StatusActive {
		if err := h.Store.RevokeRefreshFamily(c.UserContext(), h.hashRefresh(next)); err != nil {
			return err
		}
		return httpx.Unauthorized("account is not active")
	}
	access, exp, err := h.Tokens.Issue(u)
	if err != nil {
		return err
	}
	h.setAccessCookie(c, access, exp)
	return c.JSON(TokenResponse{AccessToken: access, RefreshToken: next, TokenType: "Bearer",
		ExpiresIn: int(httpx.AccessTokenTTL.Seconds()), User: ToUser(u)})
}

func (h *Handler) logout(c *fiber.Ctx) error {
	var req refreshRequest
	if len(c.Body()) > 0 {
		if err := httpx.BindJSON(c, &req); err != nil {
			return err
		}
	}
	if req.RefreshToken != "" {
		if err := h.Store.RevokeRefreshFamily(c.UserContext(), h.hashRefresh(req.RefreshToken)); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: httpx.AccessCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: h.SecureCookies})
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) me(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"user": ToUser(*httpx.CurrentUser(c))})
}

func (h *Handler) hasher() *password.Hasher {
	return &password.Hasher{Cost: h.BcryptCost, Gate: h.Hashing}
}

// issue answers with a new access token and a refresh token of a new family.
func (h *Handler) issue(c *fiber.Ctx, status int, u storage.User) error {
	access, exp, err := h.Tokens.Issue(u)
	if err != nil {
		return err
	}
	refresh, err := newRefreshToken()
	if err != nil {
		return err
	}
	if err := h.Store.CreateRefreshToken(c.UserContext(), u.ID, h.hashRefresh(refresh), time.Now().Add(RefreshTokenTTL)); err != nil {
		return err
	}
	h.setAccessCookie(c, access, exp)
	return c.Status(status).JSON(TokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(httpx.AccessTokenTTL.Seconds()), User: ToUser(u)})
}

// setAccessCookie hands the browser the access token for the pages it
// navigates to itself (the queue dashboard). HttpOnly keeps it from scripts;
// SameSite=Strict keeps it off cross-site requests.
func (h *Handler) setAccessCookie(c *fiber.Ctx, token string, exp time.Time) {
	c.Cookie(&fiber.Cookie{Name: httpx.AccessCookie, Value: token, Path: "/", Expires: exp,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: h.SecureCookies})
}

// hashRefresh is the stored form of a refresh token: an HMAC keyed with
// JWT_REFRESH_SECRET, so a database leak yields nothing presentable.
func (h *Handler) hashRefresh(token string) []byte {
	m := hmac.New(sha256.New, h.RefreshSecret)
	m.Write([]byte(token))
	return m.Sum(nil)
}

func newRefreshToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate refresh token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
