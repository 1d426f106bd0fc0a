// Package openapi holds the OpenAPI 3.1 documents of the two APIs — the
// contract their clients and tests hold them to — and serves them as JSON.
//
// The documents are written by hand (main.yaml, media.yaml) next to the code
// and embedded in the binary. The main document is main.yaml plus every
// fragment in main.d/ (one per area, e.g. main.d/map-cuts.yaml): a fragment
// holds `paths` and `components` only, merged into main.yaml's before
// parsing; a path or component defined twice is an error. A route added to a module without its entry
// here fails the route-set test; a response a handler gives that its entry
// does not describe fails whichever API test receives it (internal/testenv
// validates every response against these documents).
package openapi

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"go.yaml.in/yaml/v4"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"
)

//go:embed main.yaml
var mainYAML []byte

//go:embed main.d
var mainFragments embed.FS

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

func (s Source) data() ([]byte, error) {
	if s == Media {
		return mediaYAML, nil
	}
	return merge(mainYAML, mainFragments, "main.d")
}

// merge adds the paths and components of every *.yaml fragment in dir of
// fsys to the document base, and returns the whole as JSON (which is YAML).
func merge(base []byte, fsys fs.FS, dir string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("parse the document: %w", err)
	}
	names, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := yaml.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for key, v := range frag {
			switch key {
			case "paths":
				if err := mergeInto(doc, "paths", v, name); err != nil {
					return nil, err
				}
			case "components":
				comps, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s: components is not a map", name)
				}
				into, _ := doc["components"].(map[string]any)
				if into == nil {
					into = map[string]any{}
					doc["components"] = into
				}
				for kind, defs := range comps {
					if err := mergeInto(into, kind, defs, name+": components"); err != nil {
						return nil, err
					}
				}
			default:
				return nil, fmt.Errorf("%s: a fragment holds only paths and components, not %q", name, key)
			}
		}
	}
	return json.Marshal(doc)
}

// mergeInto adds the entries of the map v to parent[key], refusing one that
// is there already.
func mergeInto(parent map[string]any, key string, v any, where string) error {
	add, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s is not a map", where, key)
	}
	into, _ := parent[key].(map[string]any)
	if into == nil {
		into = map[string]any{}
		parent[key] = into
	}
	for k, def := range add {
		if _, dup := into[k]; dup {
			return fmt.Errorf("%s: %s %q is defined twice", where, key, k)
		}
		into[k] = def
	}
	return nil
}

// Load parses and validates the document. Each call returns a fresh copy, so
// a caller may keep it without sharing it.
func Load(s Source) (*openapi3.T, error) {
	data, err := s.data()
	if err != nil {
		return nil, fmt.Errorf("load the %s OpenAPI document: %w", s, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
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
