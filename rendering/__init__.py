"""Rendering shared by notifications, reports, the CLI and the portal: one template environment, French
formats, and the rows (obligations, timeline) every output builds on."""
