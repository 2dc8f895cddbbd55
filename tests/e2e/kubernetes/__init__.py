"""End-to-end tests of Argosy on a real Kubernetes cluster (run only with ARGOSY_E2E_KUBECONFIG set)."""
