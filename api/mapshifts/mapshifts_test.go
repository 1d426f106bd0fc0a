package mapshifts_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

type shiftOut struct {
	ID          int64  `json:"id"`
	SeriesID    *int64 `json:"seriesId"`
	Title       string `json:"title"`
	Date        string `json:"date"`
	Location    string `json:"location"`
	Capacity    int    `json:"capacity"`
	SignupCount int    `json:"signupCount"`
	SpotsLeft   int    `json:"spotsLeft"`
	Status      string `json:"status"`
}

// future is a date well after any test run, a Monday.
const future = "2030-01-07"

func createShift(t *testing.T, env *testenv.API, token string, body map[string]any) []shiftOut {
	t.Helper()
	in := map[string]any{"title": "Door knocking", "date": future, "startTime": "10:00", "endTime": "13:00",
		"location": "Campaign office", "capacity": 10}
	for k, v := range body {
		in[k] = v
	}
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/shifts", Token: token, Body: in})
	if res.Status != 201 {
		t.Fatalf("create shift = %d %s", res.Status, res.Body)
	}
	var out struct {
		Shifts []shiftOut `json:"shifts"`
	}
	res.JSON(t, &out)
	return out.Shifts
}

func getShift(t *testing.T, env *testenv.API, token string, id int64) shiftOut {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/shifts/%d", id), Token: token})
	if res.Status != 200 {
		t.Fatalf("get shift %d = %d %s", id, res.Status, res.Body)
	}
	var out struct {
		Shift shiftOut `json:"shift"`
	}
	res.JSON(t, &out)
	return out.Shift
}

// TestSimultaneousSignupsNeverExceedCapacity: fifty volunteers sign up for
// ten places at the same instant: exactly ten get one, forty a 409.
func TestSimultaneousSignupsNeverExceedCapacity(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	shift := createShift(t, env, admin, map[string]any{"capacity": 10})[0]
	tokens := make([]string, 50)
	for i := range tokens {
		role := storage.RoleTemp
		if i%2 == 0 {
			role = storage.RoleUser
		}
		tokens[i] = env.TokenFor(role)
	}
	statuses := make([]int, len(tokens))
	codes := make([]string, len(tokens))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: tok,
				Path: fmt.Sprintf("/api/map/shifts/%d/signup", shift.ID)})
			statuses[i], codes[i] = res.Status, res.ErrorCode()
		}()
	}
	close(start)
	wg.Wait()
	created, full := 0, 0
	for i, s := range statuses {
		switch {
		case s == 201:
			created++
		case s == 409 && codes[i] == "conflict":
			full++
		default:
			t.Errorf("signup %d = %d %s", i, s, codes[i])
		}
	}
	if created != 10 || full != 40 {
		t.Fatalf("created %d, refused %d; want 10 and 40", created, full)
	}
	got := getShift(t, env, admin, shift.ID)
	if got.SignupCount != 10 || got.Status != "FULL" || got.SpotsLeft != 0 {
		t.Fatalf("shift = %+v, want 10 signups, FULL", got)
	}
	var rows int
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM map_shift_signups WHERE shift_id = $1`,
		shift.ID).Scan(&rows); err != nil || rows != 10 {
		t.Fatalf("signup rows = %d (%v), want 10", rows, err)
	}
	t.Run("a place freed is a place taken", func(t *testing.T) {
		var winner, loser string
		for i, s := range statuses {
			if s == 201 && winner == "" {
				winner = tokens[i]
			}
			if s == 409 && loser == "" {
				loser = tokens[i]
			}
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Token: winner,
			Path: fmt.Sprintf("/api/map/shifts/%d/signup", shift.ID)})
		if res.Status != 204 {
			t.Fatalf("cancel = %d %s", res.Status, res.Body)
		}
		if got := getShift(t, env, admin, shift.ID); got.Status != "OPEN" || got.SignupCount != 9 {
			t.Fatalf("after a cancel: %+v, want OPEN with 9", got)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: loser,
			Path: fmt.Sprintf("/api/map/shifts/%d/signup", shift.ID)})
		if res.Status != 201 {
			t.Fatalf("signup = %d %s", res.Status, res.Body)
		}
		if got := getShift(t, env, admin, shift.ID); got.Status != "FULL" {
			t.Fatalf("status = %s, want FULL", got.Status)
		}
	})
	t.Run("the metric counts the signups made", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/metrics"})
		if want := `cm_map_shift_signups_total{source="SELF"} 11`; !strings.Contains(string(res.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	})
	t.Run("capacity cannot drop below the signups", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d", shift.ID), Body: map[string]any{"capacity": 5}})
		if res.Status != 409 {
			t.Fatalf("= %d %s, want 409", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d", shift.ID), Body: map[string]any{"capacity": 12}})
		if got := getShift(t, env, admin, shift.ID); res.Status != 200 || got.Status != "OPEN" || got.SpotsLeft != 2 {
			t.Fatalf("raise capacity = %d, shift %+v", res.Status, got)
		}
	})
}

// TestSeriesEdits: a weekly series, edited for one shift, for it and the
// later ones, and for all.
func TestSeriesEdits(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	series := createShift(t, env, admin, map[string]any{"repeat": map[string]any{"weeks": 4, "weekdays": []string{"MON", "WED"}}})
	wantDates := []string{"2030-01-07", "2030-01-09", "2030-01-14", "2030-01-16", "2030-01-21", "2030-01-23",
		"2030-01-28", "2030-01-30"}
	if len(series) != len(wantDates) || series[0].SeriesID == nil {
		t.Fatalf("series = %+v", series)
	}
	for i, s := range series {
		if s.Date != wantDates[i] || *s.SeriesID != *series[0].SeriesID {
			t.Fatalf("shift %d = %+v, want date %s in series %d", i, s, wantDates[i], *series[0].SeriesID)
		}
	}
	patch := func(i int, scope string, body map[string]any) int {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin, Body: body,
			Path: fmt.Sprintf("/api/map/shifts/%d?scope=%s", series[i].ID, scope)})
		return res.Status
	}
	current := func() []shiftOut {
		out := make([]shiftOut, len(series))
		for i, s := range series {
			out[i] = getShift(t, env, admin, s.ID)
		}
		return out
	}
	if s := patch(2, "this", map[string]any{"title": "Special canvass", "date": "2030-01-15"}); s != 200 {
		t.Fatalf("this = %d", s)
	}
	if s := patch(4, "following", map[string]any{"location": "North library"}); s != 200 {
		t.Fatalf("following = %d", s)
	}
	if s := patch(5, "all", map[string]any{"capacity": 25}); s != 200 {
		t.Fatalf("all = %d", s)
	}
	for i, s := range current() {
		wantTitle, wantLoc, wantDate := "Door knocking", "Campaign office", wantDates[i]
		if i == 2 {
			wantTitle, wantDate = "Special canvass", "2030-01-15"
		}
		if i >= 4 {
			wantLoc = "North library"
		}
		if s.Title != wantTitle || s.Location != wantLoc || s.Date != wantDate || s.Capacity != 25 {
			t.Errorf("shift %d = %+v, want %q at %q on %s, capacity 25", i, s, wantTitle, wantLoc, wantDate)
		}
	}
	t.Run("the date moves only with scope this", func(t *testing.T) {
		if s := patch(1, "all", map[string]any{"date": "2030-02-01"}); s != 400 {
			t.Fatalf("= %d, want 400", s)
		}
	})
	t.Run("delete this and following", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d?scope=following", series[6].ID)})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"deleted":2`) {
			t.Fatalf("delete = %d %s", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts?seriesId=%d", *series[0].SeriesID)})
		if !strings.Contains(string(res.Body), `"total":6`) {
			t.Fatalf("list = %s, want 6 left", res.Body)
		}
	})
}

// TestSignupEmailsAndPublicRoutes: the public list and form, the emails
// that follow signups and cancellations, and the CSV export.
func TestSignupEmailsAndPublicRoutes(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Canvass.SignupRateLimit = 4 })
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	public := createShift(t, env.API, admin, map[string]any{"isPublic": true, "capacity": 3, "title": "Saturday blitz"})[0]
	private := createShift(t, env.API, admin, map[string]any{"title": "Staff only"})[0]
	publicSignup := func(id int64, name, email, ip string) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/public/map/shifts/%d/signup", id),
			Body: map[string]any{"name": name, "email": email}, Header: map[string]string{"X-Real-Ip": ip}})
	}

	t.Run("the public list holds open public shifts and no personal data", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/map/shifts"})
		body := string(res.Body)
		if res.Status != 200 || !strings.Contains(body, "Saturday blitz") || strings.Contains(body, "Staff only") ||
			!strings.Contains(body, `"total":1`) || strings.Contains(body, "signupCount") {
			t.Fatalf("public list = %d %s", res.Status, body)
		}
	})
	res := publicSignup(public.ID, "Pat Public", "pat@home.example", "198.51.100.7")
	if res.Status != 201 {
		t.Fatalf("public signup = %d %s", res.Status, res.Body)
	}
	msgs := env.SMTP.WaitFor(t, 1, 15*time.Second)
	t.Run("a TEMP account is made and confirmed by email", func(t *testing.T) {
		u, err := env.Store.UserByEmail(context.Background(), "pat@home.example")
		if err != nil || u.Role != storage.RoleTemp || u.Name != "Pat Public" {
			t.Fatalf("user = %+v, %v", u, err)
		}
		if msgs[0].To[0] != "pat@home.example" || !strings.Contains(msgs[0].Subject(), "Saturday blitz") ||
			!strings.Contains(msgs[0].Text(), "2030-01-07") {
			t.Fatalf("confirmation = %v %q %q", msgs[0].To, msgs[0].Subject(), msgs[0].Text())
		}
		if strings.Contains(string(res.Body), "pat@home.example") {
			t.Fatalf("the public answer echoes the email: %s", res.Body)
		}
	})
	t.Run("signing up again reuses the account and sends nothing", func(t *testing.T) {
		again := publicSignup(public.ID, "Pat P.", "PAT@home.example", "198.51.100.7")
		if again.Status != 200 || !strings.Contains(string(again.Body), `"alreadySignedUp":true`) {
			t.Fatalf("again = %d %s", again.Status, again.Body)
		}
		var n int
		if err := env.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE lower(email) = 'pat@home.example'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("accounts = %d, %v", n, err)
		}
		if err := env.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM map_shift_emails`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("emails queued = %d, %v", n, err)
		}
	})
	t.Run("a private shift is not found by the public form", func(t *testing.T) {
		if res := publicSignup(private.ID, "Pat", "pat2@home.example", "198.51.100.8"); res.Status != 404 {
			t.Fatalf("= %d %s, want 404", res.Status, res.Body)
		}
		if _, err := env.Store.UserByEmail(context.Background(), "pat2@home.example"); err == nil {
			t.Fatal("an account was made for a refused signup")
		}
	})
	t.Run("a full shift answers 409", func(t *testing.T) {
		for _, who := range []string{"sam", "kim"} {
			if res := publicSignup(public.ID, who, who+"@home.example", "198.51.100.9"); res.Status != 201 {
				t.Fatalf("%s = %d %s", who, res.Status, res.Body)
			}
		}
		if res := publicSignup(public.ID, "Lee", "lee@home.example", "198.51.100.10"); res.Status != 409 {
			t.Fatalf("= %d %s, want 409", res.Status, res.Body)
		}
		list := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/map/shifts"})
		if !strings.Contains(string(list.Body), `"total":0`) {
			t.Fatalf("a full shift is still listed: %s", list.Body)
		}
	})
	t.Run("the public form is rate limited per client", func(t *testing.T) {
		var last int
		for i := range 5 {
			last = publicSignup(public.ID, "Flood", fmt.Sprintf("flood%d@home.example", i), "203.0.113.1").Status
		}
		if last != 429 {
			t.Fatalf("fifth signup from one client = %d, want 429", last)
		}
	})
	t.Run("the CSV export lists the volunteers", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d/signups/export", public.ID)})
		body := string(res.Body)
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(body, "signup_id,user_id,name,email") || strings.Count(body, "\n") != 4 ||
			!strings.Contains(body, "pat@home.example") {
			t.Fatalf("export = %d %s", res.Status, body)
		}
	})
	t.Run("removal and cancellation email the volunteers", func(t *testing.T) {
		pat, err := env.Store.UserByEmail(context.Background(), "pat@home.example")
		if err != nil {
			t.Fatal(err)
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d/signups/%d", public.ID, pat.ID)})
		if res.Status != 204 {
			t.Fatalf("remove = %d %s", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin,
			Path: fmt.Sprintf("/api/map/shifts/%d", public.ID), Body: map[string]any{"status": "CANCELLED"}})
		if res.Status != 200 {
			t.Fatalf("cancel = %d %s", res.Status, res.Body)
		}
		// 3 confirmations, then Pat's removal and the two left on the cancelled shift.
		msgs := env.SMTP.WaitFor(t, 6, 15*time.Second)
		cancellations := map[string]int{}
		for _, m := range msgs {
			if strings.HasPrefix(m.Subject(), "Shift cancelled") {
				cancellations[m.To[0]]++
			}
		}
		if len(cancellations) != 3 || cancellations["pat@home.example"] != 1 || cancellations["sam@home.example"] != 1 {
			t.Fatalf("cancellations = %v", cancellations)
		}
		if res := publicSignup(public.ID, "Late", "late@home.example", "198.51.100.11"); res.Status != 409 {
			t.Fatalf("signup to a cancelled shift = %d", res.Status)
		}
	})
}

// TestShiftEmailsInTheSignupLanguage: a signup made in French (the form's
// lang field, the pages' cm_lang cookie, or a French browser) gets its
// confirmation and, later, its cancellation in French at the SMTP server;
// English otherwise. The explicit field wins over the cookie, the cookie
// over Accept-Language.
func TestShiftEmailsInTheSignupLanguage(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Canvass.SignupRateLimit = 100 })
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	shift := createShift(t, env.API, admin, map[string]any{"isPublic": true, "title": "Porte-à-porte",
		"startTime": "10:00", "endTime": "13:30", "location": "Local de campagne"})[0]
	signup := func(body map[string]any, header map[string]string) *testenv.Response {
		t.Helper()
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Body: body, Header: header,
			Path: fmt.Sprintf("/api/public/map/shifts/%d/signup", shift.ID)})
	}
	cases := []struct {
		email  string
		lang   string // the body's lang field, when set
		header map[string]string
		french bool
	}{
		{"field@home.example", "fr", map[string]string{"Accept-Language": "en-CA,en;q=0.9", "Cookie": "cm_lang=en"}, true},
		{"cookie@home.example", "", map[string]string{"Accept-Language": "en-CA,en;q=0.9", "Cookie": "cm_lang=fr"}, true},
		{"browser@home.example", "", map[string]string{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.8"}, true},
		{"switched@home.example", "", map[string]string{"Accept-Language": "fr-CA,fr;q=0.9", "Cookie": "cm_lang=en"}, false},
		{"chosen@home.example", "en", map[string]string{"Accept-Language": "fr", "Cookie": "cm_lang=fr"}, false},
		{"nothing@home.example", "", nil, false},
	}
	for i, c := range cases {
		body := map[string]any{"name": "Camille", "email": c.email}
		if c.lang != "" {
			body["lang"] = c.lang
		}
		header := map[string]string{"X-Real-Ip": fmt.Sprintf("198.51.100.%d", 20+i)}
		for k, v := range c.header {
			header[k] = v
		}
		if res := signup(body, header); res.Status != 201 {
			t.Fatalf("signup %s = %d %s", c.email, res.Status, res.Body)
		}
	}
	t.Run("a language the emails are not written in is a 400", func(t *testing.T) {
		res := signup(map[string]any{"name": "Hans", "email": "hans@home.example", "lang": "de"},
			map[string]string{"X-Real-Ip": "198.51.100.60"})
		if res.Status != 400 || !strings.Contains(string(res.Body), `"lang"`) {
			t.Fatalf("= %d %s, want 400 on lang", res.Status, res.Body)
		}
	})

	const nbsp = "\u00a0"
	byRecipient := func(msgs []testenv.SMTPMessage, subjectPrefixes ...string) map[string]testenv.SMTPMessage {
		out := map[string]testenv.SMTPMessage{}
		for _, m := range msgs {
			for _, p := range subjectPrefixes {
				if strings.HasPrefix(m.Subject(), p) {
					out[m.To[0]] = m
				}
			}
		}
		return out
	}
	confirmations := byRecipient(env.SMTP.WaitFor(t, len(cases), 15*time.Second),
		"Inscription confirmée", "You are signed up")
	for _, c := range cases {
		m, ok := confirmations[c.email]
		if !ok {
			t.Fatalf("no confirmation for %s", c.email)
		}
		subject, text := m.Subject(), m.Text()
		if c.french {
			if subject != "Inscription confirmée : Porte-à-porte" || !strings.Contains(text, "Bonjour Camille,") ||
				!strings.Contains(text, "lundi 7 janvier 2030, de 10"+nbsp+"h à 13"+nbsp+"h"+nbsp+"30") ||
				!strings.Contains(text, "Lieu"+nbsp+": Local de campagne") || strings.Contains(text, "Hello") {
				t.Errorf("%s: want French, got %q\n%s", c.email, subject, text)
			}
		} else if subject != "You are signed up: Porte-à-porte" || !strings.Contains(text, "Hello Camille,") ||
			!strings.Contains(text, "2030-01-07, 10:00–13:30") {
			t.Errorf("%s: want English, got %q\n%s", c.email, subject, text)
		}
	}

	t.Run("the cancellation is in the language of the signup", func(t *testing.T) {
		// One taken off by an admin (whose own browser is English), then the
		// whole shift cancelled.
		u, err := env.Store.UserByEmail(context.Background(), "cookie@home.example")
		if err != nil {
			t.Fatal(err)
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Token: admin,
			Header: map[string]string{"Accept-Language": "en"},
			Path:   fmt.Sprintf("/api/map/shifts/%d/signups/%d", shift.ID, u.ID)})
		if res.Status != 204 {
			t.Fatalf("remove = %d %s", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin,
			Header: map[string]string{"Accept-Language": "en"},
			Path:   fmt.Sprintf("/api/map/shifts/%d", shift.ID), Body: map[string]any{"status": "CANCELLED"}})
		if res.Status != 200 {
			t.Fatalf("cancel = %d %s", res.Status, res.Body)
		}
		cancellations := byRecipient(env.SMTP.WaitFor(t, 2*len(cases), 15*time.Second),
			"Quart annulé", "Shift cancelled")
		for _, c := range cases {
			m, ok := cancellations[c.email]
			if !ok {
				t.Fatalf("no cancellation for %s", c.email)
			}
			subject, text := m.Subject(), m.Text()
			if c.french {
				if subject != "Quart annulé : Porte-à-porte" || !strings.Contains(text, "est annulée") {
					t.Errorf("%s: want French, got %q\n%s", c.email, subject, text)
				}
			} else if subject != "Shift cancelled: Porte-à-porte" || !strings.Contains(text, "is cancelled") {
				t.Errorf("%s: want English, got %q\n%s", c.email, subject, text)
			}
		}
	})
}

// TestSelfSignupEmailLanguage: a logged-in volunteer's confirmation follows
// the pages' language too (their route takes no body: cookie, then
// Accept-Language).
func TestSelfSignupEmailLanguage(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	shift := createShift(t, env.API, admin, map[string]any{"title": "Phoning"})[0]
	vol := env.CreateUser(storage.RoleUser, storage.StatusActive)
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: env.Token(vol),
		Header: map[string]string{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
		Path:   fmt.Sprintf("/api/map/shifts/%d/signup", shift.ID)})
	if res.Status != 201 {
		t.Fatalf("signup = %d %s", res.Status, res.Body)
	}
	m := env.SMTP.WaitFor(t, 1, 15*time.Second)[0]
	if m.Subject() != "Inscription confirmée : Phoning" || !strings.Contains(m.Text(), "lundi 7 janvier 2030") {
		t.Fatalf("confirmation = %q\n%s", m.Subject(), m.Text())
	}
}
