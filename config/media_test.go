package config

import "testing"

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "10GiB": 10 << 30, "10G": 10 << 30, "500MB": 500e6, "64k": 64 << 10, "2 GiB": 2 << 30, "7B": 7,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ten", "-5", "5XB", "99999999999TiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestMediaConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"MEDIA_ROOT": "/srv/media", "MEDIA_MAX_UPLOAD": "2GiB"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Media.Root != "/srv/media" || c.Media.MaxUpload != 2<<30 || c.Media.ProbeTimeout <= 0 || c.Media.PublicCacheTTL.Minutes() != 5 {
		t.Fatalf("media config = %+v", c.Media)
	}
	if c.Media.StreamRateLimit != 3000 || c.Media.SettingsTTL.Seconds() != 5 {
		t.Fatalf("stream limit and settings TTL defaults = %d, %v", c.Media.StreamRateLimit, c.Media.SettingsTTL)
	}
	env["MEDIA_STREAM_RATE_LIMIT"] = "0"
	if c, err := Load(func(k string) string { return env[k] }); err != nil || c.Media.StreamRateLimit != 0 {
		t.Fatalf("MEDIA_STREAM_RATE_LIMIT=0: %d, %v; want 0 (no limit)", c.Media.StreamRateLimit, err)
	}
	env["MEDIA_MAX_UPLOAD"] = "lots"
	if _, err := Load(func(k string) string { return env[k] }); err == nil {
		t.Fatal("MEDIA_MAX_UPLOAD=lots accepted")
	}
}
