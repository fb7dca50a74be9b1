"""Policies that act in the engagement environment through one ``predict`` interface."""
