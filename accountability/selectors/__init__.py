"""Selectors: every read of governance data, scoped to what the actor may see."""
