"""REST API under /api/v1/ai-accountability/: input serializer -> service -> output serializer."""
