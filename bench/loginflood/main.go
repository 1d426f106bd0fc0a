// Command loginflood is the login-flood benchmark of
// scripts/bench-loginflood.sh: while -conns connections send wrong password
// guesses to POST /api/auth/login as fast as they can (each from its own
// rotating X-Real-Ip, for unknown accounts, so no rate limit stops them
// before the password hash would run), it samples GET /api/health and the
// public campaign page, and a real login once a second, and reports their
// latency. Target (issue 9): health and the campaign page keep p99 under
// 50 ms.
//
// It prints a markdown table and exits 1 when the target is missed, 2 when
// it cannot run. DATABASE_URL names the API's (migrated) database: the
// program creates the campaign and the real user there.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"changemaker/internal/password"
	"changemaker/storage"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:4000", "the main API")
	conns := flag.Int("conns", 200, "connections sending wrong guesses")
	duration := flag.Duration("duration", 30*time.Second, "how long the flood lasts")
	probeGap := flag.Duration("probe-gap", 20*time.Millisecond, "pause between one probe's requests")
	flag.Parse()
	code, err := run(*base, *conns, *duration, *probeGap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loginflood:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

type samples struct {
	mu     sync.Mutex
	took   []time.Duration
	status map[int]int
}

func (s *samples) add(d time.Duration, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took = append(s.took, d)
	if s.status == nil {
		s.status = map[int]int{}
	}
	s.status[status]++
}

func (s *samples) pct(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.took) == 0 {
		return 0
	}
	sorted := slices.Clone(s.took)
	slices.Sort(sorted)
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// ownerIP is where the owner logs in from (with their device cookie).
const ownerIP = "192.0.2.1"

func run(base string, conns int, duration, probeGap time.Duration) (int, error) {
	ctx := context.Background()
	store, err := storage.Open(ctx, os.Getenv("DATABASE_URL"), 4)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	const pw = "bench-loginflood-password-1"
	hash, err := password.Hash(pw, 12)
	if err != nil {
		return 0, err
	}
	u, err := store.CreateUser(ctx, storage.NewUser{Email: "owner@bench.invalid", Name: "Owner",
		PasswordHash: hash, Role: storage.RoleInfluenceAdmin})
	if err != nil {
		return 0, fmt.Errorf("create the owner: %w", err)
	}
	ptr := func(s string) *string { return &s }
	active := storage.CampaignActive
	if _, err := store.CreateCampaign(ctx, storage.CampaignFields{Slug: ptr("bench-loginflood"),
		Title: ptr("Bench: login flood"), EmailSubject: ptr("Subject"), EmailBody: ptr("Body"), Status: &active}, u.ID); err != nil {
		return 0, fmt.Errorf("create the campaign: %w", err)
	}

	// One transport per kind of traffic, so the flood's connections never
	// hold up a probe's.
	client := func(n int) *http.Client {
		return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
	}
	var device string // the owner's device cookie, from a login before the flood
	do := func(c *http.Client, method, path, ip string, body []byte) (int, time.Duration) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if ip == ownerIP && device != "" {
			req.Header.Set("Cookie", device)
		}
		if ip != "" {
			req.Header.Set("X-Real-Ip", ip)
		}
		start := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return 0, time.Since(start)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
		return res.StatusCode, time.Since(start)
	}
	// The owner signs in once before the flood, from the device they will
	// use during it (the cm_device cookie).
	ownerLogin := fmt.Appendf(nil, `{"email":"owner@bench.invalid","password":"%s"}`, pw)
	{
		req, _ := http.NewRequest("POST", base+"/api/auth/login", bytes.NewReader(ownerLogin))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Real-Ip", ownerIP)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("owner's first login: %w", err)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if ck.Name == "cm_device" {
				device = ck.Name + "=" + ck.Value
			}
		}
		if res.StatusCode != 200 || device == "" {
			return 0, fmt.Errorf("owner's first login = %d, device cookie %q", res.StatusCode, device)
		}
	}
	// Warm up: the first requests pay for connections and lazy setup.
	for i := 0; i < 20; i++ {
		do(client(1), "GET", "/api/health", "", nil)
		do(client(1), "GET", "/api/public/campaigns/bench-loginflood", "", nil)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var flood samples
	var guesses atomic.Int64
	floodClient := client(conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := guesses.Add(1)
				ip := fmt.Sprintf("10.%d.%d.%d", (k>>16)&255, (k>>8)&255, k&255)
				body := fmt.Appendf(nil, `{"email":"guess%d@bench.invalid","password":"wrong-guess-%d"}`, k, n)
				status, took := do(floodClient, "POST", "/api/auth/login", ip, body)
				flood.add(took, status)
			}
		}(i)
	}
	probe := func(s *samples, method, path, ip string, body []byte, gap time.Duration) {
		defer wg.Done()
		c := client(1)
		for {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			status, took := do(c, method, path, ip, body)
			s.add(took, status)
		}
	}
	var health, page, real samples
	wg.Add(3)
	go probe(&health, "GET", "/api/health", "", nil, probeGap)
	go probe(&page, "GET", "/api/public/campaigns/bench-loginflood", "", nil, probeGap)
	go probe(&real, "POST", "/api/auth/login", ownerIP, ownerLogin, 5*time.Second) // within the per-device limit (10 per 15 min)
	time.Sleep(duration)
	close(stop)
	wg.Wait()

	const target = 50 * time.Millisecond
	code := 0
	verdict := func(s *samples, bounded bool) string {
		if !bounded {
			return "—"
		}
		if s.pct(0.99) < target && s.status[200] == len(s.took) {
			return "met"
		}
		code = 1
		return "**missed**"
	}
	fmt.Printf("| traffic | requests | statuses | p50 | p99 | max | p99 < 50 ms, all 200 |\n| --- | ---: | --- | ---: | ---: | ---: | --- |\n")
	row := func(name string, s *samples, bounded bool) {
		fmt.Printf("| %s | %d | %v | %s | %s | %s | %s |\n", name, len(s.took), s.status,
			s.pct(0.50).Round(10*time.Microsecond), s.pct(0.99).Round(10*time.Microsecond),
			s.pct(1).Round(10*time.Microsecond), verdict(s, bounded))
	}
	row("`GET /api/health`", &health, true)
	row("`GET /api/public/campaigns/:slug`", &page, true)
	row("the owner's login from their known device, every 5 s", &real, false)
	row(fmt.Sprintf("the flood: wrong guesses, %d connections, rotating addresses", conns), &flood, false)
	fmt.Printf("\n%s of flood, %.0f guesses/s answered.\n", duration, float64(len(flood.took))/duration.Seconds())
	return code, nil
}
