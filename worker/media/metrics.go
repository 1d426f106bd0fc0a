package media

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the media fleet's metrics: how long each ffprobe and
// ffmpeg run takes, failed and timed-out runs included (a run killed at its
// timeout lands in the top buckets, which is what an operator needs to see).
// cm_task_duration_seconds{type} also counts the Postgres and Redis work
// around a run; these count the tool alone. A nil *Metrics records
// nothing.
type Metrics struct {
	probeSeconds     prometheus.Histogram
	thumbnailSeconds prometheus.Histogram
}

// NewMetrics registers the media metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	// 10ms to about 10 minutes: a probe of a small file up to a thumbnail
	// cut that ran into a long timeout.
	buckets := prometheus.ExponentialBuckets(0.01, 2.5, 15)
	m := &Metrics{
		probeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cm_media_probe_seconds", Help: "Time of one ffprobe run on a video, failed runs included.",
			Buckets: buckets,
		}),
		thumbnailSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cm_media_thumbnail_seconds", Help: "Time of one ffmpeg run cutting a thumbnail, failed runs included.",
			Buckets: buckets,
		}),
	}
	reg.MustRegister(m.probeSeconds, m.thumbnailSeconds)
	return m
}

func (m *Metrics) observeProbe(d time.Duration) {
	if m != nil {
		m.probeSeconds.Observe(d.Seconds())
	}
}

func (m *Metrics) observeThumbnail(d time.Duration) {
	if m != nil {
		m.thumbnailSeconds.Observe(d.Seconds())
	}
}
