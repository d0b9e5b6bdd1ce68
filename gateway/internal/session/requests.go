package session

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// dispatch hands a decoded request to the router or, for requests that
// call other services, to a goroutine of its own. It returns an error only
// when the router has stopped.
func (s *Session) dispatch(ctx context.Context, request wire.Request, received time.Time) error {
	router := s.deps.Router
	switch request := request.(type) {
	case wire.SendDirectMessage:
		return router.SendDirect(ctx, s, request, received)
	case wire.RoomMessage:
		return router.SendRoom(ctx, s, request, received)
	case wire.JoinRoom:
		return router.JoinRoom(ctx, s, request.RoomID)
	case wire.LeaveRoom:
		return router.LeaveRoom(ctx, s, request.RoomID)
	case wire.GetOnlineUsers:
		s.goRequest(ctx, request, s.onlineUsers)
	case wire.RefreshToken:
		s.goRequest(ctx, request, s.refreshToken)
	default:
		s.goRequest(ctx, request, s.history)
	}
	return nil
}

// goRequest runs handle off the read loop, at most MaxPendingRequests at a
// time per session, and queues its answer frame or Error frame.
func (s *Session) goRequest(ctx context.Context, request wire.Request,
	handle func(context.Context, wire.Request) ([]byte, error)) {
	select {
	case s.pending <- struct{}{}:
	default:
		s.sendError(wire.Error{Code: wire.CodeOverloaded, Request: request.Type(),
			Message: "too many requests in flight on this session; wait for answers"})
		return
	}
	s.requests.Go(func() {
		defer func() { <-s.pending }()
		requestCtx, cancel := context.WithTimeout(ctx, s.settings.RequestTimeout)
		defer cancel()
		frame, err := handle(requestCtx, request)
		if err != nil {
			var failure *wire.Error
			if !errors.As(err, &failure) {
				failure = &wire.Error{Code: wire.CodeInternal, Message: "internal error"}
				s.logger.Error("request failed", "err", err, "request", request.Type())
			}
			failure.Request = request.Type()
			s.sendError(*failure)
			return
		}
		s.Send(frame)
	})
}

func (s *Session) onlineUsers(ctx context.Context, _ wire.Request) ([]byte, error) {
	users, err := s.deps.Presence.OnlineUsers(ctx, s.identity.ProjectID)
	if err != nil {
		s.logger.Warn("online users query failed", "err", err)
		return nil, &wire.Error{Code: wire.CodePresenceUnavailable,
			Message: "presence is unavailable; retry later"}
	}
	if users == nil {
		users = []string{}
	}
	s.deps.Metrics.Messages.WithLabelValues("out", "OnlineUsers").Inc()
	return wire.MustEncode(wire.OnlineUsers{Users: users}), nil
}

func (s *Session) refreshToken(ctx context.Context, request wire.Request) ([]byte, error) {
	token := request.(wire.RefreshToken).Token
	identity, err := s.deps.Verifier.Verify(ctx, token)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		return nil, &wire.Error{Code: wire.CodeTokenInvalid,
			Message: "the new token is invalid or expired"}
	case err != nil:
		s.logger.Warn("token refresh failed", "err", err)
		return nil, &wire.Error{Code: wire.CodeAuthUnavailable,
			Message: "the auth service is unavailable; retry later"}
	case identity.ProjectID != s.identity.ProjectID || identity.UserID != s.identity.UserID:
		return nil, &wire.Error{Code: wire.CodeTokenMismatch,
			Message: "the new token belongs to another user or project"}
	}
	s.expiresAt.Store(identity.ExpiresAt.UnixNano())
	s.rearm.Store(true)
	s.wakeWriter()
	s.deps.Metrics.Messages.WithLabelValues("out", "TokenRefreshed").Inc()
	return wire.MustEncode(wire.TokenRefreshed{ExpiresAt: identity.ExpiresAt.UnixMilli()}), nil
}

func (s *Session) history(ctx context.Context, request wire.Request) ([]byte, error) {
	if roomRequest, ok := request.(wire.GetRoomHistory); ok {
		member, err := s.deps.Router.IsMember(ctx, s, roomRequest.RoomID)
		if err != nil {
			return nil, err
		}
		if !member {
			return nil, &wire.Error{Code: wire.CodeNotRoomMember,
				Message: "join the room before reading its history"}
		}
	}
	if s.deps.History == nil {
		return nil, &wire.Error{Code: wire.CodeHistoryUnavailable,
			Message: "history is not available on this gateway"}
	}
	return s.deps.History.Answer(ctx, s.identity.ProjectID, s.identity.UserID, request)
}

func codeLabel(code wire.Code) string {
	return strconv.Itoa(int(code))
}
