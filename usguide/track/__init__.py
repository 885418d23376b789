"""Temporal tracking of the needle and trajectory geometry."""
