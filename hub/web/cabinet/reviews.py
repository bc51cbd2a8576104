"""Placeholder: filled in this session (see /work/notes/COMMON.md)."""
