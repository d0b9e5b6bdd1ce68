package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/payload"
	"github.com/peroxo/peroxo/bench/internal/provision"
	"github.com/peroxo/peroxo/bench/internal/report"
)

// probeInterval is how often a warm-up probe is resent until it arrives.
const probeInterval = 250 * time.Millisecond

// runDM connects Pairs pairs of users, pair i in tenant i mod Tenants. Each
// user sends DMs to the other at Rate messages per second over all users. It measures delivery latency at
// the recipient and Persisted ack latency at the sender, both from the
// message's due time.
func (r *run) runDM(ctx context.Context) (*report.Report, error) {
	users := r.userIDs("u", 2*r.options.Pairs)
	members := make([]*member, len(users))
	for i, userID := range users {
		members[i] = newMember(i, userID, i, true)
		members[i].tenant = (i / 2) % len(r.tenants)
	}
	if err := r.openMembers(ctx, members); err != nil {
		return nil, err
	}
	defer func() {
		r.closeMembers(members)
		r.waitReaders()
	}()
	conversations, err := r.conversations(ctx, members)
	if err != nil {
		return nil, err
	}
	if err := r.warmUpDM(ctx, members, conversations); err != nil {
		return nil, err
	}
	plan, err := r.startPlan(len(members))
	if err != nil {
		return nil, err
	}
	r.sendAll(ctx, plan, members, func(sender *member) frameBuilder {
		partner := members[sender.index^1]
		conversation := conversations[sender.index/2]
		return func(seq int64, content string) ([]byte, error) {
			return client.EncodeDirectMessage(client.SendDirectMessage{
				ConversationID: conversation,
				To:             r.userRef(partner),
				Content:        content,
				ClientMessageID: payload.ClientMessageID(
					r.id, payload.KindMessage, sender.sender, seq),
			})
		}
	})
	r.drain(ctx, func() bool {
		t := sum(members)
		sent := r.sent.Load()
		return t.delivered >= sent && t.acksPersisted+t.acksFailed >= sent
	})

	rep := r.baseReport(len(members))
	r.trafficReport(rep, plan, members, r.sent.Load())
	r.ackReport(rep, members)
	return rep, nil
}

// conversations returns the conversation id of each pair (members 2i and
// 2i+1) from the gateway.
func (r *run) conversations(ctx context.Context, members []*member) ([]string, error) {
	pairs := make([]provision.Pair, len(members)/2)
	for i := range pairs {
		pairs[i] = provision.Pair{
			ProjectID:  r.tenants[members[2*i].tenant].ProjectID,
			First:      members[2*i].userID,
			Second:     members[2*i+1].userID,
			FirstToken: members[2*i].token,
		}
	}
	return r.api.ConversationIDs(ctx, pairs)
}

// userRef names m as the "to" field of a DM.
func (r *run) userRef(m *member) client.UserRef {
	return client.UserRef{ProjectID: r.tenants[m.tenant].ProjectID, UserID: m.userID}
}

// warmUpDM has every user send probe DMs to its partner until the partner
// received one, so measured messages never race a session's registration.
func (r *run) warmUpDM(ctx context.Context, members []*member, conversations []string) error {
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.options.Warmup)
	defer cancel()
	var wg sync.WaitGroup
	for _, sender := range members {
		partner := members[sender.index^1]
		wg.Go(func() {
			content := string(payload.AppendContent(nil, payload.Content{
				Run: r.id, Kind: payload.KindProbe, Sender: sender.sender,
			}, 0))
			resend := time.NewTicker(probeInterval)
			defer resend.Stop()
			for attempt := int64(0); ; attempt++ {
				frame, err := client.EncodeDirectMessage(client.SendDirectMessage{
					ConversationID:  conversations[sender.index/2],
					To:              r.userRef(partner),
					Content:         content,
					ClientMessageID: payload.ClientMessageID(r.id, payload.KindProbe, sender.sender, attempt),
				})
				if err == nil {
					_ = sender.conn.Write(ctx, frame)
				}
				select {
				case <-partner.firstProbe:
					return
				case <-resend.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	ready := 0
	for _, m := range members {
		if m.probes.Load() > 0 {
			ready++
		}
	}
	if ready < len(members) {
		return fmt.Errorf("warm up: %d of %d users received a probe DM within -warmup %s; "+
			"%s", ready, len(members), r.options.Warmup, r.errorSummary())
	}
	r.logger.Info("warmed up", "users", len(members), "elapsed", time.Since(started).Round(time.Millisecond))
	return nil
}
