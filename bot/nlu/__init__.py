"""Understanding free text offline: crisis signs first, then what the person wants."""
