// Package room runs one actor per active room. The room goroutine owns the
// room's local member set and fans each pre-encoded frame out to them, so
// the router never loops over members itself.
package room

import (
	"context"
	"sync"
)

// Member is a local session in a room.
type Member interface {
	// Send queues frame for the member without blocking. It returns false
	// when the member's queue is full, in which case the member closes
	// itself as a slow consumer.
	Send(frame []byte) bool
}

type commandKind int

const (
	commandJoin commandKind = iota
	commandLeave
	commandPublish
)

type command struct {
	kind   commandKind
	member Member
	frame  []byte
}

// Room is the actor of one room on this node. Only the goroutine in Run
// touches the member set. Join, Leave and Publish are safe for concurrent
// use; they wait while the room's inbox is full and return false once the
// room has stopped.
type Room struct {
	inbox     chan command
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	members   map[Member]struct{}
}

// New returns a room whose inbox holds up to inboxLength commands. Call Run
// to start it.
func New(inboxLength int) *Room {
	return &Room{
		inbox:   make(chan command, inboxLength),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		members: make(map[Member]struct{}),
	}
}

// Run serves the room until ctx ends or Close is called. It returns nil
// after Close and ctx.Err() otherwise.
func (r *Room) Run(ctx context.Context) error {
	defer close(r.stopped)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stop:
			return nil
		case cmd := <-r.inbox:
			r.handle(cmd)
		}
	}
}

func (r *Room) handle(cmd command) {
	switch cmd.kind {
	case commandJoin:
		r.members[cmd.member] = struct{}{}
	case commandLeave:
		delete(r.members, cmd.member)
	case commandPublish:
		for member := range r.members {
			if member != cmd.member {
				member.Send(cmd.frame)
			}
		}
	}
}

// Join adds member to the room.
func (r *Room) Join(member Member) bool {
	return r.submit(command{kind: commandJoin, member: member})
}

// Leave removes member from the room.
func (r *Room) Leave(member Member) bool {
	return r.submit(command{kind: commandLeave, member: member})
}

// Publish sends frame to every member except sender, which may be nil.
// The frame is encoded once by the caller and shared, so members must not
// modify it.
func (r *Room) Publish(frame []byte, sender Member) bool {
	return r.submit(command{kind: commandPublish, member: sender, frame: frame})
}

func (r *Room) submit(cmd command) bool {
	select {
	case <-r.stop:
		return false
	default:
	}
	select {
	case r.inbox <- cmd:
		return true
	case <-r.stopped:
		return false
	case <-r.stop:
		return false
	}
}

// Close stops the room. It is idempotent and does not wait for Run to
// return; Done does.
func (r *Room) Close() error {
	r.closeOnce.Do(func() { close(r.stop) })
	return nil
}

// Done is closed when Run has returned.
func (r *Room) Done() <-chan struct{} {
	return r.stopped
}
