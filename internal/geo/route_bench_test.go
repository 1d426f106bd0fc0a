//go:build unix

package geo

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOrderRoute500 reports, for 500 doors, the time per route and how
// much shorter it is than nearest neighbour (saved-%); the target is at
// least 8% in under 200 ms. cpu-ms/op is the process's CPU time per route,
// which, unlike ns/op, does not grow when other work shares the machine.
func BenchmarkOrderRoute500(b *testing.B) {
	for _, kind := range []struct {
		name string
		gen  func(uint64, int) (LatLng, []LatLng)
	}{{"uniform", uniformStops}, {"streets", cityStops}} {
		b.Run(kind.name, func(b *testing.B) {
			start, stops := kind.gen(1, 500)
			base := RouteLength(start, stops, NearestNeighbourRoute(start, stops))
			var got float64
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got = RouteLength(start, stops, OrderRoute(start, stops))
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(100*(1-got/base), "saved-%")
			b.ReportMetric(got, "route-m")
			b.ReportMetric(base, "nn-m")
		})
	}
}

func BenchmarkNearestNeighbour500(b *testing.B) {
	start, stops := uniformStops(1, 500)
	for i := 0; i < b.N; i++ {
		NearestNeighbourRoute(start, stops)
	}
}
