"""/export: everything stored about the person, as a JSON file, with a summary in words.
It reads the store's export, which covers every table about a person (found from the
schema), every tool's records included."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bot.dialog.registry import FactContext, Registry
from bot.formats import whole

# The kinds of record the summary names (texts export_<kind>); any other kind is
# export_other ("<kind> entries").
RECORDS = ("urge", "checkin", "abc", "cba", "goal", "goal_progress", "lapse", "win", "values",
           "vaci", "change_plan", "safety_plan", "barrier")
OTHER = ("answers", "reminders", "followups")  # tables, texts export_<table>
TEXTS: dict[str, tuple[str, ...]] = {
    **{f"export_{name}": () for name in (*RECORDS, *OTHER)}, "export_other": ("kind",)}


def register(reg: Registry) -> None:
    reg.needs_texts(**TEXTS)

    def export_document(ctx: FactContext) -> tuple[str, bytes]:
        tables = ctx.store.export(ctx.user_id)
        records: dict[str, list[dict[str, Any]]] = {}
        for row in tables.pop("records", []):  # by kind, as the person thinks of them
            records.setdefault(str(row["kind"]), []).append(
                {"at": row["at"], **({"key": row["key"]} if row["key"] else {}),
                 **(row["data"] if isinstance(row["data"], dict) else {"data": row["data"]})})
        data = {"exported_at": ctx.now.isoformat(timespec="seconds"),
                "user_id": ctx.user_id, "records": records, **tables}
        return "smart-coach-data.json", json.dumps(data, indent=2, default=str).encode()

    def export_summary(ctx: FactContext) -> str:
        data = ctx.store.export(ctx.user_id)
        kinds = Counter(str(row["kind"]) for row in data.get("records", []))
        def named(kind: str) -> str:
            return ctx.text(f"export_{kind}") if kind in RECORDS else \
                ctx.text("export_other", kind=kind.replace("_", " "))
        counts = [(ctx.text(f"export_{table}"), len(data.get(table, []))) for table in OTHER]
        counts += [(named(kind), count) for kind, count in sorted(kinds.items())]
        lines = [f"• {label}: {whole(count, ctx.locale)}" for label, count in counts]
        return "\n".join(lines)

    reg.documents["export"] = export_document
    reg.facts["export_summary"] = export_summary
