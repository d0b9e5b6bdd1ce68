package api

import (
	"context"
	"errors"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// connectService adapts [Service] to the generated Connect interface.
type connectService struct {
	service *Service
}

var _ authv1connect.AuthServiceHandler = connectService{}

// CreateTenant reads the Authorization header like GET /generate-tenant.
func (c connectService) CreateTenant(
	ctx context.Context,
	request *connect.Request[authv1.CreateTenantRequest],
) (*connect.Response[authv1.CreateTenantResponse], error) {
	created, err := c.service.CreateTenant(ctx, request.Header().Get("Authorization"),
		request.Msg.GetName())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&authv1.CreateTenantResponse{
		ProjectId:    created.ProjectID,
		SecretApiKey: created.APIKey,
	}), nil
}

// IssueUserToken implements the RPC of the same name.
func (c connectService) IssueUserToken(
	ctx context.Context,
	request *connect.Request[authv1.IssueUserTokenRequest],
) (*connect.Response[authv1.IssueUserTokenResponse], error) {
	token, expiresAt, err := c.service.IssueUserToken(ctx, IssueRequest{
		UserID:       request.Msg.GetUserId(),
		ProjectID:    request.Msg.GetProjectId(),
		SecretAPIKey: request.Msg.GetSecretApiKey(),
	})
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&authv1.IssueUserTokenResponse{
		UserToken: token,
		ExpiresAt: timestamppb.New(expiresAt),
	}), nil
}

// VerifyUserToken implements the RPC of the same name.
func (c connectService) VerifyUserToken(
	ctx context.Context,
	request *connect.Request[authv1.VerifyUserTokenRequest],
) (*connect.Response[authv1.VerifyUserTokenResponse], error) {
	identity, err := c.service.VerifyUserToken(ctx, request.Msg.GetUserToken())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&authv1.VerifyUserTokenResponse{
		ProjectId: identity.ProjectID,
		UserId:    identity.UserID,
		ExpiresAt: timestamppb.New(identity.ExpiresAt),
	}), nil
}

// connectError turns an *Error into a Connect error whose message starts
// with the field at fault. A rate-limit error carries Retry-After in
// seconds, as in the HTTP response.
func connectError(err error) error {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		return connect.NewError(connect.CodeInternal, errors.New("internal error"))
	}
	connectErr := connect.NewError(apiErr.Code, errors.New(apiErr.Error()))
	if apiErr.RetryAfter > 0 {
		connectErr.Meta().Set("Retry-After",
			strconv.FormatInt(retryAfterSeconds(apiErr.RetryAfter), 10))
	}
	return connectErr
}
