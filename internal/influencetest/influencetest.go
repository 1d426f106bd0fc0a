// Package influencetest holds what the influence tests share: an environment
// with a fake Represent server and a real SMTP server, a worker on the test's
// Redis with fast retries, and campaign fixtures.
package influencetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/config"
	"changemaker/internal/asynqlog"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/email"
	"changemaker/worker/fleet"
	"changemaker/worker/maintenance"
	"changemaker/worker/represent"
)

// Env is an API on fresh Postgres and Redis, pointed at a fake Represent
// and an in-process SMTP server.
type Env struct {
	*testenv.API
	SMTP      *testenv.SMTPServer
	Represent *testenv.RepresentServer
}

// New builds an Env. opts adjust the config after the fakes are wired in.
func New(t testing.TB, opts ...func(*config.Config)) *Env {
	t.Helper()
	smtpSrv := testenv.NewSMTPServer(t)
	rep := testenv.NewRepresentServer(t)
	all := append([]func(*config.Config){func(c *config.Config) {
		smtpSrv.Configure(c)
		rep.ConfigureRepresent(c)
		c.Influence.LookupWait = 5 * time.Second
		c.Influence.SMTPTimeout = 5 * time.Second
		c.Influence.RepresentTimeout = 5 * time.Second
		c.Influence.PublicURL = "http://changemaker.test"
		// In-process requests come from 0.0.0.0: trust it as the proxy, so
		// X-Real-Ip names the client as nginx sets it, and tests of per-client
		// limits and votes really come from the addresses they name.
		c.TrustedProxies = []string{"0.0.0.0"}
	}}, opts...)
	a := testenv.NewAPI(t, all...)
	org := "Test Organization"
	if _, err := a.Store.UpdateSettings(context.Background(), storage.SettingsPatch{OrganizationName: &org}); err != nil {
		t.Fatalf("settings: %v", err)
	}
	return &Env{API: a, SMTP: smtpSrv, Represent: rep}
}

// WorkerDeps are the deps a worker in this Env gets.
func (e *Env) WorkerDeps(t testing.TB) fleet.Deps {
	q := asynq.NewClient(e.Asynq)
	t.Cleanup(func() { q.Close() })
	return fleet.Deps{Config: e.Config, Store: e.Store, Redis: e.Redis, Queue: q, Log: testenv.Logger(t),
		Metrics: prometheus.NewRegistry(), Context: t.Context()}
}

// StartWorker runs a worker on the email, represent and default queues
// until t ends. Retries come after 20ms instead of asynq's backoff.
func (e *Env) StartWorker(t testing.TB) {
	t.Helper()
	srv := asynq.NewServer(e.Asynq, asynq.Config{
		Concurrency:    4,
		Queues:         map[string]int{tasks.QueueEmail: 2, tasks.QueueRepresent: 2, tasks.QueueDefault: 1},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 20 * time.Millisecond },
		// Retries wait in a sorted set that is checked every 5s by default.
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		// An idle worker looks for new tasks every second by default.
		TaskCheckInterval: 20 * time.Millisecond,
		Logger:            asynqlog.New(testenv.Logger(t)),
		LogLevel:          asynq.ErrorLevel,
		ShutdownTimeout:   3 * time.Second,
	})
	// The fleets these queues carry, registered as a worker process does
	// (package worker itself is for cmd alone).
	mux := asynq.NewServeMux()
	deps := e.WorkerDeps(t)
	for _, register := range []func(*asynq.ServeMux, fleet.Deps){maintenance.Register, email.Register, represent.Register} {
		register(mux, deps)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(srv.Shutdown)
}

// CampaignOptions adjust a fixture campaign.
type CampaignOptions func(*storage.CampaignFields)

// CreateCampaign inserts an ACTIVE campaign with SMTP sending, created by createdBy.
func (e *Env) CreateCampaign(t testing.TB, createdBy int64, opts ...CampaignOptions) storage.Campaign {
	t.Helper()
	title := fmt.Sprintf("Save the River %d", time.Now().UnixNano())
	subject := "Please act, {{representativeName}}"
	body := "Dear {{representativeName}},\n\nI live in {{postalCode}} and care about {{campaignTitle}}.\n\n{{senderName}}"
	status := storage.CampaignActive
	yes := true
	f := storage.CampaignFields{Title: &title, EmailSubject: &subject, EmailBody: &body, Status: &status,
		AllowSMTPEmail: &yes, AllowMailtoLink: &yes, ShowResponseWall: &yes}
	for _, o := range opts {
		o(&f)
	}
	c, err := e.Store.CreateCampaign(context.Background(), f, createdBy)
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return c
}

// Lookup looks up code through the API until it answers 200 (the worker must be running).
func (e *Env) Lookup(t testing.TB, code string) {
	t.Helper()
	res := testenv.Do(t, e.Main, testenv.Request{Method: "POST", Path: "/api/public/representatives/lookup",
		Body: map[string]any{"postalCode": code}})
	if res.Status != 200 {
		t.Fatalf("lookup %s = %d %s, want 200", code, res.Status, res.Body)
	}
}
