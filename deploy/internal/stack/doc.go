// Package stack reads the deployment files of the repository (the
// docker-compose.yaml stack, the service Dockerfile, the Prometheus
// configuration and the Grafana dashboards) and the settings each service
// reads, so that tests can check the files against each other and against
// the code without a Docker engine.
package stack
