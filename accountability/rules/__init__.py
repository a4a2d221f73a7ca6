"""Pure domain rules (no database writes): validation and derived reports shared by services and forms."""
