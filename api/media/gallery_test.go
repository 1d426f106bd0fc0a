package media_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func TestGallery(t *testing.T) {
	t.Parallel()
	b := setup(t)
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
		ua := map[string]string{"User-Agent": "viewer-one"}
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
		b.do(t, testenv.Request{Method: "POST", Path: path, Header: map[string]string{"User-Agent": "viewer-two"}})
		b.do(t, testenv.Request{Method: "POST", Path: path, Token: b.user})
		b.do(t, testenv.Request{Method: "POST", Path: path, Token: b.user})
		if v := b.video(t, a.ID); v.ViewCount != 3 {
			t.Fatalf("views = %d, want 3", v.ViewCount)
		}
	})
	t.Run("reactions: add, replace, remove, one per viewer", func(t *testing.T) {
		react := func(token, ua, typ string) (*string, map[string]int) {
			t.Helper()
			res := b.do(t, testenv.Request{Method: "POST", Path: "/api/media/reactions", Token: token,
				Header: map[string]string{"User-Agent": ua}, Body: map[string]any{"mediaId": a.ID, "type": typ}})
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
		r, counts := react(b.user, "", "like")
		if r == nil || *r != "like" || counts["like"] != 1 {
			t.Fatalf("first like: %v %v", r, counts)
		}
		r, counts = react(b.user, "", "love")
		if r == nil || *r != "love" || counts["like"] != 0 || counts["love"] != 1 {
			t.Fatalf("switch to love: %v %v", r, counts)
		}
		_, counts = react("", "anon-1", "love")
		if counts["love"] != 2 {
			t.Fatalf("anonymous love: %v", counts)
		}
		r, counts = react(b.user, "", "love")
		if r != nil || counts["love"] != 1 {
			t.Fatalf("same type again removes: %v %v", r, counts)
		}
		res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d", a.ID), Header: map[string]string{"User-Agent": "anon-1"}})
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
	// A second scan registers nothing twice.
	scan()
	testenv.Eventually(t, 10*time.Second, "the second scan to finish", idle)
	if n := b.videoCount(t); n != 2 {
		t.Fatalf("%d videos after two scans, want 2", n)
	}
	v, _, _ := b.env.Store.ListVideos(context.Background(), storage.VideoFilter{Orientation: "portrait", Limit: 10})
	if len(v) != 1 || v[0].Source != "scan" || v[0].Title != "two" {
		t.Fatalf("portrait scanned video = %+v", v)
	}
}
