package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
)

// CQLConfig configures [OpenCQL].
type CQLConfig struct {
	// Hosts are the contact points, host:port.
	Hosts []string
	// Keyspace is created at start when missing.
	Keyspace string
	// Replication is the CQL map literal used by CREATE KEYSPACE, for
	// example {'class':'SimpleStrategy','replication_factor':1}.
	Replication string
	// Consistency names the consistency level of every read and write,
	// for example LOCAL_QUORUM.
	Consistency string
	// Timeout bounds one query on the client side.
	Timeout time.Duration
	// ConnectTimeout bounds dialing and connection setup.
	ConnectTimeout time.Duration
	// Bucket is the time span of one messages partition. It is recorded in
	// the keyspace on first start and may not change afterwards.
	Bucket time.Duration
	// WriteConcurrency bounds the queries one Append runs at once.
	WriteConcurrency int
	// Logger receives the driver's log lines.
	Logger *slog.Logger
}

var keyspacePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)

// CQL is the [Store] on ScyllaDB or Cassandra. It owns a gocql session,
// which is safe for concurrent use, and the cache of written bucket index
// rows, which locks itself.
type CQL struct {
	session          *gocql.Session
	keyspace         string
	bucketMS         int64
	writeConcurrency int
	indexed          *indexCache
	closeOnce        sync.Once
}

// OpenCQL connects to the cluster, creates the keyspace when missing,
// applies pending schema migrations and checks the bucket size against
// the one recorded in the keyspace.
func OpenCQL(ctx context.Context, cfg CQLConfig) (*CQL, error) {
	if !keyspacePattern.MatchString(cfg.Keyspace) {
		return nil, fmt.Errorf("open cql store: keyspace %q is not a valid CQL name", cfg.Keyspace)
	}
	if cfg.Bucket < time.Millisecond {
		return nil, fmt.Errorf("open cql store: bucket %s is shorter than 1ms", cfg.Bucket)
	}
	consistency, err := gocql.ParseConsistencyWrapper(cfg.Consistency)
	if err != nil {
		return nil, fmt.Errorf("open cql store: %w", err)
	}

	// The keyspace must exist before a session can be bound to it, so a
	// short-lived session without a keyspace creates it first.
	bootstrap, err := newCluster(cfg, consistency, "").CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect to cql hosts %v: %w", cfg.Hosts, err)
	}
	err = bootstrap.Query(fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s",
		cfg.Keyspace, cfg.Replication)).ExecContext(ctx)
	bootstrap.Close()
	if err != nil {
		return nil, fmt.Errorf("create keyspace %s: %w", cfg.Keyspace, err)
	}

	session, err := newCluster(cfg, consistency, cfg.Keyspace).CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect to keyspace %s: %w", cfg.Keyspace, err)
	}
	if err := migrate(ctx, session); err != nil {
		session.Close()
		return nil, err
	}
	if err := checkBucketSetting(ctx, session, cfg.Bucket); err != nil {
		session.Close()
		return nil, err
	}
	concurrency := max(cfg.WriteConcurrency, 1)
	return &CQL{
		session:          session,
		keyspace:         cfg.Keyspace,
		bucketMS:         cfg.Bucket.Milliseconds(),
		writeConcurrency: concurrency,
		indexed:          newIndexCache(cqlIndexCacheSize),
	}, nil
}

func newCluster(cfg CQLConfig, consistency gocql.Consistency, keyspace string) *gocql.ClusterConfig {
	cluster := gocql.NewCluster(cfg.Hosts...)
	cluster.Keyspace = keyspace
	cluster.Consistency = consistency
	cluster.SerialConsistency = gocql.LocalSerial
	cluster.Timeout = cfg.Timeout
	cluster.ConnectTimeout = cfg.ConnectTimeout
	// Token-aware routing sends each statement to a replica of its
	// partition. gocql prepares every query that has bind values and reads
	// the partition key from the prepared statement's metadata. Shuffling
	// the replicas spreads a hot partition's reads over all its replicas.
	cluster.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(
		gocql.RoundRobinHostPolicy(), gocql.ShuffleReplicas())
	// gocql retries only queries marked idempotent. Every write here is:
	// upserts of identical values, list updates with a write time taken
	// from the message, and the IF NOT EXISTS of the bucket setting, whose
	// retry after a lost reply reads the value it wrote.
	cluster.DefaultIdempotence = true
	cluster.RetryPolicy = &gocql.ExponentialBackoffRetryPolicy{
		NumRetries: 3,
		Min:        50 * time.Millisecond,
		Max:        time.Second,
	}
	if cfg.Logger != nil {
		cluster.Logger = slogCQLLogger{cfg.Logger}
	}
	return cluster
}

// Ping runs a query against the local node's system table.
func (s *CQL) Ping(ctx context.Context) error {
	var version string
	err := s.session.Query(`SELECT release_version FROM system.local`).
		ScanContext(ctx, &version)
	if err != nil {
		return fmt.Errorf("ping cql: %w", err)
	}
	return nil
}

// Close closes the session. It is idempotent.
func (s *CQL) Close() error {
	s.closeOnce.Do(s.session.Close)
	return nil
}

func (s *CQL) bucketOf(id uuid.UUID) int64 {
	return IDTime(id) / s.bucketMS
}

// cqlWriteTime returns the write time, in microseconds, for a list row
// whose last message is id. Cassandra and ScyllaDB keep the cell with the
// greater write time, so a message that arrives late cannot replace a newer
// last message, without a read or a lightweight transaction. The value is
// the id's millisecond time times 1000 plus its 12 sequence bits scaled to
// 0..999, which never decreases in id order. Between two live cells
// without TTL and with equal write times, the greater value as bytes wins
// (Conflicts.resolveRegular in Cassandra, atomic_cell reconciliation in
// ScyllaDB). The encoded value starts with the id, so the greater id wins
// there too.
func cqlWriteTime(id uuid.UUID) int64 {
	sequence := int64(id[6]&0x0f)<<8 | int64(id[7])
	return IDTime(id)*1000 + sequence*1000>>12
}

// lastMessageRecord is the JSON part of a list row's last_message cell.
type lastMessageRecord struct {
	PeerUserID      string `json:"peer_user_id,omitempty"`
	Kind            Kind   `json:"kind"`
	ChannelID       string `json:"channel_id"`
	ClientMessageID string `json:"client_message_id"`
	SenderID        string `json:"sender_id"`
	RecipientID     string `json:"recipient_id,omitempty"`
	Content         string `json:"content"`
	TimestampMS     int64  `json:"ts"`
}

func encodeLastMessage(message Message, peer string) ([]byte, error) {
	encoded, err := json.Marshal(lastMessageRecord{
		PeerUserID:      peer,
		Kind:            message.Channel.Kind,
		ChannelID:       message.Channel.ID,
		ClientMessageID: message.ClientMessageID,
		SenderID:        message.SenderID,
		RecipientID:     message.RecipientID,
		Content:         message.Content,
		TimestampMS:     message.TimestampMS,
	})
	if err != nil {
		return nil, fmt.Errorf("encode last message %s: %w", message.ID, err)
	}
	return append(message.ID[:], encoded...), nil
}

func decodeLastMessage(projectID string, cell []byte) (Message, string, error) {
	if len(cell) < 16 {
		return Message{}, "", fmt.Errorf("decode last message: %d bytes, expected at least 16",
			len(cell))
	}
	var record lastMessageRecord
	if err := json.Unmarshal(cell[16:], &record); err != nil {
		return Message{}, "", fmt.Errorf("decode last message: %w", err)
	}
	message := Message{
		Channel:         Channel{ProjectID: projectID, Kind: record.Kind, ID: record.ChannelID},
		ID:              uuid.UUID(cell[:16]),
		ClientMessageID: record.ClientMessageID,
		SenderID:        record.SenderID,
		RecipientID:     record.RecipientID,
		Content:         record.Content,
		TimestampMS:     record.TimestampMS,
	}
	return message, record.PeerUserID, nil
}

// slogCQLLogger forwards the driver's structured log lines to slog.
type slogCQLLogger struct{ logger *slog.Logger }

func (l slogCQLLogger) log(level slog.Level, msg string, fields []gocql.LogField) {
	attrs := make([]any, 0, len(fields))
	for _, field := range fields {
		attrs = append(attrs, slog.Any(field.Name, field.Value.Any()))
	}
	l.logger.Log(context.Background(), level, msg, attrs...)
}

func (l slogCQLLogger) Error(msg string, fields ...gocql.LogField) {
	l.log(slog.LevelError, msg, fields)
}

func (l slogCQLLogger) Warning(msg string, fields ...gocql.LogField) {
	l.log(slog.LevelWarn, msg, fields)
}

func (l slogCQLLogger) Info(msg string, fields ...gocql.LogField) {
	l.log(slog.LevelInfo, msg, fields)
}

func (l slogCQLLogger) Debug(msg string, fields ...gocql.LogField) {
	l.log(slog.LevelDebug, msg, fields)
}
