"""Use cases shared by the web blueprints, the API, the CLI and the worker store."""
