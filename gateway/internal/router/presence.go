package router

import (
	"github.com/peroxo/peroxo/gateway/internal/wire"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// presenceChangesPerFlush is the max Presence frames one session gets per
// flush. Further changes wait for later flushes, so a connect storm cannot
// fill a session's queue with Presence frames.
const presenceChangesPerFlush = 32

// presenceChanged records that user of project changed status. Only the
// latest status per user is kept until the next flush, which is at once
// when Settings.PresenceBatchInterval is zero.
//
// NOTE: each node reports its own first and last session of a user, so a
// user with sessions on two nodes can produce repeated Online frames.
func (r *Router) presenceChanged(project, user, status string) {
	changes := r.presence[project]
	if changes == nil {
		changes = make(map[string]string)
		r.presence[project] = changes
	}
	changes[user] = status
	if r.settings.PresenceBatchInterval <= 0 {
		r.flushProjectPresence(project, changes)
		delete(r.presence, project)
	}
}

func (r *Router) deliverRemotePresence(event *eventsv1.PresenceEvent) {
	status := wire.StatusOffline
	if event.GetStatus() == eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE {
		status = wire.StatusOnline
	}
	r.presenceChanged(event.GetProjectId(), event.GetUserId(), status)
}

// flushPresence sends the recorded presence changes of every project.
func (r *Router) flushPresence() {
	for project, changes := range r.presence {
		r.flushProjectPresence(project, changes)
		if len(changes) == 0 {
			delete(r.presence, project)
		}
	}
}

// flushProjectPresence sends up to presenceChangesPerFlush of changes to
// the project's local sessions, other than the changed user's own, and
// removes the sent ones from changes. A project with more local sessions
// than Settings.PresenceFanoutMax gets no Presence frames, and every
// change is dropped.
func (r *Router) flushProjectPresence(project string, changes map[string]string) {
	users := r.projectUsers[project]
	if len(users) == 0 || r.projectSessions[project] > r.settings.PresenceFanoutMax {
		clear(changes)
		return
	}
	frames, sent := 0, 0
	for user, status := range changes {
		if sent == presenceChangesPerFlush {
			break
		}
		sent++
		delete(changes, user)
		frame := wire.MustEncode(wire.Presence{User: user, Status: status})
		for other, state := range users {
			if other == user {
				continue
			}
			for client := range state.clients {
				client.Send(frame)
				frames++
			}
		}
	}
	r.metrics.Messages.WithLabelValues("out", "Presence").Add(float64(frames))
}
