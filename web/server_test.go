package web_test

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"changemaker/api"
	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/web"
)

type answer struct {
	status int
	header http.Header
	body   string
}

// get sends a GET to app in-process, as a browser would.
func get(t *testing.T, app *api.App, target string, header map[string]string) answer {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := app.Test(req, int((30 * time.Second).Milliseconds()))
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", target, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

func createCampaign(t *testing.T, env *testenv.API, f storage.CampaignFields) storage.Campaign {
	t.Helper()
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	if f.Status == nil {
		active := storage.CampaignActive
		f.Status = &active
	}
	c, err := env.Store.CreateCampaign(context.Background(), f, owner.ID)
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// A tag and its attributes, as the shell writes them (values double-quoted
// and escaped, so a value never holds a quote or a '>').
var (
	htmlTag  = regexp.MustCompile(`<([a-zA-Z]+)((?:\s+[a-zA-Z:-]+(?:="[^"]*")?)*)\s*/?>`)
	htmlAttr = regexp.MustCompile(`\s([a-zA-Z:-]+)(?:="[^"]*")?`)
)

var staticPrefix = regexp.MustCompile(`/static/([0-9a-f]{12})/js/app\.js`)

func checkShell(t *testing.T, target string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("GET %s = %d, want %d\n%.500s", target, a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET %s: Content-Type %q, want text/html", target, ct)
	}
	if !strings.Contains(a.body, `<div id="app">`) || !staticPrefix.MatchString(a.body) {
		t.Errorf("GET %s: not the app's shell:\n%.800s", target, a.body)
	}
	csp := a.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self';", "style-src 'self' 'sha256-", "frame-ancestors 'none'",
		"object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET %s: CSP %q lacks %q", target, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("GET %s: CSP %q allows inline script or eval", target, csp)
	}
	// The one inline style sheet is the one the CSP names by its hash.
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(a.body, -1)
	if len(style) != 1 {
		t.Errorf("GET %s: %d inline style sheets, want base.css alone", target, len(style))
	} else {
		sum := sha256.Sum256([]byte(style[0][1]))
		if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Errorf("GET %s: the CSP does not allow the inline style sheet by its hash", target)
		}
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY"} {
		if got := a.header.Get(h); got != want {
			t.Errorf("GET %s: %s = %q, want %q", target, h, got, want)
		}
	}
	// No inline script runs: the only inline <script> is a JSON data block.
	for _, m := range regexp.MustCompile(`<script([^>]*)>`).FindAllStringSubmatch(a.body, -1) {
		if !strings.Contains(m[1], `src="/static/`) && !strings.Contains(m[1], `type="application/json"`) {
			t.Errorf("GET %s: an inline script: %s", target, m[0])
		}
	}
	for _, tag := range htmlTag.FindAllStringSubmatch(a.body, -1) {
		for _, attr := range htmlAttr.FindAllStringSubmatch(tag[2], -1) {
			if strings.HasPrefix(strings.ToLower(attr[1]), "on") {
				t.Errorf("GET %s: an inline event handler in the shell: %s", target, tag[0])
			}
		}
	}
}

// TestDeepLinksAnswerTheShell: every page URL (and reloads of deep links)
// gets the app's shell with the pages' security headers.
func TestDeepLinksAnswerTheShell(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	camp := createCampaign(t, env, storage.CampaignFields{Title: ptr("Clean Water Now"), ShowResponseWall: ptr(true)})
	for _, target := range []string{"/", "/login", "/login?next=%2Fadmin", "/admin", "/admin/", "/admin/users/3",
		"/gallery", "/gallery/12", "/responses/verify/abc.def", "/c/" + camp.Slug, "/c/" + camp.Slug + "/",
		"/c/" + camp.Slug + "/responses", "/C/" + camp.Slug} {
		a := get(t, env.Main, target, nil)
		want := 200
		if strings.HasPrefix(target, "/C/") {
			want = 404 // page URLs are lower case; only the API ignores case
		}
		checkShell(t, target, a, want)
	}
	// HEAD answers like GET.
	res, err := env.Main.Test(httptest.NewRequest("HEAD", "/c/"+camp.Slug, nil))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HEAD = %v %v", res.StatusCode, err)
	}
}

// TestUnknownPagesAre404: unknown URLs and campaigns that do not exist (or
// that visitors may not see) get the 404 page; the API's own paths keep
// their JSON 404.
func TestUnknownPagesAre404(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	draft := createCampaign(t, env, storage.CampaignFields{Title: ptr("Secret Draft"), Status: ptr(storage.CampaignDraft)})
	for _, target := range []string{"/nope", "/c/no-such-campaign", "/c/" + draft.Slug, "/c/" + draft.Slug + "/responses",
		"/c/x/y/z", "/c/", "/gallery/1/2", "/responses/verify/", "/favicon.ico", "/index.html", "/c/%3Cscript%3E"} {
		a := get(t, env.Main, target, nil)
		checkShell(t, target, a, 404)
		if !strings.Contains(a.body, `data-page="notfound"`) || !strings.Contains(a.body, `name="robots" content="noindex"`) {
			t.Errorf("GET %s: not the not-found page:\n%.600s", target, a.body)
		}
		if strings.Contains(a.body, "Secret Draft") {
			t.Errorf("GET %s: the draft's title leaked", target)
		}
	}
	for _, target := range []string{"/api/nope", "/API/nope", "//api//nope", "/api"} {
		a := get(t, env.Main, target, nil)
		if a.status != 404 || !strings.Contains(a.body, `"code":"not_found"`) {
			t.Errorf("GET %s = %d %.200s, want the API's JSON 404", target, a.status, a.body)
		}
	}
	// Other methods on page URLs are the API's 404/405, in JSON.
	res, err := env.Main.Test(httptest.NewRequest("POST", "/c/whatever", nil))
	if err != nil || (res.StatusCode != 404 && res.StatusCode != 405) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("POST /c/whatever = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestCampaignMetaTagsAreEscaped: the campaign's title, description and
// cover photo go into <title> and the OpenGraph/Twitter meta tags escaped,
// whatever they hold; the campaign data for the app cannot close its
// <script> block.
func TestCampaignMetaTagsAreEscaped(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Influence.PublicURL = "https://act.example.org" })
	title := `Stop "it" & <script>window.__pwned=1</script> now`
	desc := "Line one\n</script><img src=x onerror=\"window.__pwned=1\"> 'quoted' & more"
	camp := createCampaign(t, env, storage.CampaignFields{Title: ptr(title), Description: ptr(desc),
		CoverPhoto: ptr(`/uploads/cover.png?a=1&b="2"`)})
	a := get(t, env.Main, "/c/"+camp.Slug, map[string]string{"Accept-Encoding": "gzip"})
	checkShell(t, "/c/"+camp.Slug, a, 200)
	if a.header.Get("Content-Encoding") != "gzip" && len(a.body) > 512 {
		t.Errorf("the page was not compressed for a client that accepts gzip")
	}
	escTitle := `Stop &#34;it&#34; &amp; &lt;script&gt;window.__pwned=1&lt;/script&gt; now`
	for _, want := range []string{
		"<title>" + escTitle + "</title>",
		`<meta property="og:title" content="` + escTitle + `">`,
		`<meta name="twitter:title" content="` + escTitle + `">`,
		`<meta property="og:description" content="Line one` + "\n" + `&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt; &#39;quoted&#39; &amp; more">`,
		`<meta property="og:image" content="https://act.example.org/uploads/cover.png?a=1&amp;b=&#34;2&#34;">`,
		`<meta property="og:url" content="https://act.example.org/c/` + camp.Slug + `">`,
		`<meta name="twitter:card" content="summary_large_image">`,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the page lacks %s\n%s", want, a.body)
		}
	}
	if strings.Contains(a.body, "<script>window") || strings.Contains(a.body, "<img src=x") {
		t.Errorf("a payload reached the HTML unescaped:\n%s", a.body)
	}
	data := regexp.MustCompile(`(?s)<script type="application/json" id="cm-campaign">(.*?)</script>`).FindStringSubmatch(a.body)
	if data == nil || strings.Contains(data[1], "<") || !strings.Contains(data[1], `\u003cscript\u003e`) {
		t.Errorf("the campaign data block is missing or not escaped: %v", data)
	}
	// The wall's page names the campaign too.
	w := get(t, env.Main, "/c/"+camp.Slug+"/responses", nil)
	if !strings.Contains(w.body, "<title>Responses: "+escTitle+"</title>") {
		t.Errorf("the wall's title: %.400s", w.body)
	}
}

// TestCampaignPageFollowsTheFeatureSwitch: while campaigns are switched off
// in the settings, their pages are not found, as their API is.
func TestCampaignPageFollowsTheFeatureSwitch(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Influence.ToggleCacheTTL = 0 })
	camp := createCampaign(t, env, storage.CampaignFields{Title: ptr("Switchable")})
	checkShell(t, "/c/"+camp.Slug, get(t, env.Main, "/c/"+camp.Slug, nil), 200)
	if _, err := env.Store.UpdateSettings(context.Background(), storage.SettingsPatch{EnableInfluence: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	a := get(t, env.Main, "/c/"+camp.Slug, nil)
	checkShell(t, "/c/"+camp.Slug, a, 404)
	if strings.Contains(a.body, "Switchable") {
		t.Errorf("the switched-off campaign's title is in its page")
	}
}

// TestStaticFiles: versioned URLs are cached for a year, compressed,
// revalidated by ETag; another version's URL is not kept; what is not a
// served file is a 404.
func TestStaticFiles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	m := staticPrefix.FindStringSubmatch(get(t, env.Main, "/", nil).body)
	if m == nil {
		t.Fatal("no versioned app.js in the shell")
	}
	prefix := "/static/" + m[1] + "/"
	a := get(t, env.Main, prefix+"js/app.js", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if a.status != 200 || a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") || a.header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(a.body, "import") {
		t.Fatalf("app.js = %d %v", a.status, a.header)
	}
	if a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("static files lack nosniff")
	}
	if b := get(t, env.Main, prefix+"css/base.css", map[string]string{"Accept-Encoding": "identity"}); b.status != 200 ||
		b.header.Get("Content-Encoding") != "" || !strings.HasPrefix(b.header.Get("Content-Type"), "text/css") {
		t.Errorf("base.css without gzip = %d %v", b.status, b.header)
	}
	if b := get(t, env.Main, prefix+"js/app.js", map[string]string{"If-None-Match": a.header.Get("ETag")}); b.status != 304 {
		t.Errorf("revalidation = %d, want 304", b.status)
	}
	if b := get(t, env.Main, "/static/000000000000/js/app.js", nil); b.status != 200 || b.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("another version's URL = %d %q, want 200 no-cache", b.status, b.header.Get("Cache-Control"))
	}
	for _, target := range []string{prefix + "js/nope.js", prefix + "vendor/README.md", prefix, "/static/", prefix + "../web.go"} {
		if b := get(t, env.Main, target, nil); b.status != 404 {
			t.Errorf("GET %s = %d, want 404", target, b.status)
		}
	}
	// The admin and gallery modules exist (web-admin's), loaded on demand.
	for _, f := range []string{"admin/index.js", "js/gallery.js", "vendor/preact.module.js", "img/icon.svg"} {
		if b := get(t, env.Main, prefix+f, nil); b.status != 200 {
			t.Errorf("GET %s = %d", prefix+f, b.status)
		}
	}
}

// TestVerificationLinkOpensThePage: the emailed verification link is an API
// URL; a browser opening it is sent to the page that says what happened,
// while the API answers other clients as before.
func TestVerificationLinkOpensThePage(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	target := "/api/public/responses/verify/abc.def"
	a := get(t, env.Main, target, map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html,*/*"})
	if a.status != 303 || a.header.Get("Location") != "/responses/verify/abc.def" {
		t.Fatalf("navigation = %d %q, want 303 to the page", a.status, a.header.Get("Location"))
	}
	a = get(t, env.Main, target, map[string]string{"Accept": "text/html"}) // a browser without Sec-Fetch-*
	if a.status != 303 {
		t.Errorf("old browser navigation = %d, want 303", a.status)
	}
	for _, h := range []map[string]string{nil, {"Sec-Fetch-Mode": "cors", "Accept": "application/json"}} {
		a = get(t, env.Main, target, h)
		if a.status != 400 || !strings.Contains(a.body, `"code":"bad_request"`) {
			t.Errorf("fetch with %v = %d %s, want the API's 400", h, a.status, a.body)
		}
	}
}

// TestLanguage: Accept-Language picks French; the switch's cookie wins.
func TestLanguage(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	for _, tc := range []struct {
		header map[string]string
		lang   string
		title  string
	}{
		{nil, "en", "Campaigns — Changemaker"},
		{map[string]string{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.8"}, "fr", "Campagnes — Changemaker"},
		{map[string]string{"Accept-Language": "de, en;q=0.5, fr;q=0.7"}, "fr", "Campagnes — Changemaker"},
		{map[string]string{"Accept-Language": "fr;q=0, en"}, "en", "Campaigns — Changemaker"},
		{map[string]string{"Accept-Language": "fr", "Cookie": web.LangCookie + "=en"}, "en", "Campaigns — Changemaker"},
		{map[string]string{"Cookie": web.LangCookie + "=fr"}, "fr", "Campagnes — Changemaker"},
	} {
		a := get(t, env.Main, "/", tc.header)
		if !strings.Contains(a.body, `<html lang="`+tc.lang+`"`) || !strings.Contains(a.body, "<title>"+tc.title+"</title>") ||
			a.header.Get("Content-Language") != tc.lang {
			t.Errorf("%v: want %s; got %.300s", tc.header, tc.lang, a.body)
		}
	}
}

// TestStringTablesMatch: every English string of the pages has its French
// counterpart and the other way round.
func TestStringTablesMatch(t *testing.T) {
	t.Parallel()
	keys := func(file string) []string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^\s*'([^']+)':`).FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return out
	}
	en, fr := keys("static/i18n/en.js"), keys("static/i18n/fr.js")
	if len(en) < 50 {
		t.Fatalf("only %d English strings found; did the file's format change?", len(en))
	}
	if strings.Join(en, "\n") != strings.Join(fr, "\n") {
		t.Errorf("en.js and fr.js differ in keys:\nen: %v\nfr: %v", en, fr)
	}
}

// TestPreloadsEveryModuleOfTheFirstPage: the shell preloads every module
// app.js imports statically, however deep (so the browser fetches them all
// at once instead of one import level per round trip), and nothing that is
// loaded on demand.
func TestPreloadsEveryModuleOfTheFirstPage(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	shell := get(t, env.Main, "/", nil).body
	preloaded := map[string]bool{}
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="/static/[0-9a-f]{12}/([^"]+)">`).FindAllStringSubmatch(shell, -1) {
		preloaded[m[1]] = true
	}
	staticImport := regexp.MustCompile(`(?m)^(?:import|export)\s[^;]*?from\s+'([^']+)'`)
	need := map[string]bool{}
	var walk func(file string)
	walk = func(file string) {
		if need[file] {
			return
		}
		need[file] = true
		b, err := os.ReadFile("static/" + file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if strings.HasPrefix(file, "vendor/") {
			// Minified: imports are inline.
			for _, m := range regexp.MustCompile(`from"(\./[^"]+)"`).FindAllStringSubmatch(string(b), -1) {
				walk(path.Join(path.Dir(file), m[1]))
			}
			return
		}
		for _, m := range staticImport.FindAllStringSubmatch(string(b), -1) {
			walk(path.Join(path.Dir(file), m[1]))
		}
	}
	walk("js/app.js")
	for f := range need {
		if !preloaded[f] {
			t.Errorf("%s is imported by the first page but not preloaded (web.go, New)", f)
		}
	}
	for f := range preloaded {
		if !need[f] {
			t.Errorf("%s is preloaded but the first page does not import it", f)
		}
	}
}
