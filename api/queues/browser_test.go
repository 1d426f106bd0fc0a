package queues_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

// TestDashboardInRealBrowser signs in through the dashboard's own form in
// headless Chromium and waits for asynqmon's UI to render its queue list.
// Chromium comes from Debian's package (scripts/install-deps.sh).
func TestDashboardInRealBrowser(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed; scripts/install-deps.sh installs it")
	}
	env := testenv.NewAPI(t)
	base := testenv.Serve(t, env.Main)
	admin := env.CreateUser(storage.RoleSuperAdmin, "")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// A queued task gives the dashboard something to list: its queue name
	// can only appear after the page's own API calls, carried by the cookie,
	// came back with data.
	task, err := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Deps.Queue.Enqueue(task, asynq.Queue("browsertest")); err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/api/admin/queues"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), admin.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), testenv.Password),
		// A click, as a person signs in (form.submit() would skip the handler).
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "Queue Size")]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "browsertest")]`)),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, `id="f"`) {
		t.Fatal("still on the sign-in page after submitting")
	}
}
