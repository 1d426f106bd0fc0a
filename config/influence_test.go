package config_test

import (
	"strings"
	"testing"
	"time"

	"changemaker/config"
)

func TestInfluenceCacheTTLs(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Influence.PageCacheTTL != time.Second || c.Influence.ToggleCacheTTL != 2*time.Second {
		t.Errorf("defaults = %v, %v", c.Influence.PageCacheTTL, c.Influence.ToggleCacheTTL)
	}
	if c.Influence.CallRateLimit != 30 || c.Influence.CallRateWindow != time.Hour {
		t.Errorf("call limit defaults = %d per %v", c.Influence.CallRateLimit, c.Influence.CallRateWindow)
	}
	c, err = config.Load(env(map[string]string{"PUBLIC_CAMPAIGN_CACHE_TTL": "0", "INFLUENCE_TOGGLE_CACHE_TTL": "0s"}))
	if err != nil || c.Influence.PageCacheTTL != 0 || c.Influence.ToggleCacheTTL != 0 {
		t.Errorf("0 = %v, %v, %v; want both off", c.Influence.PageCacheTTL, c.Influence.ToggleCacheTTL, err)
	}
	_, err = config.Load(env(map[string]string{"PUBLIC_CAMPAIGN_CACHE_TTL": "-1s"}))
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_CAMPAIGN_CACHE_TTL") {
		t.Errorf("negative = %v, want an error naming it", err)
	}
}

func TestRepresentLookupLimits(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	ic := c.Influence
	if ic.LookupMissRateLimit != 10 || ic.LookupMissRateWindow != time.Minute || ic.RepresentRetryCooldown != time.Minute {
		t.Errorf("defaults = %d per %v, cooldown %v", ic.LookupMissRateLimit, ic.LookupMissRateWindow, ic.RepresentRetryCooldown)
	}
	c, err = config.Load(env(map[string]string{"REPRESENT_LOOKUP_MISS_RATE_LIMIT": "3",
		"REPRESENT_LOOKUP_MISS_RATE_WINDOW": "10m", "REPRESENT_RETRY_COOLDOWN": "0"}))
	if err != nil || c.Influence.LookupMissRateLimit != 3 || c.Influence.LookupMissRateWindow != 10*time.Minute ||
		c.Influence.RepresentRetryCooldown != 0 {
		t.Errorf("set = %+v, %v", c.Influence, err)
	}
}
