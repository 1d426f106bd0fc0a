package httpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"changemaker/storage"
)

// Token settings shared by both APIs.
const (
	AccessTokenTTL = 15 * time.Minute
	tokenIssuer    = "changemaker"
	tokenAudience  = "changemaker-api"
	// AccessCookie carries the access token for browser-only pages (the queue
	// dashboard). It is HttpOnly and SameSite=Strict; JSON routes ignore it.
	AccessCookie = "cm_access"
)

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
}

// Tokens signs and verifies access tokens with JWT_ACCESS_SECRET (HS256).
type Tokens struct {
	secret []byte
	ttl    time.Duration
}

// NewTokens returns a signer/verifier for secret.
func NewTokens(secret string, ttl time.Duration) *Tokens {
	return &Tokens{secret: []byte(secret), ttl: ttl}
}

// Issue signs an access token for u; it returns the token and its expiry.
func (t *Tokens) Issue(u storage.User) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(t.ttl)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Audience:  jwt.ClaimStrings{tokenAudience},
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role: u.Role,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer, audience and expiry, and
// returns the user ID the token names.
func (t *Tokens) Verify(token string) (int64, error) {
	var claims AccessClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
	)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("access token has no valid subject")
	}
	return id, nil
}

// UserLoader loads a live user by ID; storage.Store implements it.
type UserLoader interface {
	UserByID(ctx context.Context, id int64) (storage.User, error)
}

// Auth authenticates requests and enforces roles. Every authenticated request
// re-reads the user, so a suspended, deleted or demoted user loses access at
// once rather than when the token expires.
type Auth struct {
	tokens *Tokens
	users  UserLoader
}

// NewAuth returns an authenticator.
func NewAuth(tokens *Tokens, users UserLoader) *Auth {
	return &Auth{tokens: tokens, users: users}
}

const userKey = "cm.user"

// CurrentUser returns the authenticated user, or nil.
func CurrentUser(c *fiber.Ctx) *storage.User {
	u, _ := c.Locals(userKey).(*storage.User)
	return u
}

// authenticate resolves the request's credential to an active user.
// found is false when the request carries no credential at all.
func (a *Auth) authenticate(c *fiber.Ctx, allowCookie bool) (user *storage.User, found bool, err error) {
	token := ""
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return nil, true, Unauthorized("Authorization header must be \"Bearer <token>\"")
		}
		token = strings.TrimSpace(rest)
	} else if allowCookie {
		token = c.Cookies(AccessCookie)
		if token != "" && CrossSite(c) {
			// The browser sends the cookie itself: a state-changing request
			// from another site must not ride on it (SameSite=Strict already
			// keeps it off most; this holds for browsers and same-site
			// origins it does not cover).
			return nil, true, Forbidden("cross-site request refused")
		}
	}
	if token == "" {
		return nil, false, nil
	}
	id, err := a.tokens.Verify(token)
	if err != nil {
		return nil, true, Unauthorized("access token is invalid or expired")
	}
	u, err := a.users.UserByID(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, true, Unauthorized("account no longer exists")
	}
	if err != nil {
		return nil, true, fmt.Errorf("load user %d: %w", id, err)
	}
	if u.EffectiveStatus(time.Now()) != storage.StatusActive {
		return nil, true, Unauthorized("account is not active")
	}
	return &u, true, nil
}

// Require lets through an active user holding one of roles (any role when
// none are named). SUPER_ADMIN passes every role check. No credential → 401,
// wrong role → 403.
func (a *Auth) Require(roles ...string) fiber.Handler {
	return a.require(false, roles)
}

// CrossSite reports whether c is a state-changing request (any method but
// GET, HEAD and OPTIONS) that a browser says comes from another origin:
// Sec-Fetch-Site other than same-origin or none (typed by the person), or,
// from browsers that do not send it, an Origin whose host is not the
// request's. Requests with neither header (not from a browser) are not
// cross-site.
func CrossSite(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		return site != "same-origin" && site != "none"
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return true
	}
	return !strings.EqualFold(u.Hostname(), hostOnly(c.Hostname()))
}

// hostOnly drops the port of a Host header value.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// RequireWithCookie is Require that also accepts the HttpOnly access cookie,
// for pages a browser navigates to (the queue dashboard).
func (a *Auth) RequireWithCookie(roles ...string) fiber.Handler {
	return a.require(true, roles)
}

func (a *Auth) require(allowCookie bool, roles []string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, found, err := a.authenticate(c, allowCookie)
		if err != nil {
			return err
		}
		if !found {
			return Unauthorized("authentication required")
		}
		if len(roles) > 0 && u.Role != storage.RoleSuperAdmin && !slices.Contains(roles, u.Role) {
			return Forbidden("your role may not do this")
		}
		c.Locals(userKey, u)
		return c.Next()
	}
}

// Optional attaches the user when a valid credential is present and lets
// anonymous requests through; a present but bad credential is still a 401.
func (a *Auth) Optional() fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, found, err := a.authenticate(c, false)
		if err != nil {
			return err
		}
		if found {
			c.Locals(userKey, u)
		}
		return c.Next()
	}
}
