package httpx_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/internal/testenv"
)

// An upload route that refuses a request before reading its body must
// still get its answer to the client: without draining, the server closes
// the socket with unread data, the kernel resets the connection, and the
// client sees "connection reset by peer" instead of the 400.
func TestDrainUnreadDeliversEarlyRefusals(t *testing.T) {
	t.Parallel()
	app := httpx.NewApp(httpx.AppOptions{Name: "test", BodyLimit: 1 << 20, StreamRequestBody: true,
		CORSOrigin: "https://app.example.org", Log: testenv.Logger(t)})
	refuse := func(c *fiber.Ctx) error {
		c.Response().Header.SetConnectionClose()
		return httpx.BadRequest("refused before the body was read")
	}
	app.Post("/upload", httpx.DrainUnread(256<<10, 2*time.Second), refuse)
	app.Get("/up", func(c *fiber.Ctx) error { return c.SendString("up") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	// The app answers once it is listening with its routes in place.
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := client.Get(base + "/up")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	body := bytes.Repeat([]byte("x"), 200<<10)
	for i := 0; i < 30; i++ {
		res, err := client.Post(base+"/upload", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v (the refusal never reached the client)", i, err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("request %d: read the answer: %v", i, err)
		}
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if res.StatusCode != http.StatusBadRequest || json.Unmarshal(raw, &e) != nil || e.Error.Code != "bad_request" {
			t.Fatalf("request %d: %d %s, want the 400 bad_request", i, res.StatusCode, raw)
		}
	}
}
