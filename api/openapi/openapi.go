// Package openapi holds the OpenAPI 3.1 documents of the two APIs — the
// contract their clients and tests hold them to — and serves them as JSON.
//
// The documents are written by hand (main.yaml, media.yaml) next to the code
// and embedded in the binary. A route added to a module without its entry
// here fails the route-set test; a response a handler gives that its entry
// does not describe fails whichever API test receives it (internal/testenv
// validates every response against these documents).
package openapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"
)

//go:embed main.yaml
var mainYAML []byte

//go:embed media.yaml
var mediaYAML []byte

// A Source names one of the embedded documents.
type Source int

// The documents: the main API (:4000) and the media API (:4100).
const (
	Main Source = iota
	Media
)

func (s Source) String() string {
	if s == Media {
		return "media"
	}
	return "main"
}

func (s Source) data() []byte {
	if s == Media {
		return mediaYAML
	}
	return mainYAML
}

// Load parses and validates the document. Each call returns a fresh copy, so
// a caller may keep it without sharing it.
func Load(s Source) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(s.data())
	if err != nil {
		return nil, fmt.Errorf("load the %s OpenAPI document: %w", s, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate the %s OpenAPI document: %w", s, err)
	}
	return doc, nil
}

// JSON returns the validated document encoded as JSON.
func JSON(s Source) ([]byte, error) {
	doc, err := Load(s)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode the %s OpenAPI document: %w", s, err)
	}
	return b, nil
}

// MustHandler loads the document once, when the app is built, and returns
// the handler that serves it. The document is a constant of the binary, so
// an invalid one is a programming error that every test catches: it panics,
// as regexp.MustCompile does, rather than widen each app constructor.
func MustHandler(s Source) fiber.Handler {
	b, err := JSON(s)
	if err != nil {
		panic(err)
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(b)
	}
}
