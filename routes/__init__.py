"""The HTTP API: one blueprint per resource, errors mapped to JSON in one place."""
