package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"changemaker/api"
	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/represent"
)

// pgOutage stands between the APIs and Postgres and can take Postgres away:
// "refuse" closes its port (a stopped server: connection refused), "reset"
// keeps the port but drops every connection at once (a server restarting
// or shutting down). Either way the connections in the pool break.
type pgOutage struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newPGOutage(t *testing.T, target string) *pgOutage {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgOutage{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		if p.ln != nil {
			p.ln.Close()
		}
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *pgOutage) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			if !down {
				p.conns[c] = struct{}{}
			}
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			p.wg.Add(1)
			go p.relay(c)
		}
	}()
}

func (p *pgOutage) relay(client net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		p.mu.Unlock()
		client.Close()
	}()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[server] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, server)
		p.mu.Unlock()
		server.Close()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyConn(client, server)
		client.Close()
	}()
	copyConn(server, client)
	server.Close()
	<-done
}

func copyConn(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut takes Postgres away in mode "refuse" or "reset".
func (p *pgOutage) cut(t *testing.T, mode string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	if mode == "refuse" {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// restore brings Postgres back on the same address.
func (p *pgOutage) restore(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	if p.ln == nil {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", p.addr, err)
		}
		p.serve(ln)
	}
}

// TestPostgresOutageAnswers503: while Postgres is out of reach, routes that
// need it — a constituent sending email, the public campaign page (once its
// cache expired), an admin list and a media route — answer 503 unavailable
// with Retry-After in the error format, not 500; once Postgres is back, they
// work again without a restart.
func TestPostgresOutageAnswers503(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"refuse", "reset"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			// Polling during the outage must meet no rate limit.
			env := influencetest.New(t, func(c *config.Config) { c.Influence.SendRateLimit = 10000 })
			admin := env.CreateUser(storage.RoleSuperAdmin, "")
			token := env.Token(admin)
			camp := env.CreateCampaign(t, admin.ID)
			// Fill the Represent cache, so that sending can succeed once
			// Postgres is back.
			rp := &represent.Handler{Store: env.Store, Redis: env.Redis, HTTP: http.DefaultClient, BaseURL: env.Represent.URL,
				RateLimit: 55, CacheTTL: time.Hour, Log: testenv.Logger(t)}
			lookup, _ := tasks.NewRepresentLookup(tasks.RepresentLookup{PostalCode: testenv.RepresentCodeSmall})
			if err := rp.Lookup(context.Background(), lookup); err != nil {
				t.Fatal(err)
			}

			cc := env.Store.Pool.Config().ConnConfig
			proxy := newPGOutage(t, fmt.Sprintf("%s:%d", cc.Host, cc.Port))
			store, err := storage.Open(context.Background(),
				fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&connect_timeout=2", cc.User, proxy.addr, cc.Database), 4)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(store.Close)
			deps := env.Deps
			deps.Store = store
			main, err := api.NewMain(deps)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { main.Close() })
			media, err := api.NewMedia(deps)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { media.Close() })

			type route struct {
				name string
				app  *api.App
				req  testenv.Request
				ok   int
			}
			send := 0
			routes := []route{
				{"send-email", main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
					Body: map[string]any{"senderName": "Pat", "senderEmail": "pat@home.example", "postalCode": "K1A 0B1",
						"recipients": []map[string]any{{"email": testenv.RepSmallMP.Email}}}}, 202},
				{"public campaign", main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug}, 200},
				{"admin campaign list", main, testenv.Request{Method: "GET", Path: "/api/campaigns", Token: token}, 200},
				{"admin user list", main, testenv.Request{Method: "GET", Path: "/api/users", Token: token}, 200},
				{"media video list", media, testenv.Request{Method: "GET", Path: "/api/media/videos", Token: token}, 200},
			}
			// Up: every route works through the proxy (and the page is cached).
			for _, r := range routes {
				if res := testenv.Do(t, r.app, r.req); res.Status != r.ok {
					t.Fatalf("%s before the outage = %d %s, want %d", r.name, res.Status, res.Body, r.ok)
				}
				if r.name == "send-email" {
					send++
				}
			}

			proxy.cut(t, mode)
			for _, r := range routes {
				var res *testenv.Response
				// The public page is served from a 1 s cache: poll past it.
				testenv.Eventually(t, 15*time.Second, r.name+" answers 503", func() bool {
					res = testenv.Do(t, r.app, r.req)
					return res.Status != r.ok
				})
				if res.Status != 503 || res.ErrorCode() != "unavailable" || res.Header.Get("Retry-After") == "" {
					t.Errorf("%s with Postgres away = %d %s (Retry-After %q), want 503 unavailable with Retry-After",
						r.name, res.Status, res.Body, res.Header.Get("Retry-After"))
				}
			}

			proxy.restore(t)
			for _, r := range routes {
				var res *testenv.Response
				testenv.Eventually(t, 15*time.Second, r.name+" works again", func() bool {
					res = testenv.Do(t, r.app, r.req)
					return res.Status == r.ok
				})
				if r.name == "send-email" {
					send++
				}
			}
			// Nothing refused during the outage was stored: the two emails
			// accepted are the only ones.
			var n int
			if err := env.Store.Pool.QueryRow(context.Background(),
				"SELECT count(*) FROM campaign_emails WHERE campaign_id = $1", camp.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != send {
				t.Errorf("%d emails stored, want the %d accepted", n, send)
			}
		})
	}
}
