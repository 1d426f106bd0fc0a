package httpx

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// Page is a page request: ?page=1&limit=20 (limit at most MaxLimit).
type Page struct {
	Page  int
	Limit int
}

// Paging bounds.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Offset is the number of rows before this page.
func (p Page) Offset() int { return (p.Page - 1) * p.Limit }

// ParsePage reads ?page and ?limit; nonsense is a 400.
func ParsePage(c *fiber.Ctx) (Page, error) {
	p := Page{Page: 1, Limit: DefaultLimit}
	var v Validator
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 1_000_000, "page", "must be a whole number from 1")
		p.Page = n
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= MaxLimit, "limit", "must be a whole number from 1 to 100")
		p.Limit = n
	}
	return p, v.Err()
}

// Pagination describes where a page sits in the whole list.
type Pagination struct {
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}

// PagedResponse is the envelope of every list endpoint.
type PagedResponse[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// Paged wraps one page of items.
func Paged[T any](items []T, p Page, total int) PagedResponse[T] {
	if items == nil {
		items = []T{}
	}
	return PagedResponse[T]{Data: items, Pagination: Pagination{
		Page: p.Page, Limit: p.Limit, Total: total, TotalPages: (total + p.Limit - 1) / p.Limit,
	}}
}
