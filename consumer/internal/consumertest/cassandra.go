package consumertest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// CassandraKeyspace returns a new random keyspace name for chatsvc on
// hosts and drops the keyspace when the test ends, because several
// engineers share the Cassandra server.
func CassandraKeyspace(tb testing.TB, hosts string) string {
	tb.Helper()
	keyspace := "consumer_test_" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		cluster := gocql.NewCluster(strings.Split(hosts, ",")...)
		cluster.Timeout = time.Minute
		session, err := cluster.CreateSession()
		if err != nil {
			tb.Errorf("connect to cassandra to drop %s: %v", keyspace, err)
			return
		}
		defer session.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := session.Query("DROP KEYSPACE IF EXISTS " + keyspace).
			ExecContext(ctx); err != nil {
			tb.Errorf("drop keyspace %s: %v", keyspace, err)
		}
	})
	return keyspace
}
