package store

import (
	"context"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"golang.org/x/sync/errgroup"
)

// cqlBatchBytes bounds the content of one unlogged batch. The batches here
// stay within one partition, which Cassandra and ScyllaDB apply as one
// mutation and exempt from batch_size_fail_threshold. The bound keeps that
// mutation small, so one append of long messages never becomes a
// multi-megabyte write.
const cqlBatchBytes = 48 << 10

// cqlBatchRows bounds the rows of one unlogged batch.
const cqlBatchRows = 100

// cqlWrite is one upsert with its bind values.
type cqlWrite struct {
	// partition is equal for two writes only when they write the same
	// partition of the same table, so each table needs its own key type.
	partition any
	// target names what the write updates, for error messages.
	target    string
	statement string
	values    []any
	// size is the length of the written content in bytes.
	size int
}

// runWrites groups writes by partition into unlogged batches and runs
// them with at most writeConcurrency in flight. A batch within one
// partition is applied as one mutation on one replica set, so it costs one
// round trip instead of one per row. gocql prepares each statement once
// per connection and routes a batch to a replica of its first statement's
// partition.
func (s *CQL) runWrites(ctx context.Context, writes []cqlWrite) error {
	byPartition := make(map[any][]cqlWrite)
	var order []any
	for _, write := range writes {
		if _, ok := byPartition[write.partition]; !ok {
			order = append(order, write.partition)
		}
		byPartition[write.partition] = append(byPartition[write.partition], write)
	}

	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for _, partition := range order {
		for _, chunk := range chunkWrites(byPartition[partition]) {
			group.Go(func() error { return s.execWrites(groupCtx, chunk) })
		}
	}
	return group.Wait()
}

// execWrites runs writes of one partition: a single write as a query, more
// as an unlogged batch.
func (s *CQL) execWrites(ctx context.Context, writes []cqlWrite) error {
	var err error
	if len(writes) == 1 {
		err = s.session.Query(writes[0].statement, writes[0].values...).ExecContext(ctx)
	} else {
		batch := s.session.Batch(gocql.UnloggedBatch)
		for _, write := range writes {
			batch.Query(write.statement, write.values...)
		}
		err = batch.ExecContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("write %d rows of %s: %w", len(writes), writes[0].target, err)
	}
	return nil
}

// chunkWrites splits one partition's writes into batches of at most
// cqlBatchRows rows and about cqlBatchBytes of content. A single larger
// write gets a batch of its own.
func chunkWrites(writes []cqlWrite) [][]cqlWrite {
	var chunks [][]cqlWrite
	start, size := 0, 0
	for i, write := range writes {
		if i > start && (i-start == cqlBatchRows || size+write.size > cqlBatchBytes) {
			chunks = append(chunks, writes[start:i])
			start, size = i, 0
		}
		size += write.size
	}
	if start < len(writes) {
		chunks = append(chunks, writes[start:])
	}
	return chunks
}
