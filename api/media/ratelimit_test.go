package media_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
)

// get makes a GET over the network (every request of a test then comes from
// the same client address) and returns the status.
func (b *bundle) get(t *testing.T, path, token string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestRateLimits: stream and thumbnail requests, which a video player makes
// in bulk, count against their own, higher limit; every other route shares
// MEDIA_RATE_LIMIT; SUPER_ADMIN uploads count against neither.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	const general, files = 3, 20
	b := setup(t, func(c *config.Config) {
		c.MediaRateLimit = general
		c.MediaRateWindow = 10 * time.Minute // the whole test runs inside one window
		c.Media.StreamRateLimit = files
	})
	v := b.readyVideo(t, "limited", []byte("0123456789"))
	b.withThumbnail(t, v)
	b.publish(t, v.ID, "videos") // in-process: not counted against this client's limits

	fileRequests := []struct{ path, token string }{
		{fmt.Sprintf("/api/media/public/%d/stream", v.ID), ""},
		{fmt.Sprintf("/api/media/public/%d/thumbnail", v.ID), ""},
		{fmt.Sprintf("/api/media/videos/%d/stream", v.ID), b.manager},
		{fmt.Sprintf("/API/Media/public/%d/stream/", v.ID), ""}, // routed all the same, counted all the same
	}
	fileRequest := func(i int) int {
		r := fileRequests[i%len(fileRequests)]
		return b.get(t, r.path, r.token, map[string]string{"Range": "bytes=0-1"})
	}
	seed := 1000
	adminUpload := func() int {
		seed++
		ct, body := multipartVideo(seed)
		status, _ := b.send(t, "POST", "/api/media/videos", b.owner, ct, bytes.NewReader(body))
		return status
	}

	t.Run("SUPER_ADMIN uploads are not counted", func(t *testing.T) {
		for i := range general + 2 {
			if s := adminUpload(); s != 201 {
				t.Fatalf("upload %d = %d, want 201", i+1, s)
			}
		}
	})
	t.Run("range requests do not use up the general limit", func(t *testing.T) {
		for i := range files - 1 {
			if s := fileRequest(i); s != 206 && s != 200 {
				t.Fatalf("file request %d = %d, want 206", i+1, s)
			}
		}
		for i := range general {
			if s := b.get(t, "/api/media/public", "", nil); s != 200 {
				t.Fatalf("gallery request %d = %d, want 200", i+1, s)
			}
		}
	})
	t.Run("the general limit is enforced", func(t *testing.T) {
		if s := b.get(t, "/api/media/public", "", nil); s != 429 {
			t.Fatalf("gallery request past the limit = %d, want 429", s)
		}
		if s := b.get(t, fmt.Sprintf("/api/media/videos/%d", v.ID), b.manager, nil); s != 429 {
			t.Fatalf("admin request past the limit = %d, want 429", s)
		}
	})
	t.Run("files still play past the general limit", func(t *testing.T) {
		if s := fileRequest(files - 1); s != 206 {
			t.Fatalf("file request %d = %d, want 206", files, s)
		}
	})
	t.Run("the file limit is enforced too", func(t *testing.T) {
		if s := fileRequest(files); s != 429 {
			t.Fatalf("file request %d = %d, want 429", files+1, s)
		}
	})
	t.Run("a non-admin's upload counts; a SUPER_ADMIN's still goes through", func(t *testing.T) {
		seed++
		ct, body := multipartVideo(seed)
		if s, _ := b.send(t, "POST", "/api/media/videos", b.user, ct, bytes.NewReader(body)); s != 429 {
			t.Fatalf("USER upload past the limit = %d, want 429", s)
		}
		if s := adminUpload(); s != 201 {
			t.Fatalf("SUPER_ADMIN upload past the limit = %d, want 201", s)
		}
	})
}

// TestRateLimitPerClient: the media limits count per client as
// httpx.ClientKey names it — an IPv6 client's whole /64 is one client, so
// rotating addresses inside it gains nothing; another /64 is another client.
func TestRateLimitPerClient(t *testing.T) {
	t.Parallel()
	const general, files = 2, 3
	b := viewerSetup(t, func(c *config.Config) {
		c.MediaRateLimit = general
		c.MediaRateWindow = 10 * time.Minute // the whole test runs inside one window
		c.Media.StreamRateLimit = files
	})
	v := b.readyVideo(t, "limited", []byte("0123456789"))
	b.publish(t, v.ID, "videos") // from 0.0.0.0 itself: counted for none of the addresses below

	from := func(ip string) map[string]string { return map[string]string{"X-Real-Ip": ip} }
	status := func(t *testing.T, req testenv.Request) int {
		t.Helper()
		return b.do(t, req).Status
	}
	gallery := func(ip string) testenv.Request {
		return testenv.Request{Method: "GET", Path: "/api/media/public", Header: from(ip)}
	}
	stream := func(ip string) testenv.Request {
		h := from(ip)
		h["Range"] = "bytes=0-1"
		return testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d/stream", v.ID), Header: h}
	}
	upload := func(ip, token string) testenv.Request {
		ct, body := multipartVideo(1)
		h := from(ip)
		h["Content-Type"] = ct
		return testenv.Request{Method: "POST", Path: "/api/media/videos", Token: token, Header: h, Body: body}
	}

	t.Run("the general limit holds across one /64", func(t *testing.T) {
		for i := range general {
			if s := status(t, gallery(fmt.Sprintf("2001:db8:a:b::%x", i+1))); s != 200 {
				t.Fatalf("request %d = %d, want 200", i+1, s)
			}
		}
		if s := status(t, gallery("2001:db8:a:b:1234:5678:9abc:def0")); s != 429 {
			t.Fatalf("request from a new address in the same /64 = %d, want 429", s)
		}
		if s := status(t, upload("2001:db8:a:b::99", b.user)); s != 429 {
			t.Fatalf("a non-admin upload from the same /64 = %d, want 429", s)
		}
		if s := status(t, gallery("2001:db8:a:c::1")); s != 200 {
			t.Fatalf("request from another /64 = %d, want 200", s)
		}
	})
	t.Run("the file limit holds across one /64", func(t *testing.T) {
		for i := range files {
			if s := status(t, stream(fmt.Sprintf("2001:db8:f:f::%x", i+1))); s != 206 {
				t.Fatalf("file request %d = %d, want 206", i+1, s)
			}
		}
		if s := status(t, stream("2001:db8:f:f::ffff")); s != 429 {
			t.Fatalf("file request from a new address in the same /64 = %d, want 429", s)
		}
	})
}
