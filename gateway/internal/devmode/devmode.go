// Package devmode gives a development gateway a demo project and a token
// endpoint, so a browser can chat without a tenant backend. It is only
// wired when PEROXO_GATEWAY_DEV_MODE is true.
package devmode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/peroxo/peroxo/gateway/internal/wire"
	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// ProjectFile is the name of the file under the data directory that holds
// the demo project and its secret API key.
const ProjectFile = "dev-project.json"

// Project is the demo project's credentials.
type Project struct {
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

// Demo creates or loads the demo project and serves POST /dev/token. Its
// project is set once by Run and read by request handlers.
type Demo struct {
	client     authv1connect.AuthServiceClient
	adminToken string
	path       string
	logger     *slog.Logger
	project    atomic.Pointer[Project]
}

// New returns a Demo that stores its project under dataDir.
func New(client authv1connect.AuthServiceClient, adminToken, dataDir string,
	logger *slog.Logger) *Demo {
	return &Demo{
		client:     client,
		adminToken: adminToken,
		path:       filepath.Join(dataDir, ProjectFile),
		logger:     logger.With("component", "devmode"),
	}
}

// Run loads the demo project from its file or creates it through the auth
// service's CreateTenant, retrying with backoff (0.5 s doubling up to
// 10 s) while the auth service is not up. It returns nil once the project
// is ready or when ctx ends.
func (d *Demo) Run(ctx context.Context) error {
	project, err := d.load()
	if err != nil {
		return err
	}
	delay := 500 * time.Millisecond
	for project == nil {
		project, err = d.create(ctx)
		if err == nil {
			break
		}
		d.logger.Warn("creating the demo project failed; retrying", "err", err,
			"retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
	d.project.Store(project)
	d.logger.Info("demo project ready", "project", project.ProjectID)
	return nil
}

func (d *Demo) load() (*Project, error) {
	data, err := os.ReadFile(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read demo project: %w", err)
	}
	var project Project
	if err := json.Unmarshal(data, &project); err != nil || project.ProjectID == "" ||
		project.SecretAPIKey == "" {
		return nil, fmt.Errorf("read demo project %s: invalid content; delete the file "+
			"to create a new project", d.path)
	}
	return &project, nil
}

func (d *Demo) create(ctx context.Context) (*Project, error) {
	request := connect.NewRequest(&authv1.CreateTenantRequest{Name: "demo"})
	request.Header().Set("Authorization", "Bearer "+d.adminToken)
	response, err := d.client.CreateTenant(ctx, request)
	if err != nil {
		return nil, fmt.Errorf("create demo tenant: %w", err)
	}
	project := &Project{
		ProjectID:    response.Msg.GetProjectId(),
		SecretAPIKey: response.Msg.GetSecretApiKey(),
	}
	data, err := json.Marshal(project)
	if err != nil {
		return nil, fmt.Errorf("encode demo project: %w", err)
	}
	temporary := d.path + ".tmp"
	if err := os.WriteFile(temporary, data, 0o600); err != nil {
		return nil, fmt.Errorf("write demo project: %w", err)
	}
	if err := os.Rename(temporary, d.path); err != nil {
		return nil, fmt.Errorf("write demo project: %w", err)
	}
	return project, nil
}

// ServeHTTP serves POST /dev/token {"user_id":"..."}, which returns
// {"user_token","project_id","expires_at"} with expires_at in ms.
func (d *Demo) ServeHTTP(writer http.ResponseWriter, request *http.Request) {
	project := d.project.Load()
	if project == nil {
		writeJSON(writer, http.StatusServiceUnavailable,
			map[string]string{"error": "the demo project is not ready yet; retry"})
		return
	}
	var body struct {
		UserID string `json:"user_id"`
	}
	decoder := json.NewDecoder(http.MaxBytesReader(writer, request.Body, 4096))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&body); err != nil {
		writeJSON(writer, http.StatusBadRequest,
			map[string]string{"error": `body must be {"user_id":"..."}`})
		return
	}
	if err := wire.CheckID("user_id", body.UserID); err != nil {
		writeJSON(writer, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	response, err := d.client.IssueUserToken(request.Context(),
		connect.NewRequest(&authv1.IssueUserTokenRequest{
			ProjectId:    project.ProjectID,
			UserId:       body.UserID,
			SecretApiKey: project.SecretAPIKey,
		}))
	if err != nil {
		d.logger.Warn("issuing a demo token failed", "err", err, "user", body.UserID)
		writeJSON(writer, http.StatusServiceUnavailable,
			map[string]string{"error": "the auth service did not issue a token; retry"})
		return
	}
	writeJSON(writer, http.StatusOK, map[string]any{
		"user_token": response.Msg.GetUserToken(),
		"project_id": project.ProjectID,
		"expires_at": response.Msg.GetExpiresAt().AsTime().UnixMilli(),
	})
}

func writeJSON(writer http.ResponseWriter, status int, value any) {
	writer.Header().Set("Content-Type", "application/json")
	writer.WriteHeader(status)
	encoder := json.NewEncoder(writer)
	encoder.SetEscapeHTML(false)
	_ = encoder.Encode(value)
}
