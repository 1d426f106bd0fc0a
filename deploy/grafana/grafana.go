// Package grafana holds the Changemaker Grafana dashboard: the generator
// (./generator, a module of its own that builds the dashboard with
// grafana-foundation-sdk), the JSON it writes (dashboards/changemaker.json,
// committed) and the provisioning files compose mounts into Grafana. Its
// tests check that the JSON is what the generator writes and run every
// panel's query against a real Prometheus scraping a running platform.
package grafana

//go:generate sh -c "cd generator && go run . -o ../dashboards/changemaker.json"
