package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"changemaker/api"
	"changemaker/api/openapi"
)

// contract is one API's OpenAPI document and the router that finds an
// operation in it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	// subtrees are the path prefixes of mounted sub-apps (a path item marked
	// x-subtree): every request under one is checked against its {path}
	// entry, since an OpenAPI path parameter cannot span segments.
	subtrees map[string]string
}

// contracts parses both documents once per test binary: they are constants
// of the build, read-only once loaded, and parsing them for each of the
// thousands of requests the tests send would cost more than the tests.
var contracts = sync.OnceValues(func() (map[string]*contract, error) {
	out := map[string]*contract{}
	for name, src := range map[string]openapi.Source{"changemaker-main": openapi.Main, "changemaker-media": openapi.Media} {
		doc, err := openapi.Load(src)
		if err != nil {
			return nil, err
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route the %s OpenAPI document: %w", src, err)
		}
		c := &contract{doc: doc, router: r, subtrees: map[string]string{}}
		for path, item := range doc.Paths.Map() {
			if _, ok := item.Extensions["x-subtree"]; ok {
				prefix, ok := strings.CutSuffix(path, "{path}")
				if !ok {
					return nil, fmt.Errorf("%s: x-subtree on %s, which does not end in {path}", src, path)
				}
				c.subtrees[prefix] = path
			}
		}
		out[name] = c
	}
	return out, nil
})

// offDocument are the answers a request that matches no operation may get,
// by status: the statuses every request can get before routing, the
// unknown-route and unknown-method answers, and what the middleware of a
// guarded or rate-limited prefix answers before routing gets that far.
var offDocument = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusTooManyRequests:       "RateLimited",
	http.StatusNotFound:              "NotFound",
	http.StatusMethodNotAllowed:      "MethodNotAllowed",
	http.StatusRequestEntityTooLarge: "PayloadTooLarge",
	http.StatusUnsupportedMediaType:  "UnsupportedMediaType",
	http.StatusInternalServerError:   "Error",
}

// checkContract fails t when res, the answer app gave to r, is not what
// app's OpenAPI document describes. Apps without a document (the standalone
// queues process) are not checked.
func checkContract(t testing.TB, app *api.App, r *http.Request, res *Response) {
	t.Helper()
	all, err := contracts()
	if err != nil {
		t.Errorf("load the OpenAPI documents: %v", err)
		return
	}
	c := all[app.Config().AppName]
	if c == nil {
		return
	}
	if err := c.check(r, res); err != nil {
		t.Errorf("%s %.200s = %d: the answer is not what the OpenAPI document describes: %v\nbody: %.500s",
			r.Method, requestTarget(r).String(), res.Status, err, res.Body)
	}
}

func (c *contract) check(r *http.Request, res *Response) error {
	if r.Method == http.MethodHead {
		return nil // Fiber answers HEAD like GET, without a body
	}
	u := requestTarget(r)
	// Fiber routes without regard to a trailing slash (StrictRouting off).
	if len(u.Path) > 1 {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		if u.Path == "" {
			u.Path = "/"
		}
	}
	for prefix, path := range c.subtrees {
		if strings.HasPrefix(strings.ToLower(u.Path), prefix) {
			u.Path, u.RawPath = strings.TrimSuffix(path, "{path}")+"x", ""
		}
	}
	find := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: r.Header}
	route, params, err := c.router.FindRoute(find)
	if errors.Is(err, routers.ErrPathNotFound) {
		// Fiber routes without regard to case, too (CaseSensitive off).
		lower := *u
		lower.Path, lower.RawPath = strings.ToLower(u.Path), strings.ToLower(u.RawPath)
		find.URL = &lower
		route, params, err = c.router.FindRoute(find)
	}
	switch {
	case errors.Is(err, routers.ErrPathNotFound), errors.Is(err, routers.ErrMethodNotAllowed):
		name := offDocument[res.Status]
		if res.Status == http.StatusNoContent && r.Method == http.MethodOptions {
			name = "Preflight"
		}
		if name == "" {
			return fmt.Errorf("%s %s is not in the document (%v), and %d is not an answer such a request may get", r.Method, u.Path, err, res.Status)
		}
		ref := c.doc.Components.Responses[name]
		if ref == nil {
			return fmt.Errorf("the document has no components.responses.%s", name)
		}
		route = &routers.Route{Spec: c.doc, Path: u.Path, Method: r.Method, Operation: &openapi3.Operation{
			Responses: openapi3.NewResponses(openapi3.WithStatus(res.Status, ref))}}
		params = nil
	case err != nil:
		return fmt.Errorf("find the operation: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    &http.Request{Method: r.Method, URL: &url.URL{Path: u.Path, RawQuery: u.RawQuery}, Header: r.Header},
			PathParams: params, Route: route,
		},
		Status:  res.Status,
		Header:  res.Header,
		Body:    io.NopCloser(bytes.NewReader(res.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// requestTarget is the target of r as app.Test sends it: RequestURI when
// set (tests set it to send a target verbatim), else the URL.
func requestTarget(r *http.Request) *url.URL {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	if u, err := url.ParseRequestURI(target); err == nil {
		return &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	}
	// Not a target net/url accepts (a stray %, say): take it apart by hand,
	// as Fiber does not decode the path it routes either.
	path, query, _ := strings.Cut(target, "?")
	return &url.URL{Path: path, RawPath: path, RawQuery: query}
}
