package router

import (
	"context"
	"strconv"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

type registerRequest struct {
	client Client
	reply  chan error
}

type unregisterRequest struct {
	client Client
}

// Register adds a session. It returns [ErrTooManySessions] when the user
// already holds Settings.SessionsPerUser sessions on this node. The user's
// first session subscribes the node to the user's messages, marks the user
// online and queues Presence for the project's local sessions.
func (r *Router) Register(ctx context.Context, client Client) error {
	reply := make(chan error, 1)
	if err := r.submit(ctx, registerRequest{client: client, reply: reply}); err != nil {
		return err
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stopped:
		return ErrStopped
	}
}

// Unregister removes a session and its room memberships. It waits only
// for room in the inbox, never for the router's work.
func (r *Router) Unregister(client Client) {
	select {
	case r.inbox <- unregisterRequest{client: client}:
	case <-r.stopped:
	}
}

func (r *Router) register(client Client) error {
	key := userKey{client.Project(), client.User()}
	state := r.users[key]
	if state != nil && len(state.clients) >= r.settings.SessionsPerUser {
		return ErrTooManySessions
	}
	r.clients[client] = &clientState{rooms: make(map[string]struct{})}
	r.projectSessions[key.project]++
	if state != nil {
		state.clients[client] = struct{}{}
		return nil
	}
	state = &userState{user: key.user, clients: map[Client]struct{}{client: {}}}
	r.users[key] = state
	project := r.projectUsers[key.project]
	if project == nil {
		project = make(map[string]*userState)
		r.projectUsers[key.project] = project
	}
	project[key.user] = state
	if err := r.bus.SubscribeUser(key.project, key.user); err != nil {
		r.logger.Error("subscribe to user failed; messages from other nodes "+
			"will not reach this user live", "err", err,
			"project", key.project, "user", key.user)
	}
	r.bus.SetOnline(key.project, key.user, true)
	r.presenceChanged(key.project, key.user, wire.StatusOnline)
	return nil
}

func (r *Router) unregister(client Client) {
	state, ok := r.clients[client]
	if !ok {
		return
	}
	for roomID := range state.rooms {
		r.leave(client, roomID, false)
	}
	delete(r.clients, client)
	key := userKey{client.Project(), client.User()}
	if r.projectSessions[key.project]--; r.projectSessions[key.project] == 0 {
		delete(r.projectSessions, key.project)
	}
	user := r.users[key]
	delete(user.clients, client)
	if len(user.clients) > 0 {
		return
	}
	delete(r.users, key)
	project := r.projectUsers[key.project]
	delete(project, key.user)
	if len(project) == 0 {
		delete(r.projectUsers, key.project)
	}
	if err := r.bus.UnsubscribeUser(key.project, key.user); err != nil {
		r.logger.Warn("unsubscribe from user failed", "err", err,
			"project", key.project, "user", key.user)
	}
	r.bus.SetOnline(key.project, key.user, false)
	r.presenceChanged(key.project, key.user, wire.StatusOffline)
}

// localClients calls visit for every local session of the user.
func (r *Router) localClients(project, user string, visit func(Client)) {
	state := r.users[userKey{project, user}]
	if state == nil {
		return
	}
	for client := range state.clients {
		visit(client)
	}
}

func codeLabel(code wire.Code) string {
	return strconv.Itoa(int(code))
}
