package natsbus

import (
	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/platform/eventlog"
)

// OptionsFromConfig returns the Bus options that the gateway settings
// select.
func OptionsFromConfig(cfg config.Config) Options {
	return Options{
		NodeID: cfg.NodeID,
		Stream: eventlog.StreamSettings{
			MaxAge:          cfg.StreamMaxAge,
			MaxBytes:        cfg.StreamMaxBytes,
			Replicas:        cfg.StreamReplicas,
			DuplicateWindow: cfg.StreamDuplicateWindow,
		},
		PublishTimeout:       cfg.PublishTimeout,
		PublishAttempts:      cfg.PublishAttempts,
		PublishMaxPending:    cfg.PublishMaxPending,
		LiveEventQueueLength: cfg.LiveEventQueueLength,
		PresenceTTL:          cfg.PresenceTTL,
		HeartbeatInterval:    cfg.HeartbeatInterval,
	}
}

// EmbeddedOptionsFromConfig returns the embedded NATS server options that
// the gateway settings select. The node id is the server name, which must
// be unique within a cluster.
func EmbeddedOptionsFromConfig(cfg config.Config) EmbeddedOptions {
	return EmbeddedOptions{
		ListenAddr:  cfg.NATSListenAddr,
		StoreDir:    cfg.DataDir,
		ServerName:  cfg.NodeID,
		ClusterName: cfg.NATSClusterName,
		ClusterAddr: cfg.NATSClusterAddr,
		Routes:      cfg.NATSRoutes,
	}
}
