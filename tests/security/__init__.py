"""Attacks on a real server: SQL, protocol and repository input from untrusted parties."""
