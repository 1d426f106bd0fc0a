package openapi_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"changemaker/api"
	"changemaker/api/openapi"
	"changemaker/internal/testenv"
)

// fiberParam is a Fiber path parameter (:id) or wildcard (*).
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)|\*`)

// registered returns the routes app serves as OpenAPI paths and methods,
// with the two things Fiber adds of its own taken out:
//   - the HEAD route Fiber registers beside every GET (HEAD answers as GET
//     does, without a body; the document lists the GET);
//   - OPTIONS, answered by the CORS middleware on any path (a Use, not a
//     route), except as one of the methods of a mounted sub-app.
//
// A path registered for every method (app.All) is a mounted sub-app, such
// as the asynqmon dashboard: it is returned in mounts, not in routes.
func registered(app *api.App) (routes map[string][]string, mounts map[string][]string) {
	byPath := map[string][]string{}
	for _, r := range app.GetRoutes(true) {
		p := r.Path
		if len(p) > 1 {
			p = strings.TrimRight(p, "/")
		}
		p = fiberParam.ReplaceAllStringFunc(p, func(m string) string {
			if m == "*" {
				return "{path}"
			}
			return "{" + m[1:] + "}"
		})
		if !slices.Contains(byPath[p], r.Method) {
			byPath[p] = append(byPath[p], r.Method)
		}
	}
	routes, mounts = map[string][]string{}, map[string][]string{}
	for p, methods := range byPath {
		if len(methods) == len(fiber.DefaultMethods) {
			mounts[p] = methods
			continue
		}
		var keep []string
		for _, m := range methods {
			if m == fiber.MethodOptions || (m == fiber.MethodHead && slices.Contains(methods, fiber.MethodGet)) {
				continue
			}
			keep = append(keep, m)
		}
		sort.Strings(keep)
		routes[p] = keep
	}
	return routes, mounts
}

func documented(t *testing.T, s openapi.Source) map[string][]string {
	t.Helper()
	doc, err := openapi.Load(s)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for p, item := range doc.Paths.Map() {
		var methods []string
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		out[p] = methods
	}
	return out
}

// TestRoutesMatchDocument: every route each app registers is in its
// document, with the same methods, and the document lists nothing the app
// does not serve. A mounted sub-app must be in the document with GET; the
// methods the document lists for it must be among those it is mounted for.
func TestRoutesMatchDocument(t *testing.T) {
	env := testenv.NewAPI(t)
	for _, tc := range []struct {
		name string
		app  *api.App
		src  openapi.Source
	}{{"main", env.Main, openapi.Main}, {"media", env.Media, openapi.Media}} {
		t.Run(tc.name, func(t *testing.T) {
			routes, mounts := registered(tc.app)
			doc := documented(t, tc.src)
			for p, methods := range routes {
				if got, ok := doc[p]; !ok {
					t.Errorf("%s %s is served but not in the document", strings.Join(methods, ","), p)
				} else if !slices.Equal(got, methods) {
					t.Errorf("%s: served for %v, documented for %v", p, methods, got)
				}
			}
			for p, methods := range mounts {
				got, ok := doc[p]
				if !ok || !slices.Contains(got, fiber.MethodGet) {
					t.Errorf("the sub-app mounted at %s is not in the document with GET", p)
				}
				for _, m := range got {
					if !slices.Contains(methods, m) {
						t.Errorf("%s %s is documented but the sub-app is not mounted for it", m, p)
					}
				}
			}
			for p, methods := range doc {
				_, served := routes[p]
				_, mounted := mounts[p]
				if !served && !mounted {
					t.Errorf("%s %s is documented but not served", strings.Join(methods, ","), p)
				}
			}
		})
	}
}

// TestServed: each API serves its own document as JSON, and the document
// says it is OpenAPI 3.1.
func TestServed(t *testing.T) {
	env := testenv.NewAPI(t)
	for _, tc := range []struct {
		app  *api.App
		path string
		has  string
	}{{env.Main, "/api/openapi.json", "/api/auth/login"}, {env.Media, "/api/media/openapi.json", "/api/media/videos"}} {
		res := testenv.Do(t, tc.app, testenv.Request{Method: "GET", Path: tc.path})
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s = %d %q", tc.path, res.Status, res.Header.Get("Content-Type"))
		}
		var doc struct {
			OpenAPI string         `json:"openapi"`
			Paths   map[string]any `json:"paths"`
		}
		res.JSON(t, &doc)
		if doc.OpenAPI != "3.1.0" || doc.Paths[tc.has] == nil || doc.Paths[tc.path] == nil {
			t.Errorf("GET %s: openapi %q, %d paths, want 3.1.0 with %s and itself", tc.path, doc.OpenAPI, len(doc.Paths), tc.has)
		}
	}
}

// TestDocumentsAreJSON: the served form round-trips through encoding/json.
func TestDocumentsAreJSON(t *testing.T) {
	for _, s := range []openapi.Source{openapi.Main, openapi.Media} {
		b, err := openapi.JSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Errorf("%s: not valid JSON", s)
		}
	}
}
