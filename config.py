"""SQLMesh project configuration (placeholder until the warehouse lands)."""
