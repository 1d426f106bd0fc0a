package worker

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/storage"
	"changemaker/tasks"
)

// InfluenceMetrics are the email and represent fleets' metrics. A nil
// *InfluenceMetrics records nothing.
type InfluenceMetrics struct {
	emailsSent     prometheus.Counter
	emailsFailed   prometheus.Counter
	sendSeconds    prometheus.Histogram
	upstreamByCode *prometheus.CounterVec
}

// NewInfluenceMetrics registers the influence metrics on reg.
func NewInfluenceMetrics(reg prometheus.Registerer) *InfluenceMetrics {
	m := &InfluenceMetrics{
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
		upstreamByCode: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_represent_upstream_requests_total", Help: "Requests to the Represent API by HTTP status (0: no answer).",
		}, []string{"status"}),
	}
	reg.MustRegister(m.emailsSent, m.emailsFailed, m.sendSeconds, m.upstreamByCode)
	return m
}

func (m *InfluenceMetrics) observeSend(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.sendSeconds.Observe(d.Seconds())
	if err == nil {
		m.emailsSent.Inc()
	}
}

func (m *InfluenceMetrics) failed() {
	if m != nil {
		m.emailsFailed.Inc()
	}
}

func (m *InfluenceMetrics) upstream(status int) {
	if m != nil {
		m.upstreamByCode.WithLabelValues(strconv.Itoa(status)).Inc()
	}
}

// registerInfluence routes the email and represent fleets' task types.
func registerInfluence(mux *asynq.ServeMux, d Deps, m *Metrics) {
	var im *InfluenceMetrics
	if m != nil {
		im = m.influence
	}
	box, err := storage.NewSecretBox(d.Config.EncryptionKey)
	if err != nil {
		d.Log.Warn("no ENCRYPTION_KEY: an SMTP password in the settings cannot be read", "err", err)
		box = nil
	}
	ic := d.Config.Influence
	var inspector *asynq.Inspector
	if d.Redis != nil {
		// Shares the process's client (same server and database as the queues);
		// the process closes it.
		inspector = asynq.NewInspectorFromRedisClient(d.Redis)
	}
	rp := &Represent{Store: d.Store, Redis: d.Redis, Queue: d.Queue, HTTP: &http.Client{Timeout: ic.RepresentTimeout},
		BaseURL: ic.RepresentBaseURL, RateLimit: ic.RepresentRateLimit, CacheTTL: ic.RepresentCacheTTL,
		Inspector: inspector, RetryCooldown: ic.RepresentRetryCooldown, Log: d.Log, Metrics: im}
	mux.HandleFunc(tasks.TypeRepresentLookup, rp.Lookup)
	mux.HandleFunc(tasks.TypeRepresentRefresh, rp.Refresh)
	em := &Email{Store: d.Store, Queue: d.Queue, Config: d.Config, Box: box, Log: d.Log, Metrics: im,
		Inspector: inspector}
	mux.HandleFunc(tasks.TypeSendEmail, em.Send)
	mux.HandleFunc(tasks.TypeVerifyResponse, em.VerifyResponse)
	mux.HandleFunc(tasks.TypeSweepEmails, em.Sweep)
}
