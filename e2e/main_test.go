package e2e

import (
	"os"
	"testing"

	"github.com/peroxo/peroxo/platform/testenv/process"
)

// Packages of the service binaries the tests run.
const (
	chatsvcPackage  = "github.com/peroxo/peroxo/chatsvc/cmd/chatsvc"
	consumerPackage = "github.com/peroxo/peroxo/consumer/cmd/consumer"
	gatewayPackage  = "github.com/peroxo/peroxo/gateway/cmd/gateway"
)

func TestMain(m *testing.M) {
	os.Exit(process.RunTests(m))
}
