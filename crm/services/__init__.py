"""Business rules shared by the JSON API, the web UI and the CLI. Nothing here knows about HTTP."""
