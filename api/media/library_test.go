package media_test

import (
	"fmt"
	"strings"
	"testing"

	"changemaker/internal/testenv"
)

func TestStreamRange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	content := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	v := b.readyVideo(t, "range", content)
	path := fmt.Sprintf("/api/media/videos/%d/stream", v.ID)
	size := len(content)
	cases := []struct {
		name, rng, ifRange string
		status             int
		body, contentRange string
	}{
		{"no range is the whole file", "", "", 200, string(content), ""},
		{"a closed range", "bytes=0-9", "", 206, "0123456789", fmt.Sprintf("bytes 0-9/%d", size)},
		{"an open range", "bytes=30-", "", 206, "uvwxyz", fmt.Sprintf("bytes 30-35/%d", size)},
		{"a suffix range", "bytes=-4", "", 206, "wxyz", fmt.Sprintf("bytes 32-35/%d", size)},
		{"an end past the file is clipped", "bytes=34-1000", "", 206, "yz", fmt.Sprintf("bytes 34-35/%d", size)},
		{"an end too large for int64 is clipped", "bytes=34-99999999999999999999", "", 206, "yz", fmt.Sprintf("bytes 34-35/%d", size)},
		{"a suffix too large for int64 is the whole file", "bytes=-99999999999999999999", "", 206, string(content), fmt.Sprintf("bytes 0-35/%d", size)},
		{"a start past the end is 416", "bytes=36-40", "", 416, "", fmt.Sprintf("bytes */%d", size)},
		{"a start too large for int64 is 416", "bytes=99999999999999999999-", "", 416, "", fmt.Sprintf("bytes */%d", size)},
		{"a reversed range is 416", "bytes=9-3", "", 416, "", fmt.Sprintf("bytes */%d", size)},
		{"a malformed range is 416", "bytes=abc", "", 416, "", fmt.Sprintf("bytes */%d", size)},
		{"another unit is ignored", "items=0-1", "", 200, string(content), ""},
		{"a stale If-Range gets the whole file", "bytes=0-1", `"old"`, 200, string(content), ""},
		{"a current If-Range gets the range", "bytes=0-1", `"` + v.SHA256 + `"`, 206, "01", fmt.Sprintf("bytes 0-1/%d", size)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.rng != "" {
				h["Range"] = tc.rng
			}
			if tc.ifRange != "" {
				h["If-Range"] = tc.ifRange
			}
			res := b.do(t, testenv.Request{Method: "GET", Path: path, Token: b.manager, Header: h})
			if res.Status != tc.status || res.Header.Get("Content-Range") != tc.contentRange {
				t.Fatalf("= %d Content-Range %q, want %d %q (%s)", res.Status, res.Header.Get("Content-Range"), tc.status, tc.contentRange, res.Body)
			}
			if tc.status == 416 {
				if res.ErrorCode() != "range_not_satisfiable" {
					t.Errorf("416 body = %s", res.Body)
				}
				return
			}
			if string(res.Body) != tc.body || res.Header.Get("Accept-Ranges") != "bytes" || res.Header.Get("Content-Type") != "video/mp4" {
				t.Errorf("body %q headers %v, want %q", res.Body, res.Header, tc.body)
			}
		})
	}
	t.Run("a thumbnail not cut yet is 404", func(t *testing.T) {
		res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d/thumbnail", v.ID), Token: b.manager})
		if res.Status != 404 {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
	})
}

func TestLibrary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.readyVideo(t, "Rally downtown", []byte("a"))
	c := b.readyVideo(t, "Council meeting", []byte("c"))

	t.Run("patch sets title, producer, creator and tags", func(t *testing.T) {
		res := b.do(t, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/media/videos/%d", a.ID), Token: b.manager,
			Body: map[string]any{"producer": "Acme Films", "creator": "Jo", "tags": []string{" Rally ", "housing", "rally"}}})
		var v struct {
			Title    string   `json:"title"`
			Producer string   `json:"producer"`
			Tags     []string `json:"tags"`
		}
		res.JSON(t, &v)
		if res.Status != 200 || v.Producer != "Acme Films" || v.Title != "Rally downtown" || strings.Join(v.Tags, ",") != "rally,housing" {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
	})
	t.Run("list filters", func(t *testing.T) {
		for q, want := range map[string]int{
			"":                       2,
			"?tag=housing":           1,
			"?producer=acme%20films": 1,
			"?q=council":             1,
			"?orientation=landscape": 2,
			"?orientation=portrait":  0,
			"?status=ready":          2,
			"?status=processing":     0,
			"?creator=jo":            1,
			"?limit=1&page=2":        1,
		} {
			res := b.do(t, testenv.Request{Method: "GET", Path: "/api/media/videos" + q, Token: b.manager})
			var page struct {
				Data       []map[string]any    `json:"data"`
				Pagination struct{ Total int } `json:"pagination"`
			}
			res.JSON(t, &page)
			if res.Status != 200 || len(page.Data) != want {
				t.Errorf("list%s = %d with %d videos, want %d: %s", q, res.Status, len(page.Data), want, res.Body)
			}
		}
	})
	t.Run("get has reaction counts and hides the path", func(t *testing.T) {
		res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d", c.ID), Token: b.manager})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"reactions":{"angry":0`) || strings.Contains(string(res.Body), "videos/") {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
	})
	t.Run("delete is soft and final for the API", func(t *testing.T) {
		path := fmt.Sprintf("/api/media/videos/%d", c.ID)
		if res := b.do(t, testenv.Request{Method: "DELETE", Path: path, Token: b.owner}); res.Status != 204 {
			t.Fatalf("delete = %d %s", res.Status, res.Body)
		}
		if res := b.do(t, testenv.Request{Method: "GET", Path: path, Token: b.owner}); res.Status != 404 {
			t.Errorf("get after delete = %d", res.Status)
		}
		if res := b.do(t, testenv.Request{Method: "DELETE", Path: path, Token: b.owner}); res.Status != 404 {
			t.Errorf("second delete = %d", res.Status)
		}
		var deleted bool
		b.env.Store.Pool.QueryRow(t.Context(), `SELECT deleted_at IS NOT NULL FROM media_videos WHERE id = $1`, c.ID).Scan(&deleted)
		if !deleted {
			t.Error("row is gone or not marked deleted")
		}
	})
	t.Run("bad input is 400 or 404, never 500", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"GET", "/api/media/videos?orientation=diagonal", nil, 400},
			{"GET", "/api/media/videos?status=weird", nil, 400},
			{"GET", "/api/media/videos?page=0", nil, 400},
			{"GET", "/api/media/videos?limit=1000", nil, 400},
			{"GET", "/api/media/videos/abc", nil, 400},
			{"GET", "/api/media/videos/99999", nil, 404},
			{"GET", "/api/media/videos/99999/stream", nil, 404},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), `{"title":`, 400},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{}, 400},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"title": ""}, 400},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"title": 5}, 400},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"title": strings.Repeat("x", 201)}, 400},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"tags": make([]string, 0, 30)}, 200},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"tags": strings.Split(strings.Repeat("t,", 25)+"x", ",")}, 200},
			{"PATCH", fmt.Sprintf("/api/media/videos/%d", a.ID), map[string]any{"tags": []string{strings.Repeat("t", 51)}}, 400},
			{"PATCH", "/api/media/videos/99999", map[string]any{"title": "x"}, 404},
			{"POST", "/api/media/videos/scan", map[string]any{"dir": "../etc"}, 400},
			{"POST", "/api/media/videos/scan", map[string]any{"dir": "/etc"}, 404},
			{"POST", "/api/media/videos/scan", map[string]any{"dir": "nope"}, 404},
		} {
			token := b.manager
			if tc.method == "POST" {
				token = b.owner
			}
			res := b.do(t, testenv.Request{Method: tc.method, Path: tc.path, Token: token, Body: tc.body})
			if res.Status != tc.status {
				t.Errorf("%s %s %v = %d %s, want %d", tc.method, tc.path, tc.body, res.Status, res.Body, tc.status)
			}
		}
	})
}
