// Package users is the SUPER_ADMIN user management module.
package users

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/auth"
	"changemaker/api/httpx"
	"changemaker/internal/password"
	"changemaker/storage"
)

// What a client reads when a user is missing, or an email taken.
const (
	noSuchUser = "no such user"
	emailTaken = "an account with this email already exists"
)

// Handler serves /api/users.
type Handler struct {
	Options
}

// Options are what the users module needs.
type Options struct {
	Store      *storage.Store
	Auth       *httpx.Auth
	BcryptCost int
	Hashing    *password.Gate // bounds bcrypt per process
}

// New builds the module.
func New(o Options) (*Handler, error) {
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	g := r.Group("/users", h.Auth.Require(storage.RoleSuperAdmin))
	g.Get("/", h.list)
	g.Post("/", h.create)
	g.Get("/:id", h.get)
	g.Patch("/:id", h.update)
	g.Delete("/:id", h.delete)
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.UserFilter{Search: strings.TrimSpace(c.Query("search")), Role: c.Query("role"),
		Status: c.Query("status"), Limit: page.Limit, Offset: page.Offset()}
	var v httpx.Validator
	if f.Role != "" {
		v.OneOf("role", f.Role, storage.Roles)
	}
	if f.Status != "" {
		v.OneOf("status", f.Status, storage.UserStatuses)
	}
	v.MaxLen("search", f.Search, 200)
	if err := v.Err(); err != nil {
		return err
	}
	list, total, err := h.Store.ListUsers(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, auth.ToUser), page, total))
}

type createRequest struct {
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Password  string     `json:"password"`
	Role      string     `json:"role"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Email = strings.TrimSpace(req.Email)
	if req.Status == "" {
		req.Status = storage.StatusActive
	}
	var v httpx.Validator
	if v.Required("email", req.Email) {
		v.Email("email", req.Email)
	}
	v.MaxLen("name", req.Name, 200)
	v.SingleLine("name", req.Name)
	v.OneOf("role", req.Role, storage.Roles)
	v.OneOf("status", req.Status, storage.UserStatuses)
	if req.ExpiresAt != nil {
		checkExpiry(&v, *req.ExpiresAt)
	}
	generated := ""
	if req.Password == "" {
		pw, err := password.Generate()
		if err != nil {
			return err
		}
		req.Password, generated = pw, pw
	} else if p := password.Problem(req.Password); p != "" {
		v.Add("password", p)
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := (&password.Hasher{Cost: h.BcryptCost, Gate: h.Hashing}).Hash(c.UserContext(), req.Password)
	if err != nil {
		return err
	}
	u, err := h.Store.CreateUser(c.UserContext(), storage.NewUser{Email: req.Email, Name: strings.TrimSpace(req.Name),
		PasswordHash: hash, Role: req.Role, Status: req.Status, ExpiresAt: req.ExpiresAt})
	if err != nil {
		return httpx.Conflictf(fmt.Errorf("create user: %w", err), emailTaken)
	}
	body := fiber.Map{"user": auth.ToUser(u)}
	if generated != "" {
		// Shown once; only the hash is kept.
		body["generatedPassword"] = generated
	}
	return c.Status(fiber.StatusCreated).JSON(body)
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Store.UserByID(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("user %d: %w", id, err), noSuchUser)
	}
	return c.JSON(fiber.Map{"user": auth.ToUser(u)})
}

// checkExpiry keeps an expiry within the years JSON can carry (0 to 9999,
// in whatever zone the database driver hands the time back, hence a day's
// margin): one outside them would be stored and then break every answer
// that shows the user.
func checkExpiry(v *httpx.Validator, t time.Time) {
	minExpiry := time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
	maxExpiry := time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)
	v.Check(t.After(minExpiry) && t.Before(maxExpiry), "expiresAt", "must be a time between the years 1 and 9999")
}

type updateRequest struct {
	Email     *string      `json:"email"`
	Name      *string      `json:"name"`
	Password  *string      `json:"password"`
	Role      *string      `json:"role"`
	Status    *string      `json:"status"`
	ExpiresAt optionalTime `json:"expiresAt"`
}

// optionalTime tells a field left out (Set false) from one sent as null
// (Set, Value nil: "clear it") and from a time.
type optionalTime struct {
	Set   bool
	Value *time.Time
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	o.Value = &t
	return nil
}

func (h *Handler) update(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var req updateRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	p := storage.UserPatch{Name: req.Name, Role: req.Role, Status: req.Status}
	if req.Email != nil {
		e := strings.TrimSpace(*req.Email)
		v.Email("email", e)
		p.Email = &e
	}
	if req.Name != nil {
		v.MaxLen("name", *req.Name, 200)
		v.SingleLine("name", *req.Name)
	}
	if req.Role != nil {
		v.OneOf("role", *req.Role, storage.Roles)
	}
	if req.Status != nil {
		v.OneOf("status", *req.Status, storage.UserStatuses)
	}
	if req.ExpiresAt.Set {
		if req.ExpiresAt.Value != nil {
			checkExpiry(&v, *req.ExpiresAt.Value)
		}
		// null clears the expiry: the account no longer ends.
		p.SetExpiresAt, p.ExpiresAt = true, req.ExpiresAt.Value
	}
	me := httpx.CurrentUser(c)
	if id == me.ID {
		// Guard against locking the last door from the inside.
		v.Check(req.Role == nil || *req.Role == me.Role, "role", "you cannot change your own role")
		v.Check(req.Status == nil || *req.Status == storage.StatusActive, "status", "you cannot deactivate yourself")
	}
	if req.Password != nil {
		if prob := password.Problem(*req.Password); prob != "" {
			v.Add("password", prob)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if req.Password != nil {
		hash, err := (&password.Hasher{Cost: h.BcryptCost, Gate: h.Hashing}).Hash(c.UserContext(), *req.Password)
		if err != nil {
			return err
		}
		p.PasswordHash = &hash
	}
	u, err := h.Store.UpdateUser(c.UserContext(), id, p)
	if err != nil {
		return httpx.Conflictf(httpx.NotFoundf(fmt.Errorf("update user %d: %w", id, err), noSuchUser), emailTaken)
	}
	return c.JSON(fiber.Map{"user": auth.ToUser(u)})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	if id == httpx.CurrentUser(c).ID {
		return httpx.BadRequest("you cannot delete your own account")
	}
	if err := h.Store.SoftDeleteUser(c.UserContext(), id); err != nil {
		return httpx.NotFoundf(fmt.Errorf("delete user %d: %w", id, err), noSuchUser)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
