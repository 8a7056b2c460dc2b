"""Audit the installed dependencies for known vulnerabilities with pip-audit.

    python .ci/audit.py VENV

Fails on any known vulnerability. pip-audit itself exits 0 when it could look nothing up
(it reports each package as "not found"), which would read as a clean audit; so this
counts what was really checked and says plainly when the advisory service was out of
reach (as in a sandbox without PyPI's JSON API) instead of passing in silence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    venv = Path(sys.argv[1])
    site = next(venv.glob("lib/python3*/site-packages"))
    result = subprocess.run([sys.executable, "-m", "pip_audit", "--path", str(site),
                             "--skip-editable", "-f", "json", "--progress-spinner", "off"],
                            capture_output=True, text=True)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"dependency audit: pip-audit failed:\n{result.stderr}", file=sys.stderr)
        return 1
    deps = report["dependencies"]
    checked = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in checked if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"dependency audit: {dep['name']} {dep['version']}: {ids}")
    if vulnerable:
        return 1
    if not checked:
        print(f"dependency audit: NOT DONE - none of {len(deps)} packages could be looked up "
              f"(no advisory service reachable from here); run it where PyPI is reachable")
        return 0
    print(f"dependency audit: {len(checked)} packages checked, no known vulnerabilities"
          f" ({len(deps) - len(checked)} could not be looked up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
