package imports

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"changemaker/storage"
)

// Metrics are the import fleet's metrics. A nil *Metrics records nothing.
type Metrics struct {
	rowsTotal   *prometheus.CounterVec
	partSeconds *prometheus.HistogramVec
	importSecs  *prometheus.HistogramVec
}

// NewMetrics registers the import metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rowsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_map_import_rows_total",
			Help: "Address rows handled by imports, by kind (NAR, CSV) and result (inserted, updated, skipped, filtered).",
		}, []string{"kind", "result"}),
		partSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cm_map_import_file_seconds",
			Help:    "Time one import task spent loading one file, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 12),
		}, []string{"kind"}),
		importSecs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cm_map_import_duration_seconds",
			Help:    "Time from upload to the end of an import, by kind and final status.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 12),
		}, []string{"kind", "status"}),
	}
	reg.MustRegister(m.rowsTotal, m.partSeconds, m.importSecs)
	return m
}

func (m *Metrics) rows(kind string, res storage.BatchResult, p storage.BatchProgress) {
	if m == nil {
		return
	}
	m.rowsTotal.WithLabelValues(kind, "inserted").Add(float64(res.Inserted))
	m.rowsTotal.WithLabelValues(kind, "updated").Add(float64(res.Updated))
	m.rowsTotal.WithLabelValues(kind, "skipped").Add(float64(p.Skipped))
	m.rowsTotal.WithLabelValues(kind, "filtered").Add(float64(p.Filtered + res.Filtered))
}

func (m *Metrics) part(kind string, d time.Duration) {
	if m != nil {
		m.partSeconds.WithLabelValues(kind).Observe(d.Seconds())
	}
}

func (m *Metrics) finished(kind, status string, created time.Time) {
	if m != nil {
		m.importSecs.WithLabelValues(kind, status).Observe(time.Since(created).Seconds())
	}
}
