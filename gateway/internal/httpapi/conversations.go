package httpapi

import (
	"net/http"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// ConversationsHandler serves GET /conversations?project_id&user_id_1&user_id_2,
// which returns {"conversation_id":"<uuid>"}, the derived id of the pair.
// The caller's token must belong to that project and to one of the users.
type ConversationsHandler struct {
	Verifier Verifier
}

// ServeHTTP answers one request.
func (h ConversationsHandler) ServeHTTP(writer http.ResponseWriter, request *http.Request) {
	identity, ok := authenticate(writer, request, h.Verifier)
	if !ok {
		return
	}
	query := request.URL.Query()
	project := query.Get("project_id")
	first, second := query.Get("user_id_1"), query.Get("user_id_2")
	for field, value := range map[string]string{
		"project_id": project, "user_id_1": first, "user_id_2": second,
	} {
		if err := wire.CheckID(field, value); err != nil {
			writeError(writer, http.StatusBadRequest, err.Error())
			return
		}
	}
	if project != identity.ProjectID {
		writeError(writer, http.StatusForbidden, "project_id is not the project of your token")
		return
	}
	if identity.UserID != first && identity.UserID != second {
		writeError(writer, http.StatusForbidden,
			"your user id must be user_id_1 or user_id_2")
		return
	}
	writeJSON(writer, http.StatusOK, map[string]string{
		"conversation_id": conversation.ID(project, first, second),
	})
}
