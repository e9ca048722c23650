"""The web portal: each person signs in and does their part in a browser. It adds screens, never rules: every
change goes through `models.door`, every read through `models.queries`."""
