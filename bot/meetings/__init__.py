"""Meeting lists: loading them (Meeting Guide JSON, or our CSV/YAML), finding the nearest,
and when each next takes place."""
