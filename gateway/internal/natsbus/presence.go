package natsbus

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/peroxo/peroxo/platform/eventlog"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// Presence travels on core NATS, outside the stream, because it is
// ephemeral:
//
//	presence.<project>.<user>              PresenceEvent when a user comes or goes
//	presence.heartbeat.<project>.<node>    NodeHeartbeat listing a node's users
//
// Tokens are encoded with [eventlog.EncodeToken]. The two kinds differ in
// their number of tokens, so a project called "heartbeat" cannot be mistaken
// for a heartbeat.
//
// Every node subscribes to presence.> and keeps a view of who is online on
// which node. A presence event adds or removes one (node, user) entry at
// once; each heartbeat refreshes the entries it lists. An entry that no
// heartbeat refreshed within PresenceTTL no longer counts, so the users of
// a node that crashed or lost NATS drop out within PresenceTTL, and a lost
// OFFLINE event heals itself the same way. OnlineUsers reads this view
// plus the local users, without a network round trip.
//
// The view is bounded: it holds one entry per online (node, user) pair of
// the cluster, and expired entries are removed every HeartbeatInterval.
// Heartbeats are split into messages of at most heartbeatChunk users, so
// their size stays far below the NATS payload limit. Request/reply queries
// were not chosen because each query would wait for the slowest or a dead
// node, and the number of nodes is not known in advance.
const (
	presenceRoot     = "presence"
	presenceSubjects = presenceRoot + ".>"
	heartbeatToken   = "heartbeat"
	heartbeatChunk   = 1000
	presenceTokens   = 3
	heartbeatTokens  = 4
)

func presenceSubject(project, user string) string {
	return presenceRoot + "." + eventlog.EncodeToken(project) + "." + eventlog.EncodeToken(user)
}

func heartbeatSubject(project, node string) string {
	return presenceRoot + "." + heartbeatToken + "." + eventlog.EncodeToken(project) + "." +
		eventlog.EncodeToken(node)
}

// SetOnline records whether user has local sessions in project and
// publishes a presence event when that changes. While online, the user is
// listed in this node's heartbeats. Publishing errors are logged, because
// the next heartbeat or the TTL corrects other nodes' views.
func (b *Bus) SetOnline(project, user string, online bool) {
	if !b.presence.setLocal(project, user, online) {
		return
	}
	b.publishPresence(project, user, online)
}

func (b *Bus) publishPresence(project, user string, online bool) {
	status := eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE
	if online {
		status = eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE
	}
	data, err := proto.Marshal(&eventsv1.PresenceEvent{
		ProjectId:  project,
		UserId:     user,
		Status:     status,
		OriginNode: b.options.NodeID,
	})
	if err == nil {
		err = b.conn.Publish(presenceSubject(project, user), data)
	}
	if err != nil {
		b.logger.Warn("publish presence failed", "project", project, "user", user, "err", err)
	}
}

// OnlineUsers returns the users of project that are online on any node,
// local ones included, sorted and without repeats.
func (b *Bus) OnlineUsers(ctx context.Context, project string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.presence.online(project, time.Now()), nil
}

func (b *Bus) sendHeartbeats() {
	now := time.Now().UnixMilli()
	for project, users := range b.presence.localSnapshot() {
		for chunk := range slices.Chunk(users, heartbeatChunk) {
			data, err := proto.Marshal(&eventsv1.NodeHeartbeat{
				OriginNode: b.options.NodeID,
				ProjectId:  project,
				UserIds:    chunk,
				SentAtMs:   now,
			})
			if err == nil {
				err = b.conn.Publish(heartbeatSubject(project, b.options.NodeID), data)
			}
			if err != nil {
				b.logger.Warn("publish heartbeat failed", "project", project, "err", err)
			}
		}
	}
}

func (b *Bus) expirePresence(now time.Time) {
	for _, event := range b.presence.expire(now) {
		if b.handlers.OnPresence != nil {
			b.handlers.OnPresence(event)
		}
	}
}

func (b *Bus) receivePresence(msg *nats.Msg) {
	tokens := strings.Split(msg.Subject, ".")
	now := time.Now()
	if len(tokens) == heartbeatTokens && tokens[1] == heartbeatToken {
		heartbeat := &eventsv1.NodeHeartbeat{}
		if err := proto.Unmarshal(msg.Data, heartbeat); err != nil {
			b.logger.Warn("dropped undecodable heartbeat", "subject", msg.Subject, "err", err)
			return
		}
		if heartbeat.GetOriginNode() != b.options.NodeID {
			b.presence.refresh(heartbeat.GetProjectId(), heartbeat.GetOriginNode(),
				heartbeat.GetUserIds(), now)
		}
		return
	}
	if len(tokens) != presenceTokens {
		return
	}
	event := &eventsv1.PresenceEvent{}
	if err := proto.Unmarshal(msg.Data, event); err != nil {
		b.logger.Warn("dropped undecodable presence event", "subject", msg.Subject, "err", err)
		return
	}
	if event.GetOriginNode() == b.options.NodeID {
		return
	}
	switch event.GetStatus() {
	case eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE:
		b.presence.refresh(event.GetProjectId(), event.GetOriginNode(),
			[]string{event.GetUserId()}, now)
	case eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE:
		b.presence.remove(event.GetProjectId(), event.GetOriginNode(), event.GetUserId())
	default:
		return
	}
	if b.handlers.OnPresence != nil {
		b.handlers.OnPresence(event)
	}
}

// presenceView is this node's copy of the cluster-wide presence. Its
// mutex guards both maps, and no method calls out while holding it.
type presenceView struct {
	nodeID string
	ttl    time.Duration

	mu sync.Mutex
	// local holds the users with sessions on this node, by project.
	local map[string]map[string]struct{}
	// remote holds when each other node's user was last confirmed, by
	// project.
	remote map[string]map[nodeUser]time.Time
}

type nodeUser struct{ node, user string }

type projectUser struct{ project, user string }

func newPresenceView(nodeID string, ttl time.Duration) *presenceView {
	return &presenceView{
		nodeID: nodeID,
		ttl:    ttl,
		local:  make(map[string]map[string]struct{}),
		remote: make(map[string]map[nodeUser]time.Time),
	}
}

// setLocal records a local user's presence and reports whether it changed.
func (v *presenceView) setLocal(project, user string, online bool) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	users := v.local[project]
	_, was := users[user]
	if was == online {
		return false
	}
	if online {
		if users == nil {
			users = make(map[string]struct{})
			v.local[project] = users
		}
		users[user] = struct{}{}
		return true
	}
	delete(users, user)
	if len(users) == 0 {
		delete(v.local, project)
	}
	return true
}

// takeLocal removes and returns every local user.
func (v *presenceView) takeLocal() []projectUser {
	v.mu.Lock()
	defer v.mu.Unlock()
	var all []projectUser
	for project, users := range v.local {
		for user := range users {
			all = append(all, projectUser{project: project, user: user})
		}
	}
	clear(v.local)
	return all
}

func (v *presenceView) localSnapshot() map[string][]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	snapshot := make(map[string][]string, len(v.local))
	for project, users := range v.local {
		snapshot[project] = slices.Collect(maps.Keys(users))
	}
	return snapshot
}

func (v *presenceView) refresh(project, node string, users []string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	entries := v.remote[project]
	if entries == nil {
		entries = make(map[nodeUser]time.Time)
		v.remote[project] = entries
	}
	for _, user := range users {
		entries[nodeUser{node: node, user: user}] = now
	}
}

func (v *presenceView) remove(project, node, user string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.remote[project], nodeUser{node: node, user: user})
	if len(v.remote[project]) == 0 {
		delete(v.remote, project)
	}
}

func (v *presenceView) online(project string, now time.Time) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	seen := make(map[string]struct{}, len(v.local[project]))
	for user := range v.local[project] {
		seen[user] = struct{}{}
	}
	for entry, lastSeen := range v.remote[project] {
		if now.Sub(lastSeen) < v.ttl {
			seen[entry.user] = struct{}{}
		}
	}
	users := slices.Collect(maps.Keys(seen))
	slices.Sort(users)
	return users
}

// expire removes the entries older than the TTL and returns an OFFLINE
// event for each removed user that is no longer online on any node.
func (v *presenceView) expire(now time.Time) []*eventsv1.PresenceEvent {
	v.mu.Lock()
	defer v.mu.Unlock()
	var offline []*eventsv1.PresenceEvent
	for project, entries := range v.remote {
		var expired []nodeUser
		for entry, lastSeen := range entries {
			if now.Sub(lastSeen) >= v.ttl {
				expired = append(expired, entry)
			}
		}
		if len(expired) == 0 {
			continue
		}
		for _, entry := range expired {
			delete(entries, entry)
		}
		remaining := make(map[string]struct{}, len(entries))
		for entry := range entries {
			remaining[entry.user] = struct{}{}
		}
		for _, entry := range expired {
			_, remote := remaining[entry.user]
			_, local := v.local[project][entry.user]
			if remote || local {
				continue
			}
			remaining[entry.user] = struct{}{} // one event per user
			offline = append(offline, &eventsv1.PresenceEvent{
				ProjectId:  project,
				UserId:     entry.user,
				Status:     eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE,
				OriginNode: entry.node,
			})
		}
		if len(entries) == 0 {
			delete(v.remote, project)
		}
	}
	return offline
}
