package api

import (
	"context"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/rs/cors"

	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// minCompressBytes is the smallest RPC reply that is compressed.
const minCompressBytes = 4 << 10

// Register mounts on mux the JSON endpoints, the Connect service (which
// also serves gRPC and gRPC-Web) and the gRPC health service, whose status
// follows ready. interceptors wrap every RPC.
func (s *Service) Register(
	mux *http.ServeMux,
	ready func(ctx context.Context) error,
	interceptors ...connect.Interceptor,
) {
	mux.HandleFunc("GET /generate-tenant", s.serveGenerateTenant)
	mux.HandleFunc("POST /generate-user-token", s.serveGenerateUserToken)
	mux.HandleFunc("POST /verify-user-token", s.serveVerifyUserToken)

	options := connect.WithHandlerOptions(
		connect.WithInterceptors(interceptors...),
		// Replies are a few hundred bytes; compressing them costs more CPU
		// (a gzip writer per call) than it saves on the wire.
		connect.WithCompressMinBytes(minCompressBytes),
		// The same cap as the JSON routes: no valid request comes close, and
		// an unbounded body would let anyone exhaust the service's memory.
		connect.WithReadMaxBytes(MaxBodyBytes),
	)
	mux.Handle(authv1connect.NewAuthServiceHandler(connectService{service: s}, options))
	mux.Handle(grpchealth.NewHandler(healthChecker{ready: ready}, options))
}

// healthChecker serves grpc.health.v1. It reports SERVING for the whole
// server ("") and for AuthService while ready succeeds, else NOT_SERVING.
type healthChecker struct {
	ready func(ctx context.Context) error
}

func (h healthChecker) Check(
	ctx context.Context,
	request *grpchealth.CheckRequest,
) (*grpchealth.CheckResponse, error) {
	if request.Service != "" && request.Service != authv1connect.AuthServiceName {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	if h.ready(ctx) != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}

// WithCORS lets browsers on origins call handler and handles preflight
// requests itself. With no origins it returns handler unchanged, so no
// cross-origin request is allowed.
func WithCORS(handler http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return handler
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{
			"Authorization", "Content-Type",
			// Connect and gRPC-Web request headers.
			"Connect-Protocol-Version", "Connect-Timeout-Ms", "X-Grpc-Web", "X-User-Agent",
			"Grpc-Timeout",
		},
		ExposedHeaders: []string{
			"Retry-After", "Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin",
		},
		MaxAge: 7200,
	}).Handler(handler)
}

// Readiness returns one check that pings every backend in checks.
func Readiness(checks map[string]ops.ReadinessCheck) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, check := range checks {
			if err := check(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}
