"""REST API of the assessors (mounted under /api/v1/ai-accountability/ by icdev.urls)."""
