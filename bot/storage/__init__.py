"""Where users' positions and answers live: a small protocol, SQLite and in-memory stores."""
