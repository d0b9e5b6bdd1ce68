package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/peroxo/peroxo/authsvc/internal/googleid"
	"github.com/peroxo/peroxo/authsvc/internal/ratelimit"
	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
	"github.com/peroxo/peroxo/platform/ops"
	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// BenchmarkVerifyUserToken measures VerifyUserToken over the Connect
// protocol (HTTP/1.1, keep-alive) on loopback, with parallel callers, for
// each backend pair. It reports calls/s and the median and 99th percentile
// latency of single calls.
func BenchmarkVerifyUserToken(b *testing.B) {
	backends := map[string]func(b *testing.B) Options{
		"embedded": func(b *testing.B) Options {
			db := servicetest.SQLite(b)
			return Options{
				Tenants: tenants.NewSQLiteStore(db),
				Tokens:  tokens.NewSQLiteStore(db, nil),
				TenantLimiter: ratelimit.NewSQLiteLimiter(db,
					ratelimit.Rule{Limit: 3, Window: time.Hour}, nil),
			}
		},
		"postgres+redis": func(b *testing.B) Options {
			store, err := tenants.OpenPostgres(context.Background(), servicetest.PostgresURL(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(store.Close)
			client := servicetest.RedisClient(b)
			prefix := servicetest.RedisPrefix(b)
			return Options{
				Tenants: store,
				Tokens:  tokens.NewRedisStore(client, prefix),
				TenantLimiter: ratelimit.NewRedisLimiter(client, prefix,
					ratelimit.Rule{Limit: 3, Window: time.Hour}),
			}
		},
	}
	for _, name := range []string{"embedded", "postgres+redis"} {
		b.Run(name, func(b *testing.B) {
			options := backends[name](b)
			options.Google = googleid.New("https://issuer.invalid", "https://issuer.invalid/k", "", nil)
			options.AdminToken = testAdminToken
			options.TokenTTL = time.Hour
			registry := ops.NewRegistry()
			options.Metrics = NewMetrics(registry)
			options.Logger = slog.New(slog.DiscardHandler)
			server := serve(b, options, registry, nil)
			benchmarkVerify(b, server)
		})
	}
}

func benchmarkVerify(b *testing.B, server *testServer) {
	projectID, key := server.createTenant(b)
	userTokens := make([]string, 1000)
	for i := range userTokens {
		userTokens[i] = server.issueToken(b, projectID, key, fmt.Sprintf("user-%d", i))
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	b.Cleanup(transport.CloseIdleConnections)
	client := authv1connect.NewAuthServiceClient(&http.Client{Transport: transport}, server.URL)

	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for i := 0; pb.Next(); i++ {
			request := connect.NewRequest(&authv1.VerifyUserTokenRequest{
				UserToken: userTokens[i%len(userTokens)],
			})
			callStart := time.Now()
			_, err := client.VerifyUserToken(context.Background(), request)
			local = append(local, time.Since(callStart))
			if err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	percentile := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(percentile(0.50), "p50-µs")
	b.ReportMetric(percentile(0.99), "p99-µs")
}
