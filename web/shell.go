package web

import (
	"html"
	"strconv"
	"strings"
)

// shell is the HTML page every page URL answers with: the meta tags, the
// style sheet and the app's module. Everything variable in it is escaped
// with html.EscapeString (text and double-quoted attributes alike); Data is
// JSON already passed through json.HTMLEscape, inside a non-executable
// <script type="application/json">; CSS is our own base.css.
type shell struct {
	Lang        string
	Status      int
	Page        string // home, campaign, responses, verify, gallery, login, admin, notfound
	Title       string
	Heading     string // shown before the app starts (a campaign's title)
	Description string
	Image       string
	URL         string
	NoIndex     bool
	Data        string // the public campaign JSON, for the app to start without a second request
	Static      string
	Preload     []string
	MediaAPI    string
	CSS         string // base.css, inlined (the CSP allows it by its hash)
}

func (s shell) render() []byte {
	var b strings.Builder
	e := html.EscapeString
	meta := func(attr, key, value string) {
		if value != "" {
			b.WriteString(`<meta ` + attr + `="` + key + `" content="` + e(value) + "\">\n")
		}
	}
	b.WriteString("<!doctype html>\n")
	b.WriteString(`<html lang="` + e(s.Lang) + `" data-page="` + e(s.Page) + `" data-status="` +
		strconv.Itoa(s.Status) + `" data-media-api="` + e(s.MediaAPI) + "\">\n<head>\n")
	b.WriteString("<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + e(s.Title) + "</title>\n")
	meta("name", "description", s.Description)
	if s.NoIndex {
		meta("name", "robots", "noindex")
	}
	meta("property", "og:type", "website")
	meta("property", "og:site_name", "Changemaker")
	meta("property", "og:title", s.Title)
	meta("property", "og:description", s.Description)
	meta("property", "og:url", s.URL)
	meta("property", "og:image", s.Image)
	meta("property", "og:locale", map[string]string{"en": "en_CA", "fr": "fr_CA"}[s.Lang])
	card := "summary"
	if s.Image != "" {
		card = "summary_large_image"
	}
	meta("name", "twitter:card", card)
	meta("name", "twitter:title", s.Title)
	meta("name", "twitter:description", s.Description)
	meta("name", "twitter:image", s.Image)
	b.WriteString(`<link rel="icon" href="` + e(s.Static) + "img/icon.svg\" type=\"image/svg+xml\">\n")
	b.WriteString("<style>" + s.CSS + "</style>\n")
	for _, m := range s.Preload {
		b.WriteString(`<link rel="modulepreload" href="` + e(s.Static+m) + "\">\n")
	}
	b.WriteString(`<script type="module" src="` + e(s.Static) + "js/app.js\"></script>\n")
	if s.Data != "" {
		b.WriteString("<script type=\"application/json\" id=\"cm-campaign\">" + s.Data + "</script>\n")
	}
	b.WriteString("</head>\n<body>\n<div id=\"app\">")
	// What shows before the script runs (and without it): the campaign's
	// title and description, as text.
	if s.Heading != "" {
		b.WriteString("<main class=\"page\"><h1>" + e(s.Heading) + "</h1>")
		if s.Description != "" {
			b.WriteString("<p class=\"lede\">" + e(s.Description) + "</p>")
		}
		b.WriteString("</main>")
	} else {
		b.WriteString("<main class=\"page\"><h1>" + e(s.Title) + "</h1></main>")
	}
	b.WriteString("</div>\n<noscript><p class=\"page\">" + e(text(s.Lang, "noscript")) + "</p></noscript>\n")
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}
