package email

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/internal/smtppool"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
)

// Metrics are the email fleet's metrics. A nil *Metrics records nothing.
type Metrics struct {
	emailsSent   prometheus.Counter
	emailsFailed prometheus.Counter
	sendSeconds  prometheus.Histogram
}

// NewMetrics registers the email metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		emailsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_emails_sent_total", Help: "Campaign emails the SMTP server accepted.",
		}),
		emailsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_emails_failed_total", Help: "Campaign emails marked FAILED (refused, or out of retries).",
		}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cm_email_send_seconds", Help: "Time to hand one email to the SMTP server, attempts that failed included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}),
	}
	reg.MustRegister(m.emailsSent, m.emailsFailed, m.sendSeconds)
	return m
}

func (m *Metrics) observeSend(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.sendSeconds.Observe(d.Seconds())
	if err == nil {
		m.emailsSent.Inc()
	}
}

func (m *Metrics) failed() {
	if m != nil {
		m.emailsFailed.Inc()
	}
}

// Register routes the email fleet's task types to their handlers.
func Register(mux *asynq.ServeMux, d fleet.Deps) {
	var m *Metrics
	if d.Metrics != nil {
		m = NewMetrics(d.Metrics)
	}
	box, err := storage.NewSecretBox(d.Config.EncryptionKey)
	if err != nil {
		d.Log.Warn("no ENCRYPTION_KEY: an SMTP password in the settings cannot be read", "err", err)
		box = nil
	}
	pool := smtppool.New(smtppool.Options{MaxConns: d.Config.Influence.SMTPPoolSize,
		IdleTimeout: d.Config.Influence.SMTPPoolIdle})
	h := &Handler{Store: d.Store, Queue: d.Queue, Config: d.Config, Box: box, Log: d.Log, Metrics: m,
		Inspector: d.Inspector(), Pool: pool}
	if d.Context != nil {
		// The cache keeps entries only while its listener is connected.
		h.Cache = NewCache(d.Config.Influence.WorkerCacheTTL)
		go h.Cache.Listen(d.Context, d.Store.Pool, d.Log)
		context.AfterFunc(d.Context, pool.Close)
	}
	mux.HandleFunc(tasks.TypeSendEmail, h.Send)
	mux.HandleFunc(tasks.TypeVerifyResponse, h.VerifyResponse)
	mux.HandleFunc(tasks.TypeSweepEmails, h.Sweep)
	mux.HandleFunc(tasks.TypeMapShiftEmail, h.ShiftEmail)
	mux.HandleFunc(tasks.TypeMapShiftEmailSweep, h.ShiftEmailSweep)
}
