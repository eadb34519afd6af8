"""Turning engine results into figure panels (uint8 RGB arrays) and PNG files; shared by the CLI and the app."""
