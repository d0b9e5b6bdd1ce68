package scenario

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/payload"
	"github.com/peroxo/peroxo/bench/internal/report"
	"github.com/peroxo/peroxo/bench/internal/schedule"
)

// room is a fanout room with its receiving members and its publishers.
type room struct {
	id         string
	members    []*member
	publishers []*member
}

// runFanout puts Members receivers and Publishers senders into one room
// and sends Rate room messages per second over all publishers. Every
// member expects every message; publishers' own copies are not counted.
func (r *run) runFanout(ctx context.Context) (*report.Report, error) {
	return r.fanout(ctx, nil)
}

// fanout runs the fanout scenario; during runs alongside the send window
// when it is not nil, and may add to the report.
func (r *run) fanout(
	ctx context.Context,
	during func(ctx context.Context, room *room, plan schedule.Plan) func(*report.Report),
) (*report.Report, error) {
	room, err := r.openRoom(ctx)
	if err != nil {
		return nil, err
	}
	all := append(append([]*member(nil), room.members...), room.publishers...)
	defer func() {
		r.closeMembers(all)
		r.waitReaders()
	}()
	plan, err := r.startPlan(len(room.publishers))
	if err != nil {
		return nil, err
	}
	var finish func(*report.Report)
	sendCtx, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	duringDone := make(chan struct{})
	go func() {
		defer close(duringDone)
		if during != nil {
			finish = during(sendCtx, room, plan)
		}
	}()
	r.sendAll(ctx, plan, room.publishers, func(publisher *member) frameBuilder {
		return func(seq int64, content string) ([]byte, error) {
			return client.EncodeRoomMessage(client.RoomMessage{
				RoomID:    room.id,
				From:      publisher.userID,
				Content:   content,
				MessageID: payload.ClientMessageID(r.id, payload.KindMessage, publisher.sender, seq),
			})
		}
	})
	members := int64(len(room.members))
	r.drain(ctx, func() bool {
		sent := r.sent.Load()
		acks := sum(room.publishers)
		return sum(room.members).delivered >= sent*members && acks.acksPersisted+acks.acksFailed >= sent
	})
	cancelSend()
	<-duringDone

	rep := r.baseReport(len(all))
	r.trafficReport(rep, plan, room.members, r.sent.Load()*members)
	r.ackReport(rep, room.publishers)
	if finish != nil {
		finish(rep)
	}
	return rep, nil
}

// openRoom connects the members and publishers, joins them all to a new
// room and waits until the gateway confirmed every join.
func (r *run) openRoom(ctx context.Context) (*room, error) {
	room := &room{id: fmt.Sprintf("bench-%08x", r.id)}
	for i, userID := range r.userIDs("m", r.options.Members) {
		room.members = append(room.members, newMember(i, userID, -1, true))
	}
	for i, userID := range r.userIDs("p", r.options.Publishers) {
		room.publishers = append(room.publishers, newMember(len(room.members)+i, userID, i, false))
	}
	all := append(append([]*member(nil), room.members...), room.publishers...)
	if err := r.openMembers(ctx, all); err != nil {
		return nil, err
	}
	if err := r.joinRoom(ctx, room.id, all); err != nil {
		r.closeMembers(all)
		return nil, err
	}
	return room, nil
}

// joinRoom sends JoinRoom from every member and waits for their RoomJoined
// confirmations, up to the warm-up bound.
func (r *run) joinRoom(ctx context.Context, roomID string, members []*member) error {
	frame, err := client.EncodeJoinRoom(roomID)
	if err != nil {
		return err
	}
	started := time.Now()
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(r.options.DialConcurrency)
	for _, m := range members {
		group.Go(func() error {
			if err := r.writeSetup(groupCtx, m, frame); err != nil {
				return fmt.Errorf("join room %s as %s: %w", roomID, m.userID, err)
			}
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return err
	}
	joined := func() int {
		count := 0
		for _, m := range members {
			if m.joined.Load() {
				count++
			}
		}
		return count
	}
	if err := r.waitFor(ctx, func() bool { return joined() == len(members) }); err != nil {
		return fmt.Errorf("join room %s: %d of %d joins confirmed within -warmup %s (%s): %w",
			roomID, joined(), len(members), r.options.Warmup, r.errorSummary(), err)
	}
	r.logger.Info("joined room", "room", roomID, "members", len(members),
		"elapsed", time.Since(started).Round(time.Millisecond))
	return nil
}

// waitFor polls ready every 20 ms until it returns true, the warm-up bound
// passes or ctx ends.
func (r *run) waitFor(ctx context.Context, ready func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, r.options.Warmup)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
