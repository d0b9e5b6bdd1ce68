package router

import (
	"context"
	"sort"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/room"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

type joinRequest struct {
	client Client
	room   string
}

type leaveRequest struct {
	client Client
	room   string
}

type roomMessageRequest struct {
	client   Client
	message  wire.RoomMessage
	received time.Time
}

type memberRequest struct {
	client Client
	room   string
	reply  chan bool
}

// JoinRoom adds client to a room of its project; the answer is RoomJoined
// or an Error frame on the client's queue. Joining a joined room answers
// RoomJoined again.
func (r *Router) JoinRoom(ctx context.Context, client Client, roomID string) error {
	return r.submit(ctx, joinRequest{client: client, room: roomID})
}

// LeaveRoom removes client from a room; the answer is RoomLeft or an Error
// frame.
func (r *Router) LeaveRoom(ctx context.Context, client Client, roomID string) error {
	return r.submit(ctx, leaveRequest{client: client, room: roomID})
}

// SendRoom routes a validated RoomMessage from client.
func (r *Router) SendRoom(ctx context.Context, client Client, message wire.RoomMessage,
	received time.Time) error {
	return r.submit(ctx, roomMessageRequest{client: client, message: message,
		received: received})
}

// IsMember reports whether client has joined the room.
func (r *Router) IsMember(ctx context.Context, client Client, roomID string) (bool, error) {
	reply := make(chan bool, 1)
	if err := r.submit(ctx, memberRequest{client: client, room: roomID, reply: reply}); err != nil {
		return false, err
	}
	select {
	case member := <-reply:
		return member, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-r.stopped:
		return false, ErrStopped
	}
}

func (r *Router) join(ctx context.Context, client Client, roomID string) {
	state, ok := r.clients[client]
	if !ok {
		return
	}
	key := roomKey{client.Project(), roomID}
	if _, joined := state.rooms[roomID]; joined {
		r.sendRoomJoined(client, roomID, r.rooms[key])
		return
	}
	if len(state.rooms) >= r.settings.RoomsPerSession {
		r.sendError(client, wire.CodeTooManyRooms, wire.TypeJoinRoom, "",
			"this session has joined the maximum number of rooms; leave one first")
		return
	}
	current := r.rooms[key]
	if current != nil && len(current.members) >= r.settings.RoomMembersPerNode {
		r.sendError(client, wire.CodeRoomFull, wire.TypeJoinRoom, "",
			"the room has the maximum number of members on this gateway node")
		return
	}
	if current == nil {
		current = &roomState{
			actor:   room.New(r.settings.RoomInboxLength),
			members: make(map[Client]struct{}),
		}
		r.rooms[key] = current
		r.roomGroup.Go(func() { _ = current.actor.Run(ctx) })
		// NOTE: SubscribeRoom returns before the NATS server has the
		// subscription, so a message posted on another node in that moment
		// reaches this node's members only through room history.
		if err := r.bus.SubscribeRoom(key.project, key.room); err != nil {
			r.logger.Error("subscribe to room failed; messages from other nodes "+
				"will not reach this room live", "err", err,
				"project", key.project, "room", key.room)
		}
	}
	current.members[client] = struct{}{}
	current.actor.Join(client)
	state.rooms[roomID] = struct{}{}
	r.sendRoomJoined(client, roomID, current)
}

func (r *Router) sendRoomJoined(client Client, roomID string, state *roomState) {
	seen := make(map[string]struct{})
	members := make([]string, 0)
	for member := range state.members {
		if len(members) == wire.MaxListedMembers {
			break
		}
		if _, dup := seen[member.User()]; !dup {
			seen[member.User()] = struct{}{}
			members = append(members, member.User())
		}
	}
	sort.Strings(members)
	r.send(client, "RoomJoined",
		wire.MustEncode(wire.RoomJoined{RoomID: roomID, Members: members}))
}

// leave removes client from roomID and stops the room actor when its last
// local member leaves. reply selects whether client gets RoomLeft or an
// Error frame; a closing session gets neither.
func (r *Router) leave(client Client, roomID string, reply bool) {
	state, ok := r.clients[client]
	if !ok {
		return
	}
	if _, joined := state.rooms[roomID]; !joined {
		if reply {
			r.sendError(client, wire.CodeNotRoomMember, wire.TypeLeaveRoom, "",
				"you have not joined this room")
		}
		return
	}
	delete(state.rooms, roomID)
	key := roomKey{client.Project(), roomID}
	current := r.rooms[key]
	delete(current.members, client)
	current.actor.Leave(client)
	if len(current.members) == 0 {
		current.actor.Close()
		delete(r.rooms, key)
		if err := r.bus.UnsubscribeRoom(key.project, key.room); err != nil {
			r.logger.Warn("unsubscribe from room failed", "err", err,
				"project", key.project, "room", key.room)
		}
	}
	if reply {
		r.send(client, "RoomLeft", wire.MustEncode(wire.RoomLeft{RoomID: roomID}))
	}
}

func (r *Router) isMember(client Client, roomID string) bool {
	state, ok := r.clients[client]
	if !ok {
		return false
	}
	_, joined := state.rooms[roomID]
	return joined
}

func (r *Router) sendRoom(request roomMessageRequest) {
	client, message := request.client, request.message
	if message.From != client.User() {
		r.sendError(client, wire.CodeNotSender, wire.TypeRoomMessage, message.MessageID,
			"from must be your own user id")
		return
	}
	if !r.isMember(client, message.RoomID) {
		r.sendError(client, wire.CodeNotRoomMember, wire.TypeRoomMessage, message.MessageID,
			"join the room before posting to it")
		return
	}
	if r.resend(client, "room:"+message.MessageID) {
		return
	}
	now := r.now()
	event := &eventsv1.ChatEvent{
		OriginNode: r.settings.NodeID,
		Message: &chatv1.Message{
			ProjectId:       client.Project(),
			Kind:            chatv1.ChannelKind_CHANNEL_KIND_ROOM,
			ChannelId:       message.RoomID,
			MessageId:       newMessageID(),
			ClientMessageId: message.MessageID,
			SenderId:        client.User(),
			Content:         message.Content,
			TimestampMs:     now.UnixMilli(),
		},
	}
	r.remember(client, "room:"+message.MessageID, event, now)
	r.deliverRoom(event.Message, client)
	r.publish(client, event)
	r.metrics.ChatMessages.WithLabelValues("room").Inc()
	r.metrics.Processing.Observe(time.Since(request.received).Seconds())
}

// deliverRoom encodes a room message once and hands it to the room actor,
// which sends it to every local member except sender.
func (r *Router) deliverRoom(message *chatv1.Message, sender Client) {
	current := r.rooms[roomKey{message.GetProjectId(), message.GetChannelId()}]
	if current == nil {
		return
	}
	frame := wire.MustEncode(wire.RoomMessageFrame{
		RoomID:    message.GetChannelId(),
		From:      message.GetSenderId(),
		Content:   message.GetContent(),
		MessageID: message.GetMessageId(),
		Timestamp: message.GetTimestampMs(),
	})
	recipients := len(current.members)
	if sender != nil {
		recipients--
	}
	r.metrics.Messages.WithLabelValues("out", "RoomMessage").Add(float64(recipients))
	current.actor.Publish(frame, sender)
}

func (r *Router) deliverRemote(event *eventsv1.ChatEvent) {
	message := event.GetMessage()
	switch message.GetKind() {
	case chatv1.ChannelKind_CHANNEL_KIND_DIRECT:
		r.deliverDirect(message, nil)
	case chatv1.ChannelKind_CHANNEL_KIND_ROOM:
		r.deliverRoom(message, nil)
	}
}
