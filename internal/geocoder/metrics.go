package geocoder

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the chain asks of each provider and how often the
// cache answers instead. A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	cache    *prometheus.CounterVec
}

// Request results, the result label of cm_geocode_requests_total.
const (
	ResultOK        = "ok"        // an answer
	ResultNotFound  = "not_found" // the provider found nothing
	ResultRetryable = "error"     // a failure that may pass (timeout, 5xx, rate limit)
	ResultPermanent = "rejected"  // a failure that will not (bad key, refused request)
)

// NewMetrics registers the geocoding metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_geocode_requests_total",
			Help: "Geocoding requests by provider, operation (geocode, reverse) and result (ok, not_found, error, rejected); cache hits are not requests.",
		}, []string{"provider", "op", "result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_geocode_cache_total",
			Help: "Geocoding cache look-ups by provider, operation and result (hit, miss).",
		}, []string{"provider", "op", "result"}),
	}
	reg.MustRegister(m.requests, m.cache)
	return m
}

func (m *Metrics) request(provider, op, result string) {
	if m != nil {
		m.requests.WithLabelValues(provider, op, result).Inc()
	}
}

func (m *Metrics) cacheLookup(provider, op string, hit bool) {
	if m != nil {
		r := "miss"
		if hit {
			r = "hit"
		}
		m.cache.WithLabelValues(provider, op, r).Inc()
	}
}
