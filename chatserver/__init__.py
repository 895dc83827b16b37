"""Chatserver: a live-chat support hub that turns unresolved conversations into tracked complaints."""

__version__ = "0.1.0"
