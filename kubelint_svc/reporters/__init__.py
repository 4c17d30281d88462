"""Reporters: each formats a finished report; none decides anything."""
