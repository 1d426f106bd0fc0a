package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Every query is built only on metrics the code exports today (README,
// "Metrics"); deploy/grafana's test runs each one against a Prometheus that
// scraped a running `changemaker all` and fails on an empty one. Queue
// metrics are read from Redis by every process that exports them, so they
// are taken as the max per queue: the same number whatever the number of
// exporters.

type row struct {
	title  string
	panels []panel
}

type panel struct {
	title, description string
	unit               string
	stat               bool // a single number per series instead of a graph
	width              uint32
	queries            []query
}

type query struct{ expr, legend string }

func (p panel) targets() []cog.Builder[variants.Dataquery] {
	var ts []cog.Builder[variants.Dataquery]
	for i, q := range p.queries {
		ts = append(ts, prometheus.NewDataqueryBuilder().
			Datasource(datasource()).
			RefId(string(rune('A'+i))).
			Expr(q.expr).
			LegendFormat(q.legend))
	}
	return ts
}

func (p panel) build(id uint32) cog.Builder[dashboard.Panel] {
	width := p.width
	if width == 0 {
		width = 12
	}
	if p.stat {
		return stat.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).Datasource(datasource()).
			Unit(p.unit).Height(6).Span(width).
			GraphMode(common.BigValueGraphModeArea).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
			Targets(p.targets())
	}
	return timeseries.NewPanelBuilder().
		Id(id).Title(p.title).Description(p.description).Datasource(datasource()).
		Unit(p.unit).Min(0).Height(8).Span(width).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"mean", "max", "lastNotNull"})).
		Targets(p.targets())
}

func rows() []row {
	return []row{
		{title: "HTTP: main API and media API", panels: []panel{
			{title: "Requests per second, by API and route", unit: units.RequestsPerSecond,
				description: "job changemaker-api is the main API, changemaker-media the media API; route is the route pattern.",
				queries:     []query{{`sum by (job, route) (rate(http_request_total[$__rate_interval]))`, "{{job}} {{route}}"}}},
			{title: "Error answers per second, by route and status (4xx, 5xx)", unit: units.RequestsPerSecond,
				description: "4xx are mostly clients (404, 401, 429 rate limits); 5xx are ours.",
				queries:     []query{{`sum by (job, route, status) (rate(http_request_total{status=~"4..|5.."}[$__rate_interval]))`, "{{job}} {{route}} {{status}}"}}},
			{title: "5xx ratio, by API", unit: units.PercentUnit,
				description: "Share of requests answered 5xx. Alert ChangemakerHTTP5xxRatioHigh fires above 5% for 5 minutes.",
				queries:     []query{{`(sum by (job) (rate(http_request_total{status=~"5.."}[$__rate_interval])) or 0 * sum by (job) (rate(http_request_total[$__rate_interval]))) / sum by (job) (rate(http_request_total[$__rate_interval]))`, "{{job}}"}}},
			{title: "Latency by API (p50, p95, p99)", unit: units.Seconds,
				queries: []query{
					{`histogram_quantile(0.50, sum by (job, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{job}} p50"},
					{`histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{job}} p95"},
					{`histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{job}} p99"},
				}},
			{title: "Latency p95, by route", unit: units.Seconds, width: 24,
				queries: []query{{`histogram_quantile(0.95, sum by (job, route, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{job}} {{route}}"}}},
		}},
		{title: "Queues", panels: []panel{
			{title: "Queue size", unit: units.Short,
				description: "Tasks in each queue, every state but completed.",
				queries:     []query{{`max by (queue) (asynq_queue_size)`, "{{queue}}"}}},
			{title: "Queue latency (oldest pending task)", unit: units.Seconds,
				description: "How long the oldest pending task of each queue has waited. Alert ChangemakerQueueLatencyHigh: over 2 minutes (media: 15) for 5 minutes.",
				queries:     []query{{`max by (queue) (asynq_queue_latency_seconds)`, "{{queue}}"}}},
			{title: "Tasks by queue and state", unit: units.Short,
				description: "retry: waiting to be tried again; archived: out of retries (alert ChangemakerTasksArchived).",
				queries:     []query{{`max by (queue, state) (asynq_queue_tasks{state=~"pending|active|scheduled|retry|archived"})`, "{{queue}} {{state}}"}}},
			{title: "Processed and failed per second, by queue", unit: units.OpsPerSecond,
				description: "Failed counts attempts that returned an error (alert ChangemakerTasksFailing).",
				queries: []query{
					{`max by (queue) (rate(asynq_tasks_processed_total[$__rate_interval]))`, "{{queue}} processed"},
					{`max by (queue) (rate(asynq_tasks_failed_total[$__rate_interval]))`, "{{queue}} failed"},
				}},
			{title: "Task wait, enqueue to start (p50, p95), by queue", unit: units.Seconds, width: 24,
				description: "cm_task_wait_seconds: how long tasks waited in their queue before a worker started them (first attempts), measured by the workers. " +
					"What deploy/keda scales each fleet on. Alert ChangemakerTaskWaitHigh: p95 over 1 minute (media: 10) for 10 minutes.",
				queries: []query{
					{`histogram_quantile(0.50, sum by (queue, le) (rate(cm_task_wait_seconds_bucket[$__rate_interval])))`, "{{queue}} p50"},
					{`histogram_quantile(0.95, sum by (queue, le) (rate(cm_task_wait_seconds_bucket[$__rate_interval])))`, "{{queue}} p95"},
				}},
		}},
		{title: "Worker fleets", panels: []panel{
			{title: "Tasks handled per second, by type and result", unit: units.OpsPerSecond,
				description: "result: ok, error (retried) or skip (not retried).",
				queries:     []query{{`sum by (type, result) (rate(cm_tasks_processed_total[$__rate_interval]))`, "{{type}} {{result}}"}}},
			{title: "Task duration p95, by type", unit: units.Seconds,
				queries: []query{{`histogram_quantile(0.95, sum by (type, le) (rate(cm_task_duration_seconds_bucket[$__rate_interval])))`, "{{type}}"}}},
		}},
		{title: "Influence: email and Represent", panels: []panel{
			{title: "Campaign emails sent and failed per second", unit: units.OpsPerSecond,
				description: "Failed: marked FAILED, refused or out of retries. Alert ChangemakerEmailFailureRatioHigh: over 10% for 10 minutes.",
				queries: []query{
					{`sum(rate(cm_emails_sent_total[$__rate_interval]))`, "sent"},
					{`sum(rate(cm_emails_failed_total[$__rate_interval]))`, "failed"},
				}},
			{title: "SMTP hand-off time (p50, p95)", unit: units.Seconds,
				queries: []query{
					{`histogram_quantile(0.50, sum by (le) (rate(cm_email_send_seconds_bucket[$__rate_interval])))`, "p50"},
					{`histogram_quantile(0.95, sum by (le) (rate(cm_email_send_seconds_bucket[$__rate_interval])))`, "p95"},
				}},
			{title: "Send route: requests per INSERT (mean, p95)", unit: units.Short,
				description: "Constituents' requests whose email rows the main API wrote with one INSERT and commit (SEND_INSERT_SLOTS). 1 means no batching: the load is light or the slots are enough.",
				queries: []query{
					{`sum(rate(cm_send_insert_batch_requests_sum[$__rate_interval])) / sum(rate(cm_send_insert_batch_requests_count[$__rate_interval]))`, "mean"},
					{`histogram_quantile(0.95, sum by (le) (rate(cm_send_insert_batch_requests_bucket[$__rate_interval])))`, "p95"},
				}},
			{title: "Represent API answers per second, by status", unit: units.RequestsPerSecond,
				description: "status 0: no answer (DNS, refused, timeout); 404: unknown postal code; 503: Represent's rate limit. Alert ChangemakerRepresentUpstreamFailing.",
				queries:     []query{{`sum by (status) (rate(cm_represent_upstream_requests_total[$__rate_interval]))`, "{{status}}"}}},
			{title: "Representative lookups per second, by result", unit: units.RequestsPerSecond,
				description: "hit: fresh cache; miss: waited for the worker; pending: answered 202; unknown: 404; unavailable: 503.",
				queries:     []query{{`sum by (result) (rate(cm_represent_lookups_total[$__rate_interval]))`, "{{result}}"}}},
		}},
		{title: "Media", panels: []panel{
			{title: "Probes and thumbnails per second", unit: units.OpsPerSecond,
				description: "ffprobe and ffmpeg runs, failed and timed-out runs included.",
				queries: []query{
					{`sum(rate(cm_media_probe_seconds_count[$__rate_interval]))`, "probes"},
					{`sum(rate(cm_media_thumbnail_seconds_count[$__rate_interval]))`, "thumbnails"},
				}},
			{title: "ffprobe and ffmpeg time (p95)", unit: units.Seconds,
				queries: []query{
					{`histogram_quantile(0.95, sum by (le) (rate(cm_media_probe_seconds_bucket[$__rate_interval])))`, "probe p95"},
					{`histogram_quantile(0.95, sum by (le) (rate(cm_media_thumbnail_seconds_bucket[$__rate_interval])))`, "thumbnail p95"},
				}},
			{title: "Upload bytes per second", unit: units.BytesPerSecondIEC, width: 8,
				queries: []query{{`sum(rate(cm_media_upload_bytes_total[$__rate_interval]))`, "stored"}}},
			{title: "Uploads per second, by container type", unit: units.OpsPerSecond, width: 8,
				queries: []query{{`sum by (type) (rate(cm_media_uploads_total[$__rate_interval]))`, "{{type}}"}}},
			{title: "Media disk free (node_exporter)", unit: units.PercentUnit, width: 8,
				description: "Changemaker exports no disk metric: this is node_exporter's, scraped as job \"node\" on the hosts holding MEDIA_ROOT. Alert ChangemakerMediaDiskNearlyFull: under 10%.",
				queries:     []query{{`node_filesystem_avail_bytes{job="node", mountpoint=~"/var/lib/changemaker|/var/lib|/var|/", fstype!~"tmpfs|ramfs"} / node_filesystem_size_bytes{job="node", mountpoint=~"/var/lib/changemaker|/var/lib|/var|/", fstype!~"tmpfs|ramfs"}`, "{{instance}} {{mountpoint}}"}}},
		}},
		{title: "Processes", panels: []panel{
			{title: "Targets up, by job", stat: true, unit: units.Short, width: 24,
				description: "Scrape targets answering, per job. Alert ChangemakerInstanceDown: one down for 2 minutes.",
				queries:     []query{{`sum by (job) (up{job=~"changemaker.*"})`, "{{job}}"}}},
			{title: "Resident memory", unit: units.BytesIEC,
				queries: []query{{`process_resident_memory_bytes{job=~"changemaker.*"}`, "{{job}} {{instance}}"}}},
			{title: "Go heap in use", unit: units.BytesIEC,
				queries: []query{{`go_memstats_heap_inuse_bytes{job=~"changemaker.*"}`, "{{job}} {{instance}}"}}},
			{title: "Goroutines", unit: units.Short,
				queries: []query{{`go_goroutines{job=~"changemaker.*"}`, "{{job}} {{instance}}"}}},
			{title: "CPU (cores)", unit: units.Short,
				queries: []query{{`rate(process_cpu_seconds_total{job=~"changemaker.*"}[$__rate_interval])`, "{{job}} {{instance}}"}}},
		}},
		{title: "Map: imports, geocoding, canvassing, shifts", panels: []panel{
			{title: "Import rows per second, by kind and result", unit: units.OpsPerSecond,
				description: "cm_map_import_rows_total, counted by the import fleet: kind NAR or CSV; result inserted, updated, " +
					"skipped (a bad row, reported with its line) or filtered (outside the import's filters).",
				queries: []query{{`sum by (kind, result) (rate(cm_map_import_rows_total[$__rate_interval]))`, "{{kind}} {{result}}"}}},
			{title: "Imports finished per second, by kind and status", unit: units.OpsPerSecond,
				description: "cm_map_import_duration_seconds_count: imports that ended DONE, FAILED or CANCELLED.",
				queries:     []query{{`sum by (kind, status) (rate(cm_map_import_duration_seconds_count[$__rate_interval]))`, "{{kind}} {{status}}"}}},
			{title: "Import time, upload to end (p50, p95), by kind", unit: units.Seconds,
				description: "cm_map_import_duration_seconds: from the upload to the import's end, whatever its status.",
				queries: []query{
					{`histogram_quantile(0.50, sum by (kind, le) (rate(cm_map_import_duration_seconds_bucket[$__rate_interval])))`, "{{kind}} p50"},
					{`histogram_quantile(0.95, sum by (kind, le) (rate(cm_map_import_duration_seconds_bucket[$__rate_interval])))`, "{{kind}} p95"},
				}},
			{title: "Import time per file (p50, p95), by kind", unit: units.Seconds,
				description: "cm_map_import_file_seconds: one import task loading one file (a release's Address files are one task each).",
				queries: []query{
					{`histogram_quantile(0.50, sum by (kind, le) (rate(cm_map_import_file_seconds_bucket[$__rate_interval])))`, "{{kind}} p50"},
					{`histogram_quantile(0.95, sum by (kind, le) (rate(cm_map_import_file_seconds_bucket[$__rate_interval])))`, "{{kind}} p95"},
				}},
			{title: "Geocoding requests per second, by provider and result", unit: units.RequestsPerSecond,
				description: "cm_geocode_requests_total (geocode fleet and reverse look-ups of the main API): result ok, not_found, " +
					"error (may pass: timeout, 5xx, rate limit) or rejected (will not: bad key, refused). Cache hits are not requests.",
				queries: []query{{`sum by (provider, result) (rate(cm_geocode_requests_total[$__rate_interval]))`, "{{provider}} {{result}}"}}},
			{title: "Geocoding cache hits and misses per second, by provider", unit: units.OpsPerSecond,
				description: "cm_geocode_cache_total: network providers only (nar is local and not cached). A hit answers without asking the provider.",
				queries:     []query{{`sum by (provider, result) (rate(cm_geocode_cache_total[$__rate_interval]))`, "{{provider}} {{result}}"}}},
			{title: "Canvass visits per second, by outcome", unit: units.OpsPerSecond,
				description: "cm_map_canvass_visits_total: doors recorded; a retried clientId is not counted again.",
				queries:     []query{{`sum by (outcome) (rate(cm_map_canvass_visits_total[$__rate_interval]))`, "{{outcome}}"}}},
			{title: "Shift signups per second, by source", unit: units.OpsPerSecond,
				description: "cm_map_shift_signups_total: SELF (a logged-in volunteer), PUBLIC (the public form) or ADMIN (added by an admin).",
				queries:     []query{{`sum by (source) (rate(cm_map_shift_signups_total[$__rate_interval]))`, "{{source}}"}}},
		}},
	}
}
