package represent

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the represent fleet's metrics. A nil *Metrics records nothing.
type Metrics struct {
	upstreamByCode *prometheus.CounterVec
}

// NewMetrics registers the represent metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		upstreamByCode: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_represent_upstream_requests_total", Help: "Requests to the Represent API by HTTP status (0: no answer).",
		}, []string{"status"}),
	}
	reg.MustRegister(m.upstreamByCode)
	return m
}

func (m *Metrics) upstream(status int) {
	if m != nil {
		m.upstreamByCode.WithLabelValues(strconv.Itoa(status)).Inc()
	}
}
