package email_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"changemaker/worker/email"
)

func TestMetricsRegistered(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	email.NewMetrics(reg)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for _, name := range []string{"cm_emails_sent_total", "cm_emails_failed_total", "cm_email_send_seconds"} {
		if !have[name] {
			t.Errorf("metric %s is not registered", name)
		}
	}
}
