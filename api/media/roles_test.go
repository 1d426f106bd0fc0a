package media_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
)

// withThumbnail gives a ready video a thumbnail file.
func (b *bundle) withThumbnail(t *testing.T, v storage.Video) {
	t.Helper()
	name := blob.ThumbnailName(v.ID)
	if err := os.WriteFile(filepath.Join(b.root, name), []byte{0xFF, 0xD8, 0xFF, 0xD9}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.env.Store.MarkVideoReady(context.Background(), v.ID, &name); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) publish(t *testing.T, id int64, category string) {
	t.Helper()
	res := b.do(t, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/media/shared/%d", id), Token: b.manager,
		Body: map[string]string{"category": category}})
	if res.Status != 200 {
		t.Fatalf("publish %d = %d %s", id, res.Status, res.Body)
	}
}

// mediaJob enqueues a media task for the job routes and returns its ID.
func (b *bundle) mediaJob(t *testing.T, videoID int64, archive bool) string {
	t.Helper()
	task, _ := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: videoID})
	info, err := b.env.Deps.Queue.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	if archive {
		if err := b.env.Deps.Inspector.ArchiveTask(tasks.QueueMedia, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	return info.ID
}

func multipartVideo(seed int) (string, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fmt.Fprintf(fw, "\x00\x00\x00\x18ftypisom-test-content-%d", seed)
	mw.Close()
	return mw.FormDataContentType(), body.Bytes()
}

func TestRoutesByRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := b.env
	tokens := map[string]string{}
	for _, r := range storage.Roles {
		tokens[r] = env.TokenFor(r)
	}
	owner := []string{storage.RoleSuperAdmin}
	managers := []string{storage.RoleSuperAdmin, storage.RoleInfluenceAdmin}
	seed := 0

	type route struct {
		method string
		// prepare returns the path and body for one request by an allowed role.
		prepare func() (path string, body any, header map[string]string)
		allowed []string // nil: public
	}
	video := func() storage.Video { seed++; return b.readyVideo(t, "v", []byte(fmt.Sprint("content", seed))) }
	fixed := func(path string) func() (string, any, map[string]string) {
		return func() (string, any, map[string]string) { return path, nil, nil }
	}
	published := func() storage.Video {
		v := video()
		b.withThumbnail(t, v)
		b.publish(t, v.ID, "videos")
		return v
	}
	routes := []route{
		{"POST", func() (string, any, map[string]string) {
			seed++
			ct, body := multipartVideo(seed)
			return "/api/media/videos", body, map[string]string{"Content-Type": ct}
		}, owner},
		{"POST", func() (string, any, map[string]string) {
			os.MkdirAll(filepath.Join(b.root, fmt.Sprint("scan", seed)), 0o755)
			seed++
			return "/api/media/videos/scan", map[string]string{"dir": fmt.Sprint("scan", seed-1)}, nil
		}, owner},
		{"GET", fixed("/api/media/videos"), managers},
		{"GET", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/videos/%d", video().ID), nil, nil
		}, managers},
		{"PATCH", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/videos/%d", video().ID), map[string]string{"title": "new"}, nil
		}, managers},
		{"DELETE", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/videos/%d", video().ID), nil, nil
		}, owner},
		{"GET", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/videos/%d/stream", video().ID), nil, nil
		}, managers},
		{"GET", func() (string, any, map[string]string) {
			v := video()
			b.withThumbnail(t, v)
			return fmt.Sprintf("/api/media/videos/%d/thumbnail", v.ID), nil, nil
		}, managers},
		{"GET", fixed("/api/media/shared"), managers},
		{"POST", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/shared/%d", video().ID), map[string]string{"category": "curated"}, nil
		}, managers},
		{"DELETE", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/shared/%d", published().ID), nil, nil
		}, managers},
		{"GET", fixed("/api/media/jobs"), managers},
		{"GET", func() (string, any, map[string]string) {
			return "/api/media/jobs/" + b.mediaJob(t, video().ID, false), nil, nil
		}, managers},
		{"POST", func() (string, any, map[string]string) {
			return "/api/media/jobs/" + b.mediaJob(t, video().ID, true) + "/retry", nil, nil
		}, owner},
		{"POST", func() (string, any, map[string]string) {
			return "/api/media/jobs/" + b.mediaJob(t, video().ID, false) + "/cancel", nil, nil
		}, owner},
		{"GET", fixed("/api/media/public"), nil},
		{"GET", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/public/%d", published().ID), nil, nil
		}, nil},
		{"POST", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/public/%d/view", published().ID), nil, nil
		}, nil},
		{"GET", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/public/%d/stream", published().ID), nil, nil
		}, nil},
		{"GET", func() (string, any, map[string]string) {
			return fmt.Sprintf("/api/media/public/%d/thumbnail", published().ID), nil, nil
		}, nil},
		{"POST", func() (string, any, map[string]string) {
			return "/api/media/reactions", map[string]any{"mediaId": published().ID, "type": "love"}, nil
		}, nil},
	}
	for _, rt := range routes {
		path, _, _ := rt.prepare()
		t.Run(rt.method+" "+path, func(t *testing.T) {
			call := func(role string) *testenv.Response {
				p, body, header := rt.prepare()
				return b.do(t, testenv.Request{Method: rt.method, Path: p, Body: body, Header: header, Token: tokens[role]})
			}
			if rt.allowed == nil {
				for _, role := range append([]string{""}, storage.Roles...) {
					if res := call(role); res.Status >= 300 {
						t.Errorf("as %q = %d %s, want 2xx (public)", role, res.Status, res.Body)
					}
				}
				return
			}
			if res := call(""); res.Status != 401 {
				t.Errorf("anonymous = %d %s, want 401", res.Status, res.Body)
			}
			for _, role := range storage.Roles {
				allowed := false
				for _, a := range rt.allowed {
					allowed = allowed || a == role
				}
				res := call(role)
				switch {
				case allowed && (res.Status < 200 || res.Status >= 300):
					t.Errorf("as %s = %d %s, want 2xx", role, res.Status, res.Body)
				case !allowed && res.Status != 403:
					t.Errorf("as %s = %d %s, want 403", role, res.Status, res.Body)
				}
			}
		})
	}
}
