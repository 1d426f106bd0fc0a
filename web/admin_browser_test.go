package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"changemaker/internal/browsertest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

// TestAdminUploadPublishAndPlay: an anonymous visitor of /admin/media gets
// the login page and comes back there after signing in; the admin cancels
// an upload half way, uploads a real video with the progress bar, sees its
// thumbnail appear (the media worker runs in process), publishes it, signs
// out; a visitor on a phone finds it in the gallery, plays it (time
// advances, seeking works), which counts a view, and reacts.
func TestAdminUploadPublishAndPlay(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	admEnableGallery(t, site.env)
	admin := site.env.CreateUser(storage.RoleSuperAdmin, "")
	video := admVideo(t, "demo-clip.webm", "3")
	// A large file for the cancelled upload: its bytes do not matter, as
	// it never arrives.
	big := filepath.Join(t.TempDir(), "big-clip.webm")
	if err := os.WriteFile(big, make([]byte, 48<<20), 0o644); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/admin/media")
	p.Poll("the login page", `location.pathname === '/login'`)
	admSignIn(p, admin.Email)
	p.Poll("back at /admin/media", `location.pathname === '/admin/media'`)
	p.WaitText("Upload videos")

	// Cancel: the upload stalls after its first bytes (the proxy holds it),
	// the bar shows part of the file sent, and Cancel stops it.
	release := site.holdUploads()
	t.Cleanup(release)
	p.Run("choose the big file", chromedp.SetUploadFiles(chromedp.CSS("#media-file"), []string{big}))
	p.Poll("the upload under way", `(() => { const li = document.querySelector('.upload-item[data-state="uploading"]');
		return li && Number(li.dataset.loaded) > 0 && li.querySelector('progress') && li.querySelector('progress').value < 100; })()`)
	p.Click(`.upload-item[data-state="uploading"] button`)
	p.Poll("the upload cancelled", `document.querySelector('.upload-item[data-state="cancelled"]') !== null`)
	release()
	if _, n, err := site.env.Store.ListVideos(context.Background(), storage.VideoFilter{Limit: 10}); err != nil || n != 0 {
		t.Fatalf("after a cancelled upload the library holds %d videos (%v), want none", n, err)
	}

	// The real upload: it completes with the whole file counted by the bar.
	p.Run("choose the video", chromedp.SetUploadFiles(chromedp.CSS("#media-file"), []string{video}))
	p.Poll("the upload done", `document.querySelector('.upload-item[data-state="done"]') !== null`)
	info, err := os.Stat(video)
	if err != nil {
		t.Fatal(err)
	}
	var loaded string
	p.Eval(`document.querySelector('.upload-item[data-state="done"]').dataset.loaded`, &loaded)
	if n, _ := strconv.ParseInt(loaded, 10, 64); n < info.Size() {
		t.Errorf("the progress bar counted %s bytes of %d", loaded, info.Size())
	}
	// The thumbnail appears once the media worker has made it.
	p.Poll("the thumbnail", `(() => { const img = document.querySelector('.video-card[data-status="ready"] img.thumb');
		return img && img.complete && img.naturalWidth > 0; })()`)
	p.Click(`.video-card[data-status="ready"] .form-actions button`)
	p.WaitText("in the gallery")
	p.CheckNoHorizontalScroll()
	p.Screenshot("admin-media")
	p.CheckClean()

	// A duplicate is shown as a link to the video already there.
	p.Run("choose the same video again", chromedp.SetUploadFiles(chromedp.CSS("#media-file"), []string{video}))
	p.Poll("the duplicate", `document.querySelector('.upload-item[data-state="duplicate"] a[href^="/admin/media/"]') !== null`)

	vids, _, err := site.env.Store.ListVideos(context.Background(), storage.VideoFilter{Published: true, Limit: 10})
	if err != nil || len(vids) != 1 {
		t.Fatalf("published videos = %d (%v), want 1", len(vids), err)
	}
	id := vids[0].ID

	// Sign out; the visitor is anonymous.
	p.Click(`.admin-bar button`)
	p.Poll("signed out", `location.pathname === '/login' && !localStorage.getItem('cm.session')`)

	v := b.Page(t, browsertest.Phone())
	v.Navigate(site.base + "/gallery")
	v.WaitVisible(".gallery-item a")
	v.Poll("the thumbnail in the grid", `(() => { const img = document.querySelector('.gallery-thumb'); return img && img.complete && img.naturalWidth > 0; })()`)
	v.Click(".gallery-item a")
	v.Poll("the player page", fmt.Sprintf(`location.pathname === '/gallery/%d'`, id))
	v.WaitVisible("video")
	v.Poll("the video's metadata", `document.querySelector('video').readyState >= 1`)
	v.Eval(`(async () => { const el = document.querySelector('video'); el.muted = true; await el.play(); return true; })()`, nil)
	v.Poll("playback advancing", `document.querySelector('video').currentTime > 0.3`)
	v.WaitText("1 view")
	// Seeking: the browser asks for the bytes at 2 s (a Range request).
	v.Eval(`(async () => { const el = document.querySelector('video'); el.pause();
		await new Promise((ok) => { el.addEventListener('seeked', ok, {once: true}); el.currentTime = 2; }); return true; })()`, nil)
	var at float64
	v.Eval(`document.querySelector('video').currentTime`, &at)
	if at < 1.9 || at > 2.1 {
		t.Errorf("after seeking to 2 s the video is at %.2f s", at)
	}
	v.Poll("the frame at 2 s decoded", `document.querySelector('video').readyState >= 2`)

	v.Click(`button[data-reaction="love"]`)
	v.Poll("the reaction recorded", `(() => { const b = document.querySelector('button[data-reaction="love"]');
		return b.getAttribute('aria-pressed') === 'true' && b.querySelector('.reaction-count').textContent.trim() === '1'; })()`)
	counts, err := site.env.Store.ReactionCounts(context.Background(), []int64{id})
	if err != nil || counts[id]["love"] != 1 {
		t.Fatalf("stored reactions = %v (%v), want one love", counts[id], err)
	}
	v.CheckClean()
}

// TestAdminRolesAndLogin: a USER sees no admin menu and gets the login page
// for admin URLs; an INFLUENCE_ADMIN's menu lacks what only SUPER_ADMIN may
// use; an anonymous visitor of a deep admin URL signs in and lands there.
func TestAdminRolesAndLogin(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	user := site.env.CreateUser(storage.RoleUser, "")
	inf := site.env.CreateUser(storage.RoleInfluenceAdmin, "")
	super := site.env.CreateUser(storage.RoleSuperAdmin, "")
	b := browsertest.New(t)

	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/login")
	admSignIn(p, user.Email)
	// After signing in the login page sends people to /admin, which sends
	// a USER back to the login page.
	p.Poll("the login page again", `location.pathname === '/login' && document.querySelector('#login-email') !== null`)
	for _, path := range []string{"/admin", "/admin/users", "/admin/settings", "/admin/media"} {
		p.Navigate(site.base + path)
		p.Poll("the login page for "+path, `location.pathname === '/login' && document.querySelector('#login-email') !== null`)
		var menu bool
		p.Eval(`document.querySelector('.admin-menu, a[href="/admin"]') !== null`, &menu)
		if menu {
			t.Fatalf("a USER sees an admin menu or link at %s", path)
		}
	}
	p.Eval(`localStorage.clear(), true`, nil)

	// INFLUENCE_ADMIN: campaigns, responses and media; no users, settings, queues.
	p.Navigate(site.base + "/admin")
	p.Poll("the login page", `location.pathname === '/login'`)
	admSignIn(p, inf.Email)
	p.WaitVisible(".admin-menu")
	menu := admMenu(p)
	for _, want := range []string{"Dashboard", "Campaigns", "Responses", "Media"} {
		if !strings.Contains(menu, want) {
			t.Errorf("INFLUENCE_ADMIN's menu %q lacks %s", menu, want)
		}
	}
	for _, not := range []string{"Users", "Settings", "Queues"} {
		if strings.Contains(menu, not) {
			t.Errorf("INFLUENCE_ADMIN's menu %q offers %s", menu, not)
		}
	}
	p.Navigate(site.base + "/admin/users")
	p.WaitText("may not use this page")
	p.Click(`.admin-bar button`)
	p.Poll("signed out", `location.pathname === '/login'`)

	// Anonymous → /admin/users → login → back at /admin/users.
	p.Navigate(site.base + "/admin/users?search=x")
	p.Poll("the login page", `location.pathname === '/login'`)
	admSignIn(p, super.Email)
	p.Poll("back at the users page", `location.pathname === '/admin/users' && location.search === '?search=x'`)
	p.WaitText(user.Email)
	menu = admMenu(p)
	for _, want := range []string{"Users", "Settings", "Queues"} {
		if !strings.Contains(menu, want) {
			t.Errorf("SUPER_ADMIN's menu %q lacks %s", menu, want)
		}
	}
	p.CheckClean()
}

func admMenu(p *browsertest.Page) string {
	var s string
	p.Eval(`document.querySelector('.admin-menu').innerText`, &s)
	return s
}

// TestAdminModeration: a pending response approved in the GUI shows on the
// campaign's public wall.
func TestAdminModeration(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	admEnableGallery(t, site.env)
	ctx := context.Background()
	owner := site.env.CreateUser(storage.RoleInfluenceAdmin, "")
	title, status, wall := "Fix the bridge", storage.CampaignActive, true
	camp, err := site.env.Store.CreateCampaign(ctx, storage.CampaignFields{Title: &title, Status: &status, ShowResponseWall: &wall}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.env.Store.CreateResponse(ctx, storage.Response{CampaignID: camp.ID, RepresentativeName: "Jane Rep",
		ResponseType: "EMAIL", ResponseText: "We will fund the bridge repairs this spring.", SubmitterName: "Sam",
		SubmitterEmail: "sam@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.env.Store.VerifyResponse(ctx, r.ID); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/c/" + camp.Slug + "/responses")
	p.WaitText(title)
	if strings.Contains(p.Text(), "fund the bridge") {
		t.Fatal("the wall shows a response before it is approved")
	}
	spam, err := site.env.Store.CreateResponse(ctx, storage.Response{CampaignID: camp.ID, RepresentativeName: "Nobody",
		ResponseType: "OTHER", ResponseText: "Buy cheap watches", SubmitterName: "Bot", SubmitterEmail: "bot@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	p.Navigate(site.base + "/admin/responses")
	admSignIn(p, owner.Email)
	p.WaitText("Buy cheap watches")
	p.Eval(`[...document.querySelectorAll('.response-item')].find((li) => li.innerText.includes('Buy cheap watches'))
		.querySelector('.form-actions .button-secondary').click(), true`, nil)
	p.WaitVisible(fmt.Sprintf(`#reason-%d`, spam.ID))
	p.Type(fmt.Sprintf(`#reason-%d`, spam.ID), "advertising")
	p.Click(`.response-item form .button-danger`)
	p.Poll("the rejected one gone", `!document.body.innerText.includes('Buy cheap watches')`)
	if got, err := site.env.Store.ResponseByID(ctx, spam.ID); err != nil || got.Status != storage.ResponseRejected || got.ModerationNote != "advertising" {
		t.Fatalf("rejected response = %+v (%v), want REJECTED with the reason", got, err)
	}
	p.WaitText("fund the bridge")
	p.Screenshot("admin-responses")
	p.Click(".response-item .form-actions button")
	p.Poll("the queue emptied", `document.body.innerText.includes('Nothing here.')`)
	got, err := site.env.Store.ResponseByID(ctx, r.ID)
	if err != nil || got.Status != storage.ResponseApproved {
		t.Fatalf("response status %q (%v), want APPROVED", got.Status, err)
	}
	p.Navigate(site.base + "/c/" + camp.Slug + "/responses")
	p.WaitText("We will fund the bridge repairs this spring.")
	p.CheckClean()
}

// TestAdminScriptPayloads: what people write (video titles, user names,
// response text, campaign titles) is shown as text in the admin lists and
// never runs.
func TestAdminScriptPayloads(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	ctx := context.Background()
	const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`
	super := site.env.CreateUser(storage.RoleSuperAdmin, "")
	if _, err := site.env.Store.CreateUser(ctx, storage.NewUser{Email: "xss@example.test", Name: `<svg onload="window.__pwned=1">`,
		PasswordHash: "x", Role: storage.RoleUser}); err != nil {
		t.Fatal(err)
	}
	title, status := payload+" campaign", storage.CampaignActive
	camp, err := site.env.Store.CreateCampaign(ctx, storage.CampaignFields{Title: &title, Status: &status}, super.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.env.Store.CreateResponse(ctx, storage.Response{CampaignID: camp.ID, RepresentativeName: payload,
		ResponseType: "EMAIL", ResponseText: payload + " response", SubmitterName: payload, SubmitterEmail: "s@example.test"}); err != nil {
		t.Fatal(err)
	}
	// A video with the payload as its title, uploaded through the API.
	admUpload(t, site.base, site.env.Token(super), admVideo(t, "x.webm", "1"), payload+" video")

	b := browsertest.New(t)
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/admin")
	admSignIn(p, super.Email)
	p.WaitVisible(".admin-menu")
	for _, c := range []struct{ path, text string }{
		{"/admin/users", `<svg onload="window.__pwned=1">`},
		{"/admin/campaigns", payload + " campaign"},
		{"/admin/responses", payload + " response"},
		{"/admin/media", payload + " video"},
	} {
		p.Navigate(site.base + c.path)
		p.WaitText(c.text) // shown as the text it is
		var pwned bool
		p.Eval(`window.__pwned === 1`, &pwned)
		if pwned {
			t.Fatalf("a payload ran on %s", c.path)
		}
	}
	p.CheckClean()
}

// TestAdminPages: a SUPER_ADMIN creates and publishes a campaign, sends a
// test email from the settings (it arrives at the SMTP server), and the
// main admin pages are photographed for the README.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	super := site.env.CreateUser(storage.RoleSuperAdmin, "")
	for i := 0; i < 3; i++ {
		site.env.CreateUser(storage.RoleInfluenceAdmin, "")
	}
	b := browsertest.New(t)
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/admin")
	admSignIn(p, super.Email)
	p.WaitText("Emails today")
	p.WaitText("Queues")

	// A campaign, created and published through the pages.
	p.Navigate(site.base + "/admin/campaigns/new")
	p.WaitVisible("#cf-title")
	p.Type("#cf-title", "Save the library")
	p.Type("#cf-description", "Our branch library is closing. Write to your representatives.")
	p.Type("#cf-emailSubject", "Keep our library open")
	p.Type("#cf-emailBody", "Dear {{representativeName}}, please keep it open. {{senderName}}")
	p.Click("#cf-showResponseWall")
	p.Click(`form.panel button[type="submit"]`)
	p.Poll("the campaign page", `/^\/admin\/campaigns\/\d+$/.test(location.pathname)`)
	p.WaitText("Publish")
	p.Click(".panel .form-actions button") // Publish is the first action of a draft
	p.Poll("published", `document.querySelector('.state-active') !== null`)
	list, _, err := site.env.Store.ListCampaigns(context.Background(), storage.CampaignFilter{Status: storage.CampaignActive, Limit: 5})
	if err != nil || len(list) != 1 || list[0].Title != "Save the library" || !list[0].ShowResponseWall {
		t.Fatalf("active campaigns = %+v (%v), want the one made in the page with its wall on", list, err)
	}
	p.Screenshot("admin-campaign")

	// The email log: a failed email, retried from the page, is queued again.
	failed, err := site.env.Store.InsertEmails(context.Background(), []storage.CampaignEmail{{CampaignID: list[0].ID,
		Method: storage.MethodSMTP, Status: storage.EmailQueued, SenderName: "Pat", SenderEmail: "pat@example.test",
		RecipientKind: "CUSTOM", RecipientName: "Councillor", RecipientEmail: "councillor@example.test", Subject: "s", Body: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.env.Store.RecordEmailAttempt(context.Background(), failed[0].ID, "550 mailbox unavailable", true); err != nil {
		t.Fatal(err)
	}
	p.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", site.base, list[0].ID))
	p.WaitText("550 mailbox unavailable")
	p.Click(`#log-h ~ .table-wrap td button`)
	p.Poll("the email queued again", `document.querySelector('#log-h ~ .table-wrap .state').textContent === 'QUEUED'`)

	// Settings: the test email reaches the SMTP server.
	p.Navigate(site.base + "/admin/settings")
	p.WaitVisible("#test-to")
	p.Type("#test-to", "organizer@example.test")
	p.Click(`#test-h ~ form button[type="submit"]`)
	p.WaitText("Sent through")
	msgs := site.smtp.WaitFor(t, 1, 15*time.Second)
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "organizer@example.test" {
		t.Fatalf("test email to %v", msgs[0].To)
	}
	p.Screenshot("admin-settings")

	// The SMTP password is write-only: saved, never shown again.
	const secret = "smtp-Secret-42"
	p.Type("#s-pass", secret)
	p.Click(`form > .form-actions button[type="submit"]`)
	p.WaitText("Saved.")
	p.Navigate(site.base + "/admin/settings")
	p.WaitText("A password is set; it is never shown.")
	var shown string
	p.Eval(`document.querySelector('#s-pass').value + document.documentElement.outerHTML`, &shown)
	if strings.Contains(shown, secret) {
		t.Fatal("the settings page shows the SMTP password")
	}
	st, err := site.env.Store.GetSettings(context.Background())
	if err != nil || len(st.SMTPPasswordEnc) == 0 {
		t.Fatalf("the password was not saved (%v)", err)
	}

	// Users: create one (its generated password is shown once), then make
	// it an INFLUENCE_ADMIN.
	p.Navigate(site.base + "/admin/users")
	p.Click("details.panel summary")
	p.Type("#nu-email", "new.organizer@example.test")
	p.Type("#nu-name", "New Organizer")
	p.Click(`details.panel form button[type="submit"]`)
	p.WaitText("shown only now")
	p.Poll("the new user listed", `document.querySelector('table').innerText.includes('new.organizer@example.test')`)
	p.Click(`button[aria-label="Edit new.organizer@example.test"]`)
	p.Run("choose a role", chromedp.SetValue(chromedp.CSS("tr.editing select"), "INFLUENCE_ADMIN"))
	p.Eval(`document.querySelector('tr.editing select').dispatchEvent(new Event('change', {bubbles: true})), true`, nil)
	p.Click(`tr.editing button[type="submit"]`)
	p.Poll("the role saved", `!document.querySelector('tr.editing') && document.querySelector('table').innerText.includes('INFLUENCE_ADMIN')`)
	created, err := site.env.Store.UserByEmail(context.Background(), "new.organizer@example.test")
	if err != nil || created.Role != storage.RoleInfluenceAdmin || created.Name != "New Organizer" {
		t.Fatalf("the user made in the page = %+v (%v), want an INFLUENCE_ADMIN named New Organizer", created, err)
	}

	for _, page := range []struct{ path, text, shot string }{
		{"/admin", "Emails today", "admin-dashboard"},
		{"/admin/users", super.Email, "admin-users"},
		{"/admin/campaigns", "Save the library", "admin-campaigns"},
		{"/admin/media/jobs", "Media jobs", "admin-media-jobs"},
	} {
		p.Navigate(site.base + page.path)
		p.WaitText(page.text)
		p.CheckNoHorizontalScroll()
		p.Screenshot(page.shot)
	}
	p.CheckClean()
}

// TestAdminMediaJobs: the jobs view lists a waiting media job, Cancel
// archives it, Retry runs it (the page follows both as they happen).
func TestAdminMediaJobs(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	super := site.env.CreateUser(storage.RoleSuperAdmin, "")
	// A probe of a video that does not exist, due in an hour: it waits as
	// scheduled, and when run it finds nothing to do and completes.
	task, err := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: 999999})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.env.Deps.Queue.Enqueue(task, asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(site.base + "/admin/media/jobs")
	admSignIn(p, super.Email)
	p.WaitText("Scheduled (1)")
	p.Click(`.tabs button:nth-child(3)`) // Scheduled
	p.WaitText("media:probe:999999")
	p.Click(`td button.button-secondary`) // Cancel
	p.WaitText("Failed for good (1)")
	p.Click(`.tabs button:nth-child(5)`) // Failed for good
	p.WaitText("media:probe:999999")
	p.Click(`td button:not(.button-secondary)`) // Retry
	p.WaitText("Failed for good (0)")
	testenv.Eventually(t, 30*time.Second, "the retried job to run", func() bool {
		info, err := site.env.Deps.Inspector.GetTaskInfo("media", "media:probe:999999")
		return errors.Is(err, asynq.ErrTaskNotFound) || (err == nil && info.State == asynq.TaskStateCompleted)
	})
	p.CheckClean()
}
