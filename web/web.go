// Package web serves the pages: one HTML shell for every page URL and the
// embedded static files (Preact + htm modules, CSS, strings) under a
// content-hashed /static/<hash>/ prefix. The pages are a client of the JSON
// APIs under /api/ and implement no rule of their own; what the server adds
// is what a browser needs before any script runs: the right status (404 for
// unknown pages and campaigns), the page's language, and the campaign's
// title, description and image as <title> and OpenGraph/Twitter meta tags,
// so that a shared link previews.
//
// docs/web.md describes the whole front end.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var embedded embed.FS

// ErrNotFound is what Options.Campaign returns for a slug visitors may not see.
var ErrNotFound = errors.New("web: not found")

// Options are what the pages need from the process.
type Options struct {
	// Campaign returns the body of GET /api/public/campaigns/:slug (the
	// public campaign, from the same code and page cache as the API), or
	// an error wrapping ErrNotFound when visitors may not see it.
	Campaign func(ctx context.Context, slug string) ([]byte, error)
	// PublicURL is where the site is reached from outside (PUBLIC_URL);
	// og:url and relative og:image URLs are made absolute with it.
	PublicURL string
	// MediaAPI is the origin browsers reach the media API at, when it is not
	// the pages' own (development without nginx); empty: same origin.
	MediaAPI string
	// Production drops http: from the images the CSP allows.
	Production bool
	Log        *slog.Logger
}

// Handler serves the pages and the static files.
type Handler struct {
	o      Options
	hash   string           // content hash of every static file together
	prefix string           // "/static/<hash>/"
	assets map[string]asset // by path under static/, e.g. "js/app.js"
	csp    string
	// css is base.css, inlined in every page so that the first paint waits
	// for no second request; the CSP allows exactly it by its hash.
	css string
	// preload lists the modules every page loads, for <link rel=modulepreload>.
	preload []string
}

type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// servedType is the Content-Type of the file types served from static/,
// and "" for anything else there (README.md is documentation, not served).
func servedType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// New loads the embedded files, compresses them and computes their hash.
func New(o Options) (*Handler, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	o.MediaAPI = strings.TrimRight(o.MediaAPI, "/")
	h := &Handler{o: o, assets: map[string]asset{}}
	root, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, err
	}
	var names []string
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if servedType(path.Ext(p)) != "" {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk the static files: %w", err)
	}
	sort.Strings(names)
	all := sha256.New()
	for _, name := range names {
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(all, "%s\x00%x\x00", name, sum)
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body) //nolint:errcheck // a bytes.Buffer does not fail
		zw.Close()     //nolint:errcheck
		a := asset{body: body, ctype: servedType(path.Ext(name)), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if gz.Len() < len(body) {
			a.gz = gz.Bytes()
		}
		h.assets[name] = a
	}
	h.hash = hex.EncodeToString(all.Sum(nil))[:12]
	h.prefix = "/static/" + h.hash + "/"
	// Every module app.js imports, however deep, so that the browser asks
	// for them all at once (the gallery and admin modules load on demand).
	for _, m := range []string{"js/app.js", "js/ui.js", "js/api.js", "js/i18n.js", "js/router.js",
		"i18n/en.js", "i18n/fr.js", "vendor/preact.module.js", "vendor/hooks.module.js", "vendor/htm.module.js",
		"js/pages/home.js", "js/pages/campaign.js", "js/pages/responses.js", "js/pages/verify.js",
		"js/pages/login.js", "js/pages/notfound.js"} {
		if _, ok := h.assets[m]; !ok {
			return nil, fmt.Errorf("static file %s is missing", m)
		}
		h.preload = append(h.preload, m)
	}
	h.css = string(h.assets["css/base.css"].body)
	if h.css == "" || strings.Contains(strings.ToLower(h.css), "</style") {
		return nil, fmt.Errorf("static file css/base.css is missing or cannot be inlined")
	}
	sum := sha256.Sum256([]byte(h.css))
	h.csp = contentSecurityPolicy(o, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	return h, nil
}

// contentSecurityPolicy is the pages' CSP: scripts only from this origin
// (no inline script, no eval), styles from this origin and the one inline
// style sheet whose hash is styleHash (base.css), no framing, no plugins;
// images from anywhere over https (representatives' photos, campaign
// covers), the APIs for data.
func contentSecurityPolicy(o Options, styleHash string) string {
	img := "'self' data: blob: https:"
	if !o.Production {
		img += " http:"
	}
	connect, media := "'self'", "'self' blob:"
	if o.MediaAPI != "" {
		connect += " " + o.MediaAPI
		media += " " + o.MediaAPI
		img += " " + o.MediaAPI
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' " + styleHash,
		"img-src " + img,
		"media-src " + media,
		"connect-src " + connect,
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// StaticPrefix is the versioned URL prefix of the static files, e.g.
// "/static/3f2a9c0d41b7/".
func (h *Handler) StaticPrefix() string { return h.prefix }

// CSP is the Content-Security-Policy every page is sent with.
func (h *Handler) CSP() string { return h.csp }

// Routes mounts the pages on app. It is a middleware, not a set of routes:
// it answers GET and HEAD for every path outside /api/ (the API's own
// routes, and its JSON 404 for unknown /api/ paths, are untouched), so it
// must be mounted before the /api routes. The one /api/ path it looks at is
// the response verification link, which a person opens from an email: a
// browser navigating to it is sent to the page that explains what happened.
func (h *Handler) Routes(r fiber.Router) {
	r.Use(h.serve)
}

func (h *Handler) serve(c *fiber.Ctx) error {
	p := c.Path()
	// As the API's routing sees it: any case, repeated slashes.
	lower := path.Clean("/" + strings.ToLower(p))
	if lower == "/api" || strings.HasPrefix(lower, "/api/") {
		if token, ok := verifyNavigation(c, p); ok {
			return c.Redirect("/responses/verify/"+token, fiber.StatusSeeOther)
		}
		return c.Next()
	}
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return c.Next() // the API's 404/405 in the error format
	}
	if strings.HasPrefix(p, "/static/") {
		return h.static(c, p)
	}
	return h.page(c, p)
}

// verifyLinkPrefix is the path of the response verification link in the
// emails (worker/email).
const verifyLinkPrefix = "/api/public/responses/verify/"

// verifyNavigation reports whether c is a browser opening a verification
// link (a top-level navigation asking for HTML), and its token.
func verifyNavigation(c *fiber.Ctx, p string) (string, bool) {
	if c.Method() != fiber.MethodGet || !strings.HasPrefix(p, verifyLinkPrefix) {
		return "", false
	}
	token := strings.TrimPrefix(p, verifyLinkPrefix)
	if token == "" || strings.Contains(token, "/") {
		return "", false
	}
	navigate := c.Get("Sec-Fetch-Mode") == "navigate" ||
		(c.Get("Sec-Fetch-Mode") == "" && strings.Contains(c.Get(fiber.HeaderAccept), "text/html"))
	return token, navigate
}

func (h *Handler) static(c *fiber.Ctx, p string) error {
	rest := strings.TrimPrefix(p, "/static/")
	version, name, ok := strings.Cut(rest, "/")
	a, found := h.assets[name]
	if !ok || !found {
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(fiber.StatusNotFound).SendString("not found\n")
	}
	if version == h.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		// A page of another release (during a rolling deploy): the file as
		// it is now, not to be kept.
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if a.gz != nil && acceptsGzip(c) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(a.gz)
	}
	return c.Send(a.body)
}

func acceptsGzip(c *fiber.Ctx) bool {
	for _, part := range strings.Split(c.Get(fiber.HeaderAcceptEncoding), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return quality(params) > 0
		}
	}
	return false
}

// quality is the q parameter of an Accept-* entry (1 when absent).
func quality(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			q, err := strconv.ParseFloat(v, 64)
			if err != nil || q < 0 {
				return 0
			}
			return q
		}
	}
	return 1
}

// campaignJSON is what the shell reads of the public campaign.
type campaignJSON struct {
	Campaign struct {
		Slug        string `json:"slug"`
		Title       string `json:"title"`
		Description string `json:"description"`
		CoverPhoto  string `json:"coverPhoto"`
	} `json:"campaign"`
}

// page answers a page URL with the shell, or the 404 page.
func (h *Handler) page(c *fiber.Ctx, p string) error {
	lang := Language(c.Cookies(LangCookie), c.Get(fiber.HeaderAcceptLanguage))
	s := shell{Lang: lang, Status: fiber.StatusOK, Page: "home"}
	clean := p
	if len(clean) > 1 {
		clean = strings.TrimRight(clean, "/")
	}
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	switch {
	case clean == "/":
		s.Title, s.Description = text(lang, "home.title"), text(lang, "home.description")
	case len(parts) == 1 && parts[0] == "login":
		s.Page, s.Title, s.NoIndex = "login", text(lang, "login.title"), true
	case parts[0] == "admin":
		s.Page, s.Title, s.NoIndex = "admin", text(lang, "admin.title"), true
	case parts[0] == "gallery" && len(parts) <= 2:
		s.Page, s.Title, s.Description = "gallery", text(lang, "gallery.title"), text(lang, "gallery.description")
	case parts[0] == "responses" && len(parts) == 3 && parts[1] == "verify" && parts[2] != "":
		s.Page, s.Title, s.NoIndex = "verify", text(lang, "verify.title"), true
	case parts[0] == "c" && (len(parts) == 2 || (len(parts) == 3 && parts[2] == "responses")) && parts[1] != "":
		if err := h.campaignPage(c, &s, parts[1], len(parts) == 3); err != nil {
			return err
		}
	default:
		s.Page, s.Status, s.Title, s.NoIndex = "notfound", fiber.StatusNotFound, text(lang, "notfound.title"), true
	}
	if s.URL == "" && s.Status == fiber.StatusOK && !s.NoIndex {
		s.URL = h.o.PublicURL + clean
	}
	return h.send(c, s)
}

func (h *Handler) campaignPage(c *fiber.Ctx, s *shell, slug string, wall bool) error {
	s.Page = "campaign"
	if wall {
		s.Page = "responses"
	}
	body, err := h.o.Campaign(c.UserContext(), slug)
	if errors.Is(err, ErrNotFound) {
		s.Page, s.Status, s.Title, s.NoIndex = "notfound", fiber.StatusNotFound, text(s.Lang, "notfound.campaign"), true
		return nil
	}
	if err != nil {
		// The page itself reads the campaign again and shows what the API
		// says; the shell goes out without the campaign's meta tags.
		h.o.Log.Warn("read a campaign for its page", "slug", slug, "err", err)
		s.Title = text(s.Lang, "home.title")
		return nil
	}
	var cj campaignJSON
	if err := json.Unmarshal(body, &cj); err != nil {
		return fmt.Errorf("decode campaign %q: %w", slug, err)
	}
	camp := cj.Campaign
	s.Title = camp.Title
	if wall {
		s.Title = text(s.Lang, "responses.titlePrefix") + camp.Title
	}
	s.Heading, s.Description = camp.Title, camp.Description
	s.Image = h.absolute(camp.CoverPhoto)
	s.URL = h.o.PublicURL + "/c/" + camp.Slug
	if wall {
		s.URL += "/responses"
	}
	var data bytes.Buffer
	json.HTMLEscape(&data, body)
	s.Data = data.String()
	return nil
}

// absolute makes a cover photo URL absolute for link previews; anything but
// an http(s) or root-relative URL is dropped.
func (h *Handler) absolute(u string) string {
	switch {
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return u
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
		return h.o.PublicURL + u
	}
	return ""
}

func (h *Handler) send(c *fiber.Ctx, s shell) error {
	s.Static, s.Preload, s.MediaAPI, s.CSS = h.prefix, h.preload, h.o.MediaAPI, h.css
	body := s.render()
	c.Status(s.Status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie, Accept-Encoding")
	c.Set(fiber.HeaderContentSecurityPolicy, h.csp)
	c.Set(fiber.HeaderContentLanguage, s.Lang)
	if acceptsGzip(c) && len(body) > 512 {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		zw.Write(body) //nolint:errcheck
		zw.Close()     //nolint:errcheck
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(gz.Bytes())
	}
	return c.Send(body)
}
