"""Repositories: one per kind of stored thing, each method one transaction."""
