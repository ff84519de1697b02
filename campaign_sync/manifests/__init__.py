"""What users write: campaign-sync.yaml, the manifests (safe YAML, templates), their models."""
