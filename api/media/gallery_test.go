package media_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

type publicPage struct {
	Data []struct {
		ID        int64          `json:"id"`
		Title     string         `json:"title"`
		Category  string         `json:"category"`
		ViewCount int64          `json:"viewCount"`
		Reactions map[string]int `json:"reactions"`
	} `json:"data"`
	Pagination struct {
		Total int `json:"total"`
	} `json:"pagination"`
}

// viewerSetup trusts the in-process requests' address (0.0.0.0) as a proxy,
// so a test names each anonymous viewer's address in X-Real-Ip.
func viewerSetup(t *testing.T, opts ...func(*config.Config)) *bundle {
	t.Helper()
	return setup(t, append([]func(*config.Config){func(c *config.Config) { c.TrustedProxies = []string{"0.0.0.0"} }}, opts...)...)
}

func TestGallery(t *testing.T) {
	t.Parallel()
	b := viewerSetup(t)
	a := b.readyVideo(t, "Alpha", []byte("a"))
	c := b.readyVideo(t, "Charlie", []byte("c"))

	list := func(t *testing.T, query string) (publicPage, string) {
		t.Helper()
		res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/public" + query})
		if res.Status != 200 {
			t.Fatalf("public list = %d %s", res.Status, res.Body)
		}
		var p publicPage
		res.JSON(t, &p)
		return p, res.Header.Get("X-Cache")
	}

	t.Run("a video that is not ready cannot be published", func(t *testing.T) {
		v, err := b.env.Store.CreateVideo(context.Background(), storage.NewVideo{Title: "raw", Path: "videos/raw.mp4",
			SHA256: strings.Repeat("ab", 32), Container: "mp4"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := b.do(t, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/media/shared/%d", v.ID), Token: b.manager})
		if res.Status != 409 {
			t.Fatalf("= %d %s, want 409", res.Status, res.Body)
		}
	})
	t.Run("bad publish input", func(t *testing.T) {
		for path, body := range map[string]any{
			fmt.Sprintf("/api/media/shared/%d", a.ID): map[string]string{"category": "Not A Slug"},
			"/api/media/shared/99999":                 nil,
			"/api/media/shared/x":                     nil,
		} {
			res := b.do(t, testenv.Request{Method: "POST", Path: path, Token: b.manager, Body: body})
			if res.Status != 400 && res.Status != 404 {
				t.Errorf("POST %s = %d %s, want 400 or 404", path, res.Status, res.Body)
			}
		}
		if res := b.do(t, testenv.Request{Method: "DELETE", Path: fmt.Sprintf("/api/media/shared/%d", c.ID), Token: b.manager}); res.Status != 404 {
			t.Errorf("unpublish of an unpublished video = %d", res.Status)
		}
		if res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/public?category=BAD!"}); res.Status != 400 {
			t.Errorf("bad category filter = %d", res.Status)
		}
	})
	t.Run("the public list is cached and invalidated by publishing", func(t *testing.T) {
		p, cache := list(t, "")
		if len(p.Data) != 0 || cache != "MISS" {
			t.Fatalf("empty gallery = %+v cache %s", p, cache)
		}
		if _, cache = list(t, ""); cache != "HIT" {
			t.Fatalf("second read cache = %s, want HIT", cache)
		}
		b.publish(t, a.ID, "curated")
		p, cache = list(t, "")
		if len(p.Data) != 1 || p.Data[0].ID != a.ID || p.Data[0].Category != "curated" || cache != "MISS" {
			t.Fatalf("after publish = %+v cache %s", p, cache)
		}
		b.publish(t, c.ID, "highlights")
		if p, _ = list(t, "?category=highlights"); len(p.Data) != 1 || p.Data[0].ID != c.ID {
			t.Fatalf("highlights = %+v", p)
		}
		if p, _ = list(t, ""); p.Pagination.Total != 2 {
			t.Fatalf("all = %+v", p)
		}
		if res := b.do(t, testenv.Request{Method: "DELETE", Path: fmt.Sprintf("/api/media/shared/%d", c.ID), Token: b.manager}); res.Status != 204 {
			t.Fatalf("unpublish = %d %s", res.Status, res.Body)
		}
		if p, cache = list(t, ""); len(p.Data) != 1 || cache != "MISS" {
			t.Fatalf("after unpublish = %+v cache %s", p, cache)
		}
		res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/shared", Token: b.manager})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"total":1`) {
			t.Fatalf("admin shared list = %d %s", res.Status, res.Body)
		}
	})
	t.Run("unpublished videos are not public", func(t *testing.T) {
		for _, p := range []string{"", "/stream", "/thumbnail", "/view"} {
			method := "GET"
			if p == "/view" {
				method = "POST"
			}
			res := b.do(t, testenv.Request{Method: method, Path: fmt.Sprintf("/api/media/public/%d%s", c.ID, p)})
			if res.Status != 404 {
				t.Errorf("%s public/%d%s = %d, want 404", method, c.ID, p, res.Status)
			}
		}
		res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/reactions", Body: map[string]any{"mediaId": c.ID, "type": "like"}})
		if res.Status != 404 {
			t.Errorf("reaction to an unpublished video = %d", res.Status)
		}
	})
	t.Run("a published video streams publicly", func(t *testing.T) {
		res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d/stream", a.ID), Header: map[string]string{"Range": "bytes=0-0"}})
		if res.Status != 206 || string(res.Body) != "a" {
			t.Fatalf("= %d %q", res.Status, res.Body)
		}
	})
	t.Run("a view counts once per viewer per window", func(t *testing.T) {
		path := fmt.Sprintf("/api/media/public/%d/view", a.ID)
		ua := map[string]string{"X-Real-Ip": "203.0.113.1"}
		want := []bool{true, false}
		for i, w := range want {
			res := b.do(t, testenv.Request{Method: "POST", Path: path, Header: ua})
			var out struct {
				Counted   bool  `json:"counted"`
				ViewCount int64 `json:"viewCount"`
			}
			res.JSON(t, &out)
			if res.Status != 200 || out.Counted != w || out.ViewCount != 1 {
				t.Fatalf("view %d = %d %s, want counted=%v views=1", i, res.Status, res.Body, w)
			}
		}
		// Another anonymous viewer, and a signed-in one, count separately.
		b.do(t, testenv.Request{Method: "POST", Path: path, Header: map[string]string{"X-Real-Ip": "203.0.113.2"}})
		b.do(t, testenv.Request{Method: "POST", Path: path, Token: b.user})
		b.do(t, testenv.Request{Method: "POST", Path: path, Token: b.user})
		if v := b.video(t, a.ID); v.ViewCount != 3 {
			t.Fatalf("views = %d, want 3", v.ViewCount)
		}
	})
	t.Run("reactions: add, replace, remove, one per viewer", func(t *testing.T) {
		react := func(token, ip, typ string) (*string, map[string]int) {
			t.Helper()
			res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/reactions", Token: token,
				Header: map[string]string{"X-Real-Ip": ip}, Body: map[string]any{"mediaId": a.ID, "type": typ}})
			var out struct {
				Reaction  *string        `json:"reaction"`
				Reactions map[string]int `json:"reactions"`
			}
			res.JSON(t, &out)
			if res.Status != 200 {
				t.Fatalf("react = %d %s", res.Status, res.Body)
			}
			return out.Reaction, out.Reactions
		}
		r, counts := react(b.user, "203.0.113.9", "like")
		if r == nil || *r != "like" || counts["like"] != 1 {
			t.Fatalf("first like: %v %v", r, counts)
		}
		r, counts = react(b.user, "203.0.113.9", "love")
		if r == nil || *r != "love" || counts["like"] != 0 || counts["love"] != 1 {
			t.Fatalf("switch to love: %v %v", r, counts)
		}
		_, counts = react("", "203.0.113.9", "love")
		if counts["love"] != 2 {
			t.Fatalf("anonymous love: %v", counts)
		}
		r, counts = react(b.user, "203.0.113.9", "love")
		if r != nil || counts["love"] != 1 {
			t.Fatalf("same type again removes: %v %v", r, counts)
		}
		res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d", a.ID), Header: map[string]string{"X-Real-Ip": "203.0.113.9"}})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"myReaction":"love"`) || !strings.Contains(string(res.Body), `"love":1`) {
			t.Fatalf("public detail = %d %s", res.Status, res.Body)
		}
		for _, body := range []any{`{"mediaId":`, map[string]any{"mediaId": a.ID, "type": "meh"}, map[string]any{"mediaId": -1, "type": "like"}, map[string]any{"mediaId": "x", "type": "like"}} {
			if res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/reactions", Body: body}); res.Status != 400 {
				t.Errorf("react %v = %d %s, want 400", body, res.Status, res.Body)
			}
		}
	})
	t.Run("deleting a published video takes it out of the gallery", func(t *testing.T) {
		list(t, "") // warm the cache
		if res := b.do(t, testenv.Request{Method: "DELETE", Path: fmt.Sprintf("/api/media/videos/%d", a.ID), Token: b.owner}); res.Status != 204 {
			t.Fatalf("delete = %d", res.Status)
		}
		if p, _ := list(t, ""); len(p.Data) != 0 {
			t.Fatalf("gallery after delete = %+v", p)
		}
	})
}

// TestAnonymousViewer: an anonymous viewer is their address (an IPv4
// address, or an IPv6 /64), whatever User-Agent they send: changing it adds
// no second reaction and no second view.
func TestAnonymousViewer(t *testing.T) {
	t.Parallel()
	b := viewerSetup(t)
	v := b.readyVideo(t, "viewer", []byte("v"))
	b.publish(t, v.ID, "videos")

	type reaction struct {
		Reaction  *string        `json:"reaction"`
		Reactions map[string]int `json:"reactions"`
	}
	react := func(t *testing.T, ip, ua, typ string) reaction {
		t.Helper()
		res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/reactions",
			Header: map[string]string{"X-Real-Ip": ip, "User-Agent": ua}, Body: map[string]any{"mediaId": v.ID, "type": typ}})
		var out reaction
		res.JSON(t, &out)
		if res.Status != 200 {
			t.Fatalf("react = %d %s", res.Status, res.Body)
		}
		return out
	}
	total := func(counts map[string]int) int {
		n := 0
		for _, c := range counts {
			n += c
		}
		return n
	}
	view := func(t *testing.T, ip, ua string) bool {
		t.Helper()
		res := b.do(t, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/media/public/%d/view", v.ID),
			Header: map[string]string{"X-Real-Ip": ip, "User-Agent": ua}})
		var out struct {
			Counted bool `json:"counted"`
		}
		res.JSON(t, &out)
		if res.Status != 200 {
			t.Fatalf("view = %d %s", res.Status, res.Body)
		}
		return out.Counted
	}

	for _, tc := range []struct{ name, first, same, other string }{
		{"IPv4", "198.51.100.7", "198.51.100.7", "198.51.100.8"},
		{"IPv6, one /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := b.env.Store.Pool.Exec(t.Context(), `DELETE FROM media_reactions`); err != nil {
				t.Fatal(err)
			}
			first := react(t, tc.first, "browser-a", "like")
			if first.Reaction == nil || *first.Reaction != "like" || total(first.Reactions) != 1 {
				t.Fatalf("first reaction: %+v", first)
			}
			// Another User-Agent, and for IPv6 another address in the same
			// /64: the same viewer, whose reaction is replaced, not added to.
			again := react(t, tc.same, "browser-b", "love")
			if again.Reaction == nil || *again.Reaction != "love" || again.Reactions["like"] != 0 || total(again.Reactions) != 1 {
				t.Fatalf("reaction with another User-Agent = %+v, want the first one replaced", again)
			}
			res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d", v.ID),
				Header: map[string]string{"X-Real-Ip": tc.same, "User-Agent": "browser-c"}})
			if res.Status != 200 || !strings.Contains(string(res.Body), `"myReaction":"love"`) {
				t.Fatalf("public detail for the same viewer = %d %s", res.Status, res.Body)
			}
			if other := react(t, tc.other, "browser-a", "love"); total(other.Reactions) != 2 {
				t.Fatalf("another viewer's reaction = %+v, want a second reaction", other)
			}

			before := b.video(t, v.ID).ViewCount
			if !view(t, tc.first, "browser-a") {
				t.Fatal("first view not counted")
			}
			if view(t, tc.first, "browser-b") || view(t, tc.same, "browser-c") {
				t.Fatal("a view with another User-Agent or address of the same viewer was counted")
			}
			if !view(t, tc.other, "browser-a") {
				t.Fatal("another viewer's view not counted")
			}
			if got := b.video(t, v.ID).ViewCount; got != before+2 {
				t.Fatalf("views = %d, want %d", got, before+2)
			}
		})
	}
}

func TestJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.readyVideo(t, "job", []byte("j"))
	pending := b.mediaJob(t, v.ID, false)

	res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs", Token: b.manager})
	if res.Status != 200 || !strings.Contains(string(res.Body), pending) || !strings.Contains(string(res.Body), `"pending":1`) {
		t.Fatalf("jobs = %d %s", res.Status, res.Body)
	}
	res = b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs/" + pending, Token: b.manager})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"state":"pending"`) || !strings.Contains(string(res.Body), fmt.Sprintf(`"videoId":%d`, v.ID)) {
		t.Fatalf("job = %d %s", res.Status, res.Body)
	}
	if res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/" + pending + "/retry", Token: b.owner}); res.Status != 409 {
		t.Errorf("retry of a pending job = %d, want 409", res.Status)
	}
	res = b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/" + pending + "/cancel", Token: b.owner})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"state":"archived"`) {
		t.Fatalf("cancel = %d %s", res.Status, res.Body)
	}
	if res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/" + pending + "/cancel", Token: b.owner}); res.Status != 409 {
		t.Errorf("cancel of an archived job = %d, want 409", res.Status)
	}
	res = b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs?state=archived", Token: b.manager})
	if res.Status != 200 || !strings.Contains(string(res.Body), pending) {
		t.Fatalf("archived jobs = %d %s", res.Status, res.Body)
	}
	res = b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/" + pending + "/retry", Token: b.owner})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"state":"pending"`) {
		t.Fatalf("retry = %d %s", res.Status, res.Body)
	}
	for path, want := range map[string]int{
		"/api/media/jobs?state=exploded": 400,
		"/api/media/jobs/nope":           404,
		"/api/media/jobs?page=-1":        400,
	} {
		if res := b.do(t, testenv.Request{Method: "GET", Path: path, Token: b.manager}); res.Status != want {
			t.Errorf("GET %s = %d, want %d", path, res.Status, want)
		}
	}
	if res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/nope/retry", Token: b.owner}); res.Status != 404 {
		t.Errorf("retry of a missing job = %d", res.Status)
	}
}

// TestJobsWithoutQueueOrRedis: every route that reads the media queue
// answers as if it were empty while the queue does not exist yet (no media
// task was ever enqueued), and 503 unavailable while Redis does not answer.
func TestJobsWithoutQueueOrRedis(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := os.MkdirAll(filepath.Join(b.root, "imports"), 0o755); err != nil {
		t.Fatal(err)
	}
	jobID := tasks.MediaProbeTaskID(1)

	t.Run("no media queue yet", func(t *testing.T) {
		for _, state := range []string{"", "pending", "active", "scheduled", "retry", "failed", "archived", "completed"} {
			res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs?state=" + state, Token: b.manager})
			if state == "" {
				res = b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs", Token: b.manager})
			}
			var out struct {
				Data       []any          `json:"data"`
				Counts     map[string]int `json:"counts"`
				Pagination struct {
					Total int `json:"total"`
				} `json:"pagination"`
			}
			res.JSON(t, &out)
			if res.Status != 200 || out.Data == nil || len(out.Data) != 0 || out.Pagination.Total != 0 || len(out.Counts) != 6 {
				t.Errorf("jobs?state=%s = %d %s, want 200 and empty", state, res.Status, res.Body)
			}
		}
		for _, req := range []testenv.Request{
			{Method: "GET", Path: "/api/media/jobs/" + jobID, Token: b.manager},
			{Method: "POST", Path: "/api/media/jobs/" + jobID + "/retry", Token: b.owner},
			{Method: "POST", Path: "/api/media/jobs/" + jobID + "/cancel", Token: b.owner},
		} {
			if res := b.do(t, req); res.Status != 404 {
				t.Errorf("%s %s = %d %s, want 404", req.Method, req.Path, res.Status, res.Body)
			}
		}
	})
	t.Run("Redis down", func(t *testing.T) {
		down := b.redisDown(t)
		for _, req := range []testenv.Request{
			{Method: "GET", Path: "/api/media/jobs", Token: b.manager},
			{Method: "GET", Path: "/api/media/jobs?state=completed", Token: b.manager},
			{Method: "GET", Path: "/api/media/jobs/" + jobID, Token: b.manager},
			{Method: "POST", Path: "/api/media/jobs/" + jobID + "/retry", Token: b.owner},
			{Method: "POST", Path: "/api/media/jobs/" + jobID + "/cancel", Token: b.owner},
			{Method: "POST", Path: "/api/media/videos/scan", Token: b.owner, Body: map[string]string{"dir": "imports"}},
		} {
			t.Run(req.Method+" "+req.Path, func(t *testing.T) {
				t.Parallel() // each waits for Redis' client to give up
				if res := testenv.Do(t, down, req); res.Status != 503 || res.ErrorCode() != "unavailable" {
					t.Errorf("with Redis down = %d %s, want 503 unavailable", res.Status, res.Body)
				}
			})
		}
	})
}

// TestScanAgainAfterArchived: a scan that is waiting or running blocks
// another of the same folder (409), but one that was cancelled (archived)
// does not: it makes way for the new one.
func TestScanAgainAfterArchived(t *testing.T) {
	t.Parallel()
	b := setup(t) // no worker: scans stay queued
	if err := os.MkdirAll(filepath.Join(b.root, "imports"), 0o755); err != nil {
		t.Fatal(err)
	}
	scan := func() *testenv.Response {
		return b.do(t, testenv.Request{Method: "POST", Path: "/api/media/videos/scan", Token: b.owner, Body: map[string]string{"dir": "imports"}})
	}
	state := func() string {
		info, err := b.env.Deps.Inspector.GetTaskInfo(tasks.QueueMedia, tasks.MediaScanTaskID("imports"))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.String()
	}
	res := scan()
	var out struct {
		JobID string `json:"jobId"`
	}
	res.JSON(t, &out)
	if res.Status != 202 || out.JobID != tasks.MediaScanTaskID("imports") {
		t.Fatalf("scan = %d %s", res.Status, res.Body)
	}
	if res := scan(); res.Status != 409 {
		t.Fatalf("scan while one is queued = %d %s, want 409", res.Status, res.Body)
	}
	for i := range 2 {
		cancel := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/jobs/" + out.JobID + "/cancel", Token: b.owner})
		if cancel.Status != 200 || state() != "archived" {
			t.Fatalf("cancel = %d %s, state %s", cancel.Status, cancel.Body, state())
		}
		if res := scan(); res.Status != 202 || state() != "pending" {
			t.Fatalf("scan %d after the last one was cancelled = %d %s, state %s; want 202 and a pending scan", i+1, res.Status, res.Body, state())
		}
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.startWorker(t)
	dir := filepath.Join(b.root, "imports", "2024")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"one.mp4": landscapeWithAudio(t), "two.webm": portraitSilent(t)} {
		if err := os.WriteFile(filepath.Join(dir, name), readFile(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.mp4"), []byte("not a video at all, just text"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad-\xff.mp4"), []byte("\x00\x00\x00\x18ftypisom, named in Latin-1"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "escape.mp4"))

	scan := func() {
		res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/videos/scan", Token: b.owner, Body: map[string]string{"dir": "imports"}})
		if res.Status != 202 {
			t.Fatalf("scan = %d %s", res.Status, res.Body)
		}
	}
	scan()
	testenv.Eventually(t, 30*time.Second, "two scanned videos to be ready", func() bool {
		videos, _, _ := b.env.Store.ListVideos(context.Background(), storage.VideoFilter{Status: "ready", Limit: 10})
		return len(videos) == 2
	})
	idle := func() bool {
		info, _ := b.env.Deps.Inspector.GetQueueInfo(tasks.QueueMedia)
		return info != nil && info.Active == 0 && info.Pending == 0
	}
	testenv.Eventually(t, 10*time.Second, "the first scan to finish", idle)
	// The finished scan stays in the queue with its counts.
	type scanResult struct {
		Added, Known, Ignored, Failed int
		Failures                      []struct{ Path, Error string }
	}
	result := func() scanResult {
		res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/jobs?state=completed", Token: b.manager})
		var page struct {
			Data []struct {
				Type   string     `json:"type"`
				Result scanResult `json:"result"`
			} `json:"data"`
		}
		res.JSON(t, &page)
		if res.Status != 200 || len(page.Data) != 1 || page.Data[0].Type != tasks.TypeMediaScan {
			t.Fatalf("completed jobs = %d %s, want the scan", res.Status, res.Body)
		}
		return page.Data[0].Result
	}
	// The file whose name is not UTF-8 is reported, not registered, and
	// does not stop the others.
	wantFailure := `"imports/2024/bad-\xff.mp4"`
	if r := result(); r.Added != 2 || r.Known != 0 || r.Ignored != 1 || r.Failed != 1 || len(r.Failures) != 1 || r.Failures[0].Path != wantFailure {
		t.Errorf("first scan's result = %+v, want 2 added, 1 ignored, 1 failed (%s)", r, wantFailure)
	}
	// A second scan (which takes the place of the finished one) registers
	// nothing twice.
	scan()
	testenv.Eventually(t, 10*time.Second, "the second scan to finish", func() bool {
		return idle() && result().Known == 2
	})
	if r := result(); r.Added != 0 || r.Known != 2 || r.Ignored != 1 || r.Failed != 1 {
		t.Errorf("second scan's result = %+v, want 2 known, 1 ignored, 1 failed", r)
	}
	if n := b.videoCount(t); n != 2 {
		t.Fatalf("%d videos after two scans, want 2", n)
	}
	v, _, _ := b.env.Store.ListVideos(context.Background(), storage.VideoFilter{Orientation: "portrait", Limit: 10})
	if len(v) != 1 || v[0].Source != "scan" || v[0].Title != "two" {
		t.Fatalf("portrait scanned video = %+v", v)
	}
}

// TestScanOfTheWholeRootIsOne: "", "." and "/" all name the whole media
// root, so they share one task: a second of them while the first waits is
// a 409, not a second full-library scan.
func TestScanOfTheWholeRootIsOne(t *testing.T) {
	t.Parallel()
	b := setup(t) // no worker: scans stay queued
	for i, dir := range []string{"", ".", "/", " ./ "} {
		res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/videos/scan", Token: b.owner, Body: map[string]string{"dir": dir}})
		want := 409
		if i == 0 {
			want = 202
		}
		if res.Status != want {
			t.Fatalf("scan of %q = %d %s, want %d", dir, res.Status, res.Body, want)
		}
	}
}
