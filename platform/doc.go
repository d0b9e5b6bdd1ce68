// Package platform holds the few pieces every PerOXO service shares: loading
// settings from the environment, logging, the operational HTTP endpoints and
// process life cycle. Its sub-packages carry no business logic.
package platform
