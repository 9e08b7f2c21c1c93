"""dorisbk: a Doris-compatible backup and restore server."""
