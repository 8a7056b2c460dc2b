"""/export: everything stored about the person, as a JSON file, with a summary in words.
It reads the store's export, which covers every table about a person (found from the
schema), every tool's records included."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bot.dialog.registry import FactContext, Registry

# How the summary names a tool's records; any other kind is "<kind> entries".
RECORDS = {"urge": "urges logged", "checkin": "check-ins", "abc": "ABC entries",
           "cba": "cost-benefit analyses", "goal": "goals", "goal_progress": "goal updates",
           "lapse": "lapses looked back on", "win": "wins noted", "values": "values lists",
           "vaci": "values-and-interests lists", "change_plan": "change plans",
           "safety_plan": "safety plans", "barrier": "practical barriers"}
OTHER = {"answers": "answers", "reminders": "daily check-in times",
         "followups": "follow-ups waiting"}


def register(reg: Registry) -> None:
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
        lines = [f"• {label}: {len(data.get(table, []))}" for table, label in OTHER.items()]
        lines += [f"• {RECORDS.get(kind, kind.replace('_', ' ') + ' entries')}: {count}"
                  for kind, count in sorted(kinds.items())]
        return "\n".join(lines)

    reg.documents["export"] = export_document
    reg.facts["export_summary"] = export_summary
